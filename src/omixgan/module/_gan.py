"""GAN generators, critics and losses; the Gaussian start they grow from (tensors and arrays only)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import ndtri
from torch import nn

from ..nn import mlp
from ._base import OmixModule

LOSSES = ("wgan-gp", "wgan", "gan")
#: Largest rank of a class's covariance factor; above it the leading axes are kept and the rest of
#: each feature's variance goes to the diagonal noise path (variances stay exact).
MAX_RANK = 256
#: Most grid points an empirical marginal keeps per feature (quantiles above this many samples).
MAX_GRID = 1001


# --- the Gaussian start (numpy) -----------------------------------------------------------------
def shrinkage_factor(Z: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """A factor of the Ledoit-Wolf shrunk correlation of the standardised rows ``Z``.

    Returns ``(loadings, diag)`` with ``loadings @ loadings.T + diag(diag**2)`` equal to the
    Ledoit-Wolf estimate (shrunk towards the identity, so every variance is 1) when the class has
    at most ``rank + 1`` samples or features, and its best rank-``rank`` approximation with exact
    variances otherwise. Samples ``x = loadings @ z1 + diag * z2`` are then that Gaussian: a
    linear noise path that costs features x rank, not features squared.
    """
    from sklearn.covariance import ledoit_wolf_shrinkage

    n, p = Z.shape
    if n < 2:
        return np.zeros((p, rank)), np.ones(p)
    centred = Z - Z.mean(axis=0)
    shrink = float(ledoit_wolf_shrinkage(centred, assume_centered=True))
    _, s, vt = np.linalg.svd(centred / np.sqrt(n), full_matrices=False)  # sample covariance axes
    k = min(rank, len(s))
    loadings = np.zeros((p, rank))
    loadings[:, :k] = vt[:k].T * (np.sqrt(1 - shrink) * s[:k])
    target = (centred**2).mean(axis=0) * (1 - shrink) + shrink * (centred**2).mean()
    diag = np.sqrt(np.clip(target - (loadings**2).sum(axis=1), 1e-8, None))
    return loadings, diag


class EmpiricalMarginals:
    """Per-feature monotone map to normal scores through the empirical distribution (a copula's
    marginals), with its inverse; linear extrapolation beyond the observed range.

    Real omics features are skewed, heavy-tailed or bimodal; a Gaussian drawn in normal-score
    space and mapped back has each feature's observed marginal, as the Gaussian copula of SDV
    does. State: sorted values (or quantiles) per feature, so it is saved with a model.
    """

    def __init__(self, grid: np.ndarray | None = None):
        self.grid = None if grid is None else np.asarray(grid, dtype=np.float64)

    def fit(self, X: np.ndarray) -> EmpiricalMarginals:
        X = np.asarray(X, dtype=np.float64)
        n = len(X)
        grid = (
            np.sort(X, axis=0)
            if n <= MAX_GRID
            else np.quantile(X, (np.arange(MAX_GRID) + 0.5) / MAX_GRID, axis=0)
        )
        # strictly increasing per feature, so the map is invertible (ties in the data)
        span = np.maximum(grid[-1] - grid[0], 1e-6)
        self.grid = grid + np.arange(len(grid))[:, None] * (1e-9 * span)
        return self

    @property
    def _scores(self) -> np.ndarray:
        m = len(self.grid)
        return ndtri((np.arange(m) + 0.5) / m)

    def _slopes(self):
        m, s = len(self.grid), self._scores
        k = max(1, m // 20)  # the tail slope from the outer 5 % of points: steady, not one gap
        lo = (self.grid[k] - self.grid[0]) / (s[k] - s[0])
        hi = (self.grid[-1] - self.grid[-1 - k]) / (s[-1] - s[-1 - k])
        return lo, hi

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        s, (lo, hi) = self._scores, self._slopes()
        out = np.empty_like(X)
        for j in range(X.shape[1]):
            out[:, j] = np.interp(X[:, j], self.grid[:, j], s)
        below, above = X < self.grid[0], X > self.grid[-1]
        out = np.where(below, s[0] + (X - self.grid[0]) / np.maximum(lo, 1e-12), out)
        return np.where(above, s[-1] + (X - self.grid[-1]) / np.maximum(hi, 1e-12), out)

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        s, (lo, hi) = self._scores, self._slopes()
        out = np.empty_like(Z)
        for j in range(Z.shape[1]):
            out[:, j] = np.interp(Z[:, j], s, self.grid[:, j])
        out = np.where(Z < s[0], self.grid[0] + (Z - s[0]) * lo, out)
        return np.where(Z > s[-1], self.grid[-1] + (Z - s[-1]) * hi, out)


# --- networks -----------------------------------------------------------------------------------
class GaussianStartGenerator(nn.Module):
    """``x = L_y z1 + d_y * z2 + MLP([x0, class])``: a shrinkage Gaussian plus a learned residual.

    ``L_y`` (features x rank) and ``d_y`` (features) are each class's covariance factor (see
    :func:`shrinkage_factor`), set before training; the residual MLP sees the Gaussian draw
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
        """Fresh weights from ``seed``; each residual starts at zero (the generator is its start)."""
        super().reset_parameters(seed)
        for generator in self.generators:
            generator.zero_residual()

    def set_start(self, loadings: list[np.ndarray], diags: list[np.ndarray]) -> None:
        """Class ``k``'s covariance factor (see :func:`shrinkage_factor`) into its generator."""
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
