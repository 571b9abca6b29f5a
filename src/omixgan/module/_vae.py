"""Variational autoencoders for one or several modalities sharing one latent space (tensors only).

Every modality is modelled in its standardised model space (beta values in logit space). What a
decoder's output means and how it is scored is one small likelihood class per data type
(:data:`LIKELIHOODS`): today a Gaussian of unit variance for every type, which for methylation in
logit space is a logit-normal likelihood on (0, 1). A count likelihood (negative binomial) is a
new class there plus its entry, nothing else.

Several modalities' posteriors are combined by a product of experts with the prior N(0, I) as
one more expert (Wu & Goodman 2018, MVAE): the precision-weighted combination of Gaussians, so a
confident modality counts more and any subset of modalities gives a posterior.

The modules follow scvi-tools' module contract: :meth:`MultiVAEModule.inference` (posteriors),
:meth:`MultiVAEModule.generative` (decoded parameters) and :meth:`MultiVAEModule.loss`
(a :class:`scvi.module.base.LossOutput`).
"""

from __future__ import annotations

import itertools

import torch
from scvi.module.base import LossOutput
from torch import nn

from ..nn import MLPWithLinearPath
from ._base import OmixModule
from ._counts import NBLikelihood

#: Bounds of the encoders' log-variance: keeps exp() finite early in training.
LOGVAR_RANGE = (-8.0, 6.0)


