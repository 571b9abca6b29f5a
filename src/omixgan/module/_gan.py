"""GAN generators, critics and losses (tensors only).

The Gaussian start the generators grow from is fitted with numpy in :mod:`omixgan._utils`
(``shrinkage_factor``, ``EmpiricalMarginals``), which the class-Gaussian baseline shares.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nn import mlp
from ._base import OmixModule

LOSSES = ("wgan-gp", "wgan", "gan")
#: Largest rank of a class's covariance factor; above it the leading axes are kept and the rest of
#: each feature's variance goes to the diagonal noise path (variances stay exact).
MAX_RANK = 256


# --- networks -----------------------------------------------------------------------------------
class GaussianStartGenerator(nn.Module):
    """``x = L_y z1 + d_y * z2 + MLP([x0, class])``: a shrinkage Gaussian plus a learned residual.

    ``L_y`` (features x rank) and ``d_y`` (features) are each class's covariance factor (see
    ``omixgan._utils.shrinkage_factor``), set before training; the residual MLP sees the draw
    ``x0 = L_y z1 + d_y * z2`` and its class, and its output layer starts at zero. At step 0 the
    generator is exactly the Gaussian; training can only move it where the critic finds
    something a Gaussian misses, and snapshot selection keeps the start when nothing helps.
    """

    def __init__(self, n_output: int, rank: int, n_hidden: int, n_layers: int, n_classes: int):
        super().__init__()
        self.rank, self.n_output, self.n_classes = rank, n_output, n_classes
        self.n_latent = rank + n_output
        self.loadings = nn.Parameter(torch.zeros(n_classes, n_output, rank))
        self.diag = nn.Parameter(torch.ones(n_classes, n_output))
        self.embedding = nn.Embedding(n_classes, min(n_hidden, 64)) if n_classes > 1 else None
        n_in = n_output + (self.embedding.embedding_dim if self.embedding is not None else 0)
        self.body = mlp(n_in, n_hidden, n_layers)
        self.head = nn.Linear(n_hidden, n_output)

    def set_start(self, loadings: list[np.ndarray], diags: list[np.ndarray]) -> None:
        with torch.no_grad():
            for k, (L, d) in enumerate(zip(loadings, diags)):
                self.loadings[k].copy_(torch.as_tensor(L, dtype=torch.float32))
                self.diag[k].copy_(torch.as_tensor(d, dtype=torch.float32))

    def zero_residual(self) -> None:
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()

    def start(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        z1, z2 = z[:, : self.rank], z[:, self.rank :]
        if y is None:
            return z1 @ self.loadings[0].T + z2 * self.diag[0]
        # every class's map, then each row's own: n x classes x features, far less than gathering
        # a features x rank factor per row
        every = torch.einsum("nr,kpr->nkp", z1, self.loadings)
        return every[torch.arange(len(y), device=y.device), y] + z2 * self.diag[y]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x0 = self.start(z, y)
        h = x0 if self.embedding is None else torch.cat([x0, self.embedding(y)], dim=1)
        return x0 + self.head(self.body(h))


class Critic(nn.Module):
    """Scores samples; conditional critics use a projection term (Miyato & Koyama 2018).

    No batch norm: the gradient penalty is defined per sample, and batch statistics would couple
    the samples of a batch (layer norm measured no better, so none).
    """

    def __init__(self, n_input: int, n_hidden: int, n_layers: int, n_classes: int = 0):
        super().__init__()
        self.body = mlp(n_input, n_hidden, n_layers)
        self.head = nn.Linear(n_hidden, 1)
        self.projection = nn.Embedding(n_classes, n_hidden) if n_classes > 1 else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x)
        out = self.head(h).squeeze(1)
        if self.projection is not None:
            out = out + (self.projection(y) * h).sum(dim=1)
        return out


def gradient_penalty(
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    y: torch.Tensor | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
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
    """Gaussian-start generators with critics: one pair per class (``per_class``) or one
    class-conditional pair. The shapes depend only on the arguments, which a model saves, so a
    loaded model rebuilds exactly what it trained whatever data it is loaded with."""

    def __init__(
        self,
        n_input: int,
        n_classes: int,
        *,
        per_class: bool,
        rank: int,
        n_hidden: int,
        n_layers: int,
        n_hidden_critic: int,
    ):
        super().__init__()
        self._build(
            n_input,
            n_classes,
            per_class=per_class,
            rank=rank,
            n_hidden=n_hidden,
            n_layers=n_layers,
            n_hidden_critic=n_hidden_critic,
        )

    def _build(self, n_input, n_classes, *, per_class, rank, n_hidden, n_layers, n_hidden_critic):
        self.config = {
            "n_input": n_input,
            "n_classes": n_classes,
            "per_class": per_class,
            "rank": rank,
            "n_hidden": n_hidden,
            "n_layers": n_layers,
            "n_hidden_critic": n_hidden_critic,
        }
        self.per_class = per_class
        n_pairs, cond = (n_classes, 1) if per_class else (1, n_classes)
        self.generators = nn.ModuleList(
            [
                GaussianStartGenerator(n_input, rank, n_hidden, n_layers, cond)
                for _ in range(n_pairs)
            ]
        )
        self.critics = nn.ModuleList(
            [Critic(n_input, n_hidden_critic, n_layers, n_classes=cond) for _ in range(n_pairs)]
        )
        self.n_latent = rank + n_input

    def on_load(self, model, **kwargs) -> None:
        """Rebuild with the trained model's shapes (its classes may differ from the data's)."""
        config = getattr(model, "module_config_", None)
        if config is not None and config != self.config:
            self._build(**config)

    def reset_parameters(self, seed: int) -> None:
        """Fresh weights from ``seed``; each residual starts at zero (the generator is its
        start)."""
        super().reset_parameters(seed)
        for generator in self.generators:
            generator.zero_residual()

    def set_start(self, loadings: list[np.ndarray], diags: list[np.ndarray]) -> None:
        """Class ``k``'s covariance factor (see ``omixgan._utils.shrinkage_factor``) into its
        generator."""
        if self.per_class:
            for k, generator in enumerate(self.generators):
                generator.set_start([loadings[k]], [diags[k]])
        else:
            self.generators[0].set_start(loadings, diags)

    def pair_of(self, class_index: int) -> tuple[nn.Module, int | None]:
        return (
            (self.generators[class_index], None)
            if self.per_class
            else (self.generators[0], class_index)
        )

    @torch.no_grad()
    def generate(
        self, class_index: int, n: int, generator: torch.Generator, device
    ) -> torch.Tensor:
        """``n`` samples of one class, in the class's standardised model space."""
        net, y = self.pair_of(class_index)
        z = torch.randn(n, self.n_latent, generator=generator).to(device)
        yk = None if y is None else torch.full((n,), y, dtype=torch.long, device=device)
        return net(z, yk)
