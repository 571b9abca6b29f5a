"""Variational autoencoders for one or several modalities sharing one latent space (tensors only).

Every modality is modelled in its standardised model space (beta values in logit space) with a
Gaussian likelihood of unit variance: for methylation that is a logit-normal likelihood on (0, 1).
"""

from __future__ import annotations

import torch
from torch import nn

from ..nn import MLPWithLinearPath
from ._base import OmixModule

#: Bounds of the encoders' log-variance: keeps exp() finite early in training.
LOGVAR_RANGE = (-8.0, 6.0)


class Encoder(nn.Module):
    """x -> (mean, log-variance) of the Gaussian posterior q(z | x)."""

    def __init__(self, n_input: int, n_latent: int, n_hidden: int, n_layers: int, dropout_rate: float, input_dropout: float, linear_path: bool):
        super().__init__()
        self.input_dropout = nn.Dropout(input_dropout)
        self.net = MLPWithLinearPath(n_input, 2 * n_latent, n_hidden, n_layers, dropout_rate=dropout_rate, linear_path=linear_path)
        self.n_latent = n_latent

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(self.input_dropout(x))
        return h[:, : self.n_latent], h[:, self.n_latent :].clamp(*LOGVAR_RANGE)


class Decoder(nn.Module):
    """z -> mean of p(x | z) in model space."""

    def __init__(self, n_latent: int, n_output: int, n_hidden: int, n_layers: int, dropout_rate: float, linear_path: bool):
        super().__init__()
        self.net = MLPWithLinearPath(n_latent, n_output, n_hidden, n_layers, dropout_rate=dropout_rate, linear_path=linear_path)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q || N(0, I)) per sample."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