class GaussianLikelihood(nn.Module):
    """p(x | z) = N(decoder(z), I) in model space (z-scored; beta values: logit, then z-scored).

    The seam for other data types: a likelihood turns the decoder's raw output into the
    distribution's parameters, gives the prediction (``mean``) and the negative log-likelihood.
    ``n_params`` raw outputs per feature.
    """

    n_params = 1

    def __init__(self, n_features: int):
        super().__init__()
        self.n_features = n_features

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return params

    def nll(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per sample, up to a constant."""
        return 0.5 * ((params - x) ** 2).sum(dim=1)


#: Likelihood class per data type (see :func:`omixgan.pp.infer_data_type`).
LIKELIHOODS: dict[str, type[nn.Module]] = {
    "gaussian": GaussianLikelihood,
    "beta": GaussianLikelihood,
    "counts": NBLikelihood,  # negative binomial in log1p space (module/_counts.py)
}


class Encoder(nn.Module):
    """x -> (mean, log-variance) of the Gaussian posterior q(z | x)."""

    def __init__(
        self,
        n_input: int,
        n_latent: int,
        n_hidden: int,
        n_layers: int,
        dropout_rate: float,
        input_dropout: float,
        linear_path: bool,
    ):
        super().__init__()
        self.input_dropout = nn.Dropout(input_dropout)
        self.net = MLPWithLinearPath(
            n_input,
            2 * n_latent,
            n_hidden,
            n_layers,
            dropout_rate=dropout_rate,
            linear_path=linear_path,
        )
        self.n_latent = n_latent

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(self.input_dropout(x))
        return h[:, : self.n_latent], h[:, self.n_latent :].clamp(*LOGVAR_RANGE)


class Decoder(nn.Module):
    """z -> raw parameters of p(x | z); ``likelihood`` reads them."""

    def __init__(
        self,
        n_latent: int,
        n_output: int,
        n_hidden: int,
        n_layers: int,
        dropout_rate: float,
        linear_path: bool,
        data_type: str = "gaussian",
    ):
        super().__init__()
        if data_type not in LIKELIHOODS:
            raise ValueError(
                f"no likelihood for data type {data_type!r}; known: {sorted(LIKELIHOODS)}."
            )
        self.likelihood = LIKELIHOODS[data_type](n_output)
        self.net = MLPWithLinearPath(
            n_latent,
            n_output * self.likelihood.n_params,
            n_hidden,
            n_layers,
            dropout_rate=dropout_rate,
            linear_path=linear_path,
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        """The prediction in model space."""
        return self.likelihood.mean(self.net(z))


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q || N(0, I)) per sample."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


def product_of_experts(
    posteriors: list[tuple[torch.Tensor, torch.Tensor]], weights: list[torch.Tensor] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian product of the prior N(0, I) and the given experts.

    ``weights[k]`` (per sample, 0 or 1) switches expert k off for samples that lack it. The
    product's precision is 1 + sum of the experts' precisions; its mean is their
    precision-weighted mean (the prior contributes mean 0).
    """
    mu0 = posteriors[0][0]
    precision = torch.ones_like(mu0)
    weighted = torch.zeros_like(mu0)
    for k, (mu, logvar) in enumerate(posteriors):
        p = torch.exp(-logvar)
        if weights is not None:
            p = p * weights[k][:, None]
        precision = precision + p
        weighted = weighted + p * mu
    return weighted / precision, -torch.log(precision)


class MultiVAEModule(OmixModule):
    """One encoder and one decoder per modality, one shared latent space.

    With one modality this is a plain VAE (:class:`~omixgan.models.OmicsVAE`); with several it is
    a cross-modal VAE (:class:`~omixgan.models.CrossModalVAE`) in the spirit of Yang et al. 2021
    and MVAE (Wu & Goodman 2018): every modality's posterior (times the prior) reconstructs itself
    and, for paired samples, every other modality; the product of the posteriors of all the
    modalities a sample has, and of a random subset of them, reconstructs every modality it has,
    so that any combination of sources gives a usable posterior; the posterior means of paired
    modalities are pulled together.
    """

    def __init__(
        self,
        n_inputs: dict[str, int],
        *,
        n_latent: int,
        n_hidden: int,
        n_layers: int,
        dropout_rate: float,
        input_dropout: float,
        linear_path: bool,
        data_types: dict[str, str] | None = None,
    ):
        super().__init__()
        self.names = list(n_inputs)
        self.n_latent = n_latent
        data_types = data_types or {}
        self.encoders = nn.ModuleDict(
            {
                m: Encoder(
                    d, n_latent, n_hidden, n_layers, dropout_rate, input_dropout, linear_path
                )
                for m, d in n_inputs.items()
            }
        )
        self.decoders = nn.ModuleDict(
            {
                m: Decoder(
                    n_latent,
                    d,
                    n_hidden,
                    n_layers,
                    dropout_rate,
                    linear_path,
                    data_types.get(m, "gaussian"),
                )
                for m, d in n_inputs.items()
            }
        )

    # --- scvi-tools module contract ----------------------------------------------------------
    def inference(
        self,
        xs: dict[str, torch.Tensor],
        present: dict[str, torch.Tensor],
        *,
        generator: torch.Generator | None = None,
    ) -> dict:
        """Posteriors and one reparameterised draw each, for every single modality (times the
        prior) and, with several modalities, for the product of all present ones (``"joint"``)
        and of a random half of them (``"subset"``; every modality kept with probability 1/2).

        Returns ``{"posteriors": {name: (mu, logvar)}, "z": {name: draw}, "masks": {name:
        {modality: 0/1 per sample}}, "valid": {name: 0/1 per sample}}``.
        """
        experts = {m: self.encoders[m](xs[m]) for m in self.names}
        posteriors, masks = {}, {}
        for m in self.names:
            posteriors[m] = product_of_experts([experts[m]])
            masks[m] = {
                t: present[m] if t == m else torch.zeros_like(present[m]) for t in self.names
            }
        if len(self.names) > 1:
            joint = [present[m] for m in self.names]
            ref = present[self.names[0]]
            keep = [
                (
                    torch.rand(ref.shape, generator=generator, device=ref.device)
                    if generator is not None
                    else torch.rand_like(ref)
                )
                < 0.5
                for _ in self.names
            ]
            half = [p * k.to(p.dtype) for p, k in zip(joint, keep)]
            for name, weights in (("joint", joint), ("subset", half)):
                posteriors[name] = product_of_experts([experts[m] for m in self.names], weights)
                masks[name] = dict(zip(self.names, weights))
        valid = {name: torch.stack(list(mask.values())).amax(dim=0) for name, mask in masks.items()}
        z = {}
        for name, (mu, logvar) in posteriors.items():
            eps = (
                torch.randn(mu.shape, generator=generator, device=mu.device)
                if generator is not None
                else torch.randn_like(mu)
            )
            z[name] = mu + eps * torch.exp(0.5 * logvar)
        return {"posteriors": posteriors, "z": z, "masks": masks, "valid": valid}

    def generative(self, z: dict[str, torch.Tensor]) -> dict:
        """Every latent draw decoded into every modality.

        Returns ``{"params": {(name, modality): raw}}``.
        """
        return {
            "params": {
                (name, t): self.decoders[t](zz) for name, zz in z.items() for t in self.names
            }
        }

    def loss(
        self,
        tensors: dict,
        inference_outputs: dict,
        generative_outputs: dict,
        *,
        kl_weight: float,
        align_weight: float,
        cross_weight: float,
    ) -> LossOutput:
        """Negative ELBO terms with cross-reconstruction and alignment, as a LossOutput.

        ``tensors``: ``{"xs": ..., "present": ...}``. Reconstruction of modality t from latent
        draw ``name``: weight 1 from its own posterior and from the products, ``cross_weight``
        from another single modality's posterior; only where the sample has t and the posterior
        had at least one expert. ``extra_metrics["alignment"]``: squared distance between the
        posterior means of paired modalities.
        """
        xs, present = tensors["xs"], tensors["present"]
        posteriors, valid = inference_outputs["posteriors"], inference_outputs["valid"]
        n = next(iter(xs.values())).shape[0]
        rec = torch.zeros(n, device=xs[self.names[0]].device)
        kl = torch.zeros_like(rec)
        for name, (mu, logvar) in posteriors.items():
            kl = kl + valid[name] * gaussian_kl(mu, logvar)
            for t in self.names:
                cross = name in self.names and name != t
                if cross and cross_weight == 0:
                    continue
                weight = valid[name] * present[t] * (cross_weight if cross else 1.0)
                nll = self.decoders[t].likelihood.nll(
                    generative_outputs["params"][(name, t)], xs[t]
                )
                rec = rec + weight * nll
        align = torch.zeros_like(rec)
        if align_weight > 0:
            for s, t in itertools.combinations(self.names, 2):
                align = align + present[s] * present[t] * (
                    (posteriors[s][0] - posteriors[t][0]) ** 2
                ).sum(dim=1)
        total = (rec + kl_weight * kl + align_weight * align).mean()
        return LossOutput(
            loss=total,
            reconstruction_loss=rec,
            kl_local=kl,
            extra_metrics={"alignment": align.mean()},
            n_obs_minibatch=n,
        )

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
        """One training step's loss terms averaged over the batch: ``loss`` (the weighted
        total), ``reconstruction``, ``kl``, ``alignment``.

        ``xs[m]``: the batch's rows of modality m (zeros where absent); ``present[m]``: 1.0 where
        the sample has modality m. Runs :meth:`inference`, :meth:`generative` and :meth:`loss`.
        """
        inference_outputs = self.inference(xs, present, generator=generator)
        generative_outputs = self.generative(inference_outputs["z"])
        out = self.loss(
            {"xs": xs, "present": present},
            inference_outputs,
            generative_outputs,
            kl_weight=kl_weight,
            align_weight=align_weight,
            cross_weight=cross_weight,
        )
        n = out.n_obs_minibatch
        return {
            "loss": out.loss,
            "reconstruction": out.reconstruction_loss_sum / n,
            "kl": out.kl_local_sum / n,
            "alignment": out.extra_metrics["alignment"],
        }

    # --- prediction -------------------------------------------------------------------------
    def encode(self, modality: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior from one modality (times the prior)."""
        return product_of_experts([self.encoders[modality](x)])

    def encode_sources(self, xs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The product-of-experts posterior of every modality in ``xs`` (and the prior)."""
        return product_of_experts([self.encoders[m](x) for m, x in xs.items()])

    def decode(self, modality: str, z: torch.Tensor) -> torch.Tensor:
        return self.decoders[modality].mean(z)

    @torch.no_grad()
    def translate(
        self,
        source: str | dict,
        target: str,
        x: torch.Tensor | None = None,
        *,
        n_samples: int = 0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Decode ``target`` from the posterior of ``source`` (a modality with its rows ``x``, or
        ``{modality: rows}`` for a product of experts): from its mean (``n_samples=0``) or from
        ``n_samples`` posterior draws, stacked on a new first axis."""
        mu, logvar = (
            self.encode(source, x) if isinstance(source, str) else self.encode_sources(source)
        )
        if n_samples == 0:
            return self.decode(target, mu)
        std = torch.exp(0.5 * logvar)
        draws = [
            self.decode(target, mu + torch.randn(mu.shape, generator=generator).to(mu.device) * std)
            for _ in range(n_samples)
        ]
        return torch.stack(draws)


def source_sets(names: list[str], target: str) -> list[tuple[str, ...]]:
    """Every non-empty set of modalities other than ``target``, in the order of ``names``."""
    others = [m for m in names if m != target]
    return [c for k in range(1, len(others) + 1) for c in itertools.combinations(others, k)]


def map_key(sources: tuple[str, ...], target: str) -> str:
    return f"linear_{'+'.join(sources)}__{target}"


class VAEEnsembleModule(OmixModule):
    """``n_models`` independently trained :class:`MultiVAEModule` members, plus linear (ridge)
    maps from every set of source modalities to every target, blended into translations.

    Averaging a few members removes much of the seed-to-seed variance that dominates on small
    cohorts; the linear maps (fitted in closed form by the model class on the concatenated
    sources, stored as buffers so they are saved with the weights) carry the part of a
    translation that is linear.
    """

    def __init__(self, n_inputs: dict[str, int], *, n_models: int, **member_kwargs):
        super().__init__()
        self.config = {"n_inputs": dict(n_inputs), "n_models": n_models, **member_kwargs}
        self.names = list(n_inputs)
        self.n_inputs = dict(n_inputs)
        self.members = nn.ModuleList(
            [MultiVAEModule(n_inputs, **member_kwargs) for _ in range(n_models)]
        )
        self.n_latent = self.members[0].n_latent
        if len(self.names) > 1:
            for t in self.names:
                for sources in source_sets(self.names, t):
                    d = sum(n_inputs[s] for s in sources)
                    self.register_buffer(
                        f"{map_key(sources, t)}_weight", torch.zeros(d, n_inputs[t])
                    )
                    self.register_buffer(f"{map_key(sources, t)}_bias", torch.zeros(n_inputs[t]))

    def on_load(self, model, **kwargs) -> None:
        """Rebuild with the trained model's data types: :meth:`load` builds the model on the data
        it is given, which may look like another type (say, a subset of expression that happens
        to be whole numbers), and the likelihoods' parameters differ between types."""
        trained = {m: str(t) for m, t in (getattr(model, "data_types_", None) or {}).items()}
        built = {m: str(t) for m, t in (self.config.get("data_types") or {}).items()}
        if trained and trained != built:
            with torch.random.fork_rng(devices=[]):  # the weights are replaced anyway
                self.__init__(**{**self.config, "data_types": trained})

    def set_linear_map(
        self, sources: tuple[str, ...], target: str, weight: torch.Tensor, bias: torch.Tensor
    ) -> None:
        getattr(self, f"{map_key(sources, target)}_weight").copy_(weight)
        getattr(self, f"{map_key(sources, target)}_bias").copy_(bias)

    def linear_map(self, xs: dict[str, torch.Tensor], target: str) -> torch.Tensor:
        """The ridge map from the concatenated sources ``xs`` (in the order of ``names``)."""
        sources = tuple(m for m in self.names if m in xs)
        x = torch.cat([xs[m] for m in sources], dim=1)
        return x @ getattr(self, f"{map_key(sources, target)}_weight") + getattr(
            self, f"{map_key(sources, target)}_bias"
        )

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
    def translate(
        self,
        xs: dict[str, torch.Tensor],
        target: str,
        *,
        linear_blend: float,
        n_samples: int = 0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``(1 - linear_blend) * mean over members + linear_blend * linear map`` from the sources
        ``xs`` (``{modality: model-space rows}``); with ``n_samples`` posterior draws per member,
        the draws of all members stacked on axis 0."""
        outs = [
            m.translate(xs, target, n_samples=n_samples, generator=generator) for m in self.members
        ]
        deep = torch.stack(outs).mean(dim=0) if n_samples == 0 else torch.cat(outs, dim=0)
        if linear_blend == 0:
            return deep
        return (1 - linear_blend) * deep + linear_blend * self.linear_map(xs, target)
