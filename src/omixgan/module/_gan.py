"""GAN generators, critics and losses (tensors only)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import MLPWithLinearPath, mlp
from ._base import OmixModule

LOSSES = ("wgan-gp", "wgan", "gan")


class Generator(nn.Module):
    """Latent noise (plus a class embedding when conditional) to one sample in model space."""

    def __init__(self, n_latent: int, n_output: int, n_hidden: int, n_layers: int, n_classes: int = 0, linear_path: bool = True):
        super().__init__()
        self.n_latent = n_latent
        self.embedding = nn.Embedding(n_classes, n_latent) if n_classes > 0 else None
        n_in = n_latent * (2 if self.embedding is not None else 1)
        self.net = MLPWithLinearPath(n_in, n_output, n_hidden, n_layers, linear_path=linear_path)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embedding is not None:
            z = torch.cat([z, self.embedding(y)], dim=1)
        return self.net(z)


class Critic(nn.Module):
    """Scores samples; conditional critics use a projection term (Miyato & Koyama 2018).

    No batch norm: the gradient penalty is defined per sample, and batch statistics would couple
    the samples of a batch (layer norm measured no better, so none).
    """

    def __init__(self, n_input: int, n_hidden: int, n_layers: int, n_classes: int = 0):
        super().__init__()
        self.body = mlp(n_input, n_hidden, n_layers)
        self.head = nn.Linear(n_hidden, 1)
        self.projection = nn.Embedding(n_classes, n_hidden) if n_classes > 0 else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x)
        out = self.head(h).squeeze(1)
        if self.projection is not None:
            out = out + (self.projection(y) * h).sum(dim=1)
        return out


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017): (||grad critic(x_hat)|| - 1)^2 on interpolates."""
    alpha = torch.rand(real.shape[0], 1, generator=generator, device=real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = critic(x_hat, y)
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def critic_loss(loss: str, real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    if loss == "gan":
        return F.softplus(-real_score).mean() + F.softplus(fake_score).mean()
    return fake_score.mean() - real_score.mean()


def generator_loss(loss: str, fake_score: torch.Tensor) -> torch.Tensor:
    if loss == "gan":  # the non-saturating loss of Goodfellow et al. 2014
        return F.softplus(-fake_score).mean()
    return -fake_score.mean()


class GANModule(OmixModule):
    """One generator/critic pair per class (``per_class``) or one class-conditional pair."""

    def __init__(
        self,
        n_input: int,
        n_classes: int,
        *,
        per_class: bool,
        n_latent: int,
        n_hidden: int,
        n_layers: int,
        n_hidden_critic: int,
        linear_path: bool = True,
    ):
        super().__init__()
        self.per_class = per_class
        self.n_latent = n_latent
        n_pairs = n_classes if per_class else 1
        cond = 0 if per_class else n_classes
        self.generators = nn.ModuleList(
            [Generator(n_latent, n_input, n_hidden, n_layers, n_classes=cond, linear_path=linear_path) for _ in range(n_pairs)]
        )
        self.critics = nn.ModuleList([Critic(n_input, n_hidden_critic, n_layers, n_classes=cond) for _ in range(n_pairs)])

    def reset_parameters(self, seed: int) -> None:
        """Fresh weights from ``seed``; each generator's MLP head starts at zero, so training starts
        from a pure affine map of Gaussian noise (a Gaussian, close to omics classes) and the MLP
        learns the corrections."""
        super().reset_parameters(seed)
        with torch.no_grad():
            for generator in self.generators:
                generator.net.head.weight.zero_()
                generator.net.head.bias.zero_()

    @torch.no_grad()
    def generate(self, class_index: int, n: int, generator: torch.Generator, device) -> torch.Tensor:
        """``n`` samples of one class, in model space."""
        z = torch.randn(n, self.n_latent, generator=generator).to(device)
        if self.per_class:
            return self.generators[class_index](z)
        y = torch.full((n,), class_index, dtype=torch.long, device=device)
        return self.generators[0](z, y)


class MultiOmicsGenerator(nn.Module):
    """Noise + class to all modalities of a sample: a shared trunk, one head per modality.

    Each head is ``Linear(trunk) + Linear(noise)``: the noise path lets every modality (and the
    coupling between them) start as a joint Gaussian; the trunk adds what is not linear. The
    output is the modalities concatenated, so the WGAN-GP loop treats it like one modality.
    """

    def __init__(self, n_latent: int, n_outputs: list[int], n_hidden: int, n_layers: int, n_classes: int):
        super().__init__()
        self.n_latent = n_latent
        self.embedding = nn.Embedding(n_classes, n_latent)
        self.trunk = mlp(2 * n_latent, n_hidden, n_layers)
        self.heads = nn.ModuleList([nn.Linear(n_hidden, d) for d in n_outputs])
        self.linear = nn.ModuleList([nn.Linear(n_latent, d, bias=False) for d in n_outputs])

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.trunk(torch.cat([z, self.embedding(y)], dim=1))
        return torch.cat([head(h) + lin(z) for head, lin in zip(self.heads, self.linear)], dim=1)


class MultiOmicsCritic(nn.Module):
    """One encoder per modality, joined, then a score with a class projection term."""

    def __init__(self, n_inputs: list[int], n_hidden: int, n_layers: int, n_classes: int):
        super().__init__()
        self.splits = list(n_inputs)
        self.encoders = nn.ModuleList([mlp(d, n_hidden, 1) for d in n_inputs])
        self.body = mlp(n_hidden * len(n_inputs), n_hidden, max(n_layers - 1, 1))
        self.head = nn.Linear(n_hidden, 1)
        self.projection = nn.Embedding(n_classes, n_hidden)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, self.splits, dim=1)
        h = self.body(torch.cat([enc(p) for enc, p in zip(self.encoders, parts)], dim=1))
        return self.head(h).squeeze(1) + (self.projection(y) * h).sum(dim=1)


class MultiOmicsGANModule(OmixModule):
    """A class-conditional generator/critic pair over several modalities."""

    def __init__(self, n_inputs: list[int], n_classes: int, *, n_latent: int, n_hidden: int, n_layers: int, n_hidden_critic: int):
        super().__init__()
        self.n_latent = n_latent
        self.generators = nn.ModuleList([MultiOmicsGenerator(n_latent, n_inputs, n_hidden, n_layers, n_classes)])
        self.critics = nn.ModuleList([MultiOmicsCritic(n_inputs, n_hidden_critic, n_layers, n_classes)])

    def reset_parameters(self, seed: int) -> None:
        """Fresh weights from ``seed``; the heads start at zero (a joint Gaussian to begin with)."""
        super().reset_parameters(seed)
        with torch.no_grad():
            for head in self.generators[0].heads:
                head.weight.zero_()
                head.bias.zero_()

    @torch.no_grad()
    def generate(self, class_index: int, n: int, generator: torch.Generator, device) -> torch.Tensor:
        z = torch.randn(n, self.n_latent, generator=generator).to(device)
        y = torch.full((n,), class_index, dtype=torch.long, device=device)
        return self.generators[0](z, y)