class MultiVAEModule(OmixModule):
    """One encoder and one decoder per modality, one shared latent space.

    With one modality this is a plain VAE (:class:`~omixgan.models.OmicsVAE`); with several it is
    a cross-modal VAE (:class:`~omixgan.models.CrossModalVAE`) in the spirit of Yang et al. 2021:
    every present modality reconstructs itself and, for paired samples, every other modality from
    its own latent code, and the posteriors of paired modalities are pulled together.
    """

    def __init__(self, n_inputs: dict[str, int], *, n_latent: int, n_hidden: int, n_layers: int, dropout_rate: float, input_dropout: float, linear_path: bool):
        super().__init__()
        self.names = list(n_inputs)
        self.n_latent = n_latent
        self.encoders = nn.ModuleDict(
            {m: Encoder(d, n_latent, n_hidden, n_layers, dropout_rate, input_dropout, linear_path) for m, d in n_inputs.items()}
        )
        self.decoders = nn.ModuleDict({m: Decoder(n_latent, d, n_hidden, n_layers, dropout_rate, linear_path) for m, d in n_inputs.items()})

    def forward(
        self,
        xs: dict[str, torch.Tensor],
        present: dict[str, torch.Tensor],
        *,
        kl_weight: float,
        align_weight: float,
        cross_weight: float,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """Loss terms averaged over the batch.

        ``xs[m]``: the batch's rows of modality m (zeros where absent); ``present[m]``: 1.0 where the
        sample has modality m. Terms: ``reconstruction`` (self and cross, squared error / 2),
        ``kl`` and ``alignment`` (squared distance between the posterior means of paired
        modalities); ``loss`` is the weighted total.
        """
        posts = {m: self.encoders[m](xs[m]) for m in self.names}
        z = {}
        for m, (mu, logvar) in posts.items():
            eps = torch.randn(mu.shape, generator=generator, device=mu.device) if generator is not None else torch.randn_like(mu)
            z[m] = mu + eps * torch.exp(0.5 * logvar)
        n = next(iter(xs.values())).shape[0]
        zero = torch.zeros((), device=z[self.names[0]].device)
        rec, kl, align = zero, zero, zero
        for m in self.names:
            pm = present[m]
            kl = kl + (pm * gaussian_kl(*posts[m])).sum()
            for t in self.names:
                weight = pm * present[t] * (1.0 if m == t else cross_weight)
                if m != t and cross_weight == 0:
                    continue
                err = 0.5 * ((self.decoders[t](z[m]) - xs[t]) ** 2).sum(dim=1)
                rec = rec + (weight * err).sum()
                if m < t and align_weight > 0:
                    align = align + (pm * present[t] * ((posts[m][0] - posts[t][0]) ** 2).sum(dim=1)).sum()
        total = (rec + kl_weight * kl + align_weight * align) / n
        return {"loss": total, "reconstruction": rec / n, "kl": kl / n, "alignment": align / n}

    loss = forward

    def encode(self, modality: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoders[modality](x)

    def decode(self, modality: str, z: torch.Tensor) -> torch.Tensor:
        return self.decoders[modality](z)

    @torch.no_grad()
    def translate(self, source: str, target: str, x: torch.Tensor, *, n_samples: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``target`` from the posterior of ``source``: from its mean (``n_samples=0``) or
        from ``n_samples`` posterior draws, stacked on a new first axis."""
        mu, logvar = self.encode(source, x)
        if n_samples == 0:
            return self.decode(target, mu)
        std = torch.exp(0.5 * logvar)
        draws = [self.decode(target, mu + torch.randn(mu.shape, generator=generator).to(mu.device) * std) for _ in range(n_samples)]
        return torch.stack(draws)


class VAEEnsembleModule(OmixModule):
    """``n_models`` independently trained :class:`MultiVAEModule` members, plus optional linear
    (ridge) maps between modalities, blended into translations.

    Averaging a few members removes much of the seed-to-seed variance that dominates on small
    cohorts; the linear maps (fitted in closed form by the model class, stored as buffers so they
    are saved with the weights) carry the part of a translation that is linear.
    """

    def __init__(self, n_inputs: dict[str, int], *, n_models: int, **member_kwargs):
        super().__init__()
        self.names = list(n_inputs)
        self.n_inputs = dict(n_inputs)
        self.members = nn.ModuleList([MultiVAEModule(n_inputs, **member_kwargs) for _ in range(n_models)])
        self.n_latent = self.members[0].n_latent
        for s in self.names:
            for t in self.names:
                if s != t:
                    self.register_buffer(f"linear_{s}__{t}_weight", torch.zeros(n_inputs[s], n_inputs[t]))
                    self.register_buffer(f"linear_{s}__{t}_bias", torch.zeros(n_inputs[t]))

    def set_linear_map(self, source: str, target: str, weight: torch.Tensor, bias: torch.Tensor) -> None:
        getattr(self, f"linear_{source}__{target}_weight").copy_(weight)
        getattr(self, f"linear_{source}__{target}_bias").copy_(bias)

    def linear_map(self, source: str, target: str, x: torch.Tensor) -> torch.Tensor:
        return x @ getattr(self, f"linear_{source}__{target}_weight") + getattr(self, f"linear_{source}__{target}_bias")

    def reset_parameters(self, seed: int) -> None:
        """Members get their weights from ``seed``, ``seed + 1000``, ... so they differ."""
        for k, member in enumerate(self.members):
            member.reset_parameters(seed + 1000 * k)

    def encode(self, modality: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior of the first member: a latent space has to be one member's coordinates."""
        return self.members[0].encode(modality, x)

    def decode(self, modality: str, z: torch.Tensor) -> torch.Tensor:
        return self.members[0].decode(modality, z)

    @torch.no_grad()
    def translate(self, source: str, target: str, x: torch.Tensor, *, linear_blend: float, n_samples: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(1 - linear_blend) * mean over members + linear_blend * linear map``; with
        ``n_samples`` posterior draws per member, the draws of all members stacked on axis 0."""
        outs = [m.translate(source, target, x, n_samples=n_samples, generator=generator) for m in self.members]
        deep = torch.stack(outs).mean(dim=0) if n_samples == 0 else torch.cat(outs, dim=0)
        if linear_blend == 0:
            return deep
        return (1 - linear_blend) * deep + linear_blend * self.linear_map(source, target, x)
