"""The adversarial training loop: resident tensors, index batches, model selection on held-out data."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from ..module._gan import critic_loss, generator_loss, gradient_penalty
from ._loop import IndexBatches, device_generator

#: Samples generated to score a snapshot: enough for a stable covariance of a few hundred features.
SELECTION_SAMPLES = 1000
#: Dimensions the snapshot score works in (see :class:`FrechetScore`).
MAX_SCORE_DIMS = 512


class FrechetScore:
    """Fréchet distance between Gaussian fits of validation samples and generated samples.

    Cheap enough to compute every few hundred steps (one eigen-decomposition of a
    features x features matrix), and exactly the discrepancy a Gaussian-like omics class shows:
    wrong means, wrong variances, wrong correlations.
    """

    def __init__(self, reference: np.ndarray):
        reference = np.asarray(reference, dtype=np.float64)
        self.projection = None
        if reference.shape[1] > MAX_SCORE_DIMS:
            # the score costs features^3 per evaluation: above MAX_SCORE_DIMS it is computed on the
            # reference's leading principal axes, where nearly all of its variance lies
            self.projection = _principal_axes(reference - reference.mean(axis=0), MAX_SCORE_DIMS)
            reference = reference @ self.projection
        self.mean = reference.mean(axis=0)
        cov = np.cov(reference, rowvar=False) if len(reference) > 1 else np.zeros((reference.shape[1],) * 2)
        w, v = np.linalg.eigh(np.atleast_2d(cov))
        self.cov = np.atleast_2d(cov)
        self.sqrt_cov = (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    def __call__(self, samples: np.ndarray) -> float:
        samples = np.asarray(samples, dtype=np.float64)
        if self.projection is not None:
            samples = samples @ self.projection
        mean = samples.mean(axis=0)
        cov = np.atleast_2d(np.cov(samples, rowvar=False))
        cross = np.linalg.eigvalsh(self.sqrt_cov @ cov @ self.sqrt_cov)
        trace_sqrt = np.sqrt(np.clip(cross, 0, None)).sum()
        return float(((mean - self.mean) ** 2).sum() + np.trace(self.cov) + np.trace(cov) - 2 * trace_sqrt)


#: Above this many samples and features (both), principal axes come from a randomized SVD.
EXACT_SVD_LIMIT = 2 * MAX_SCORE_DIMS


def _principal_axes(centred: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` leading principal axes (features x k) of centred rows.

    An exact SVD costs samples x features x min(samples, features) time and, in LAPACK's
    workspace, several times min(samples, features)^2 memory: at 5,000 x 5,000 about 2 GB. When
    both dimensions exceed :data:`EXACT_SVD_LIMIT` a randomized SVD (Halko et al. 2011; seeded, so
    reproducible) finds the same leading subspace with memory of a few (samples + features) x k.
    """
    if min(centred.shape) <= EXACT_SVD_LIMIT:
        return np.linalg.svd(centred, full_matrices=False)[2][:k].T
    from sklearn.utils.extmath import randomized_svd

    return randomized_svd(centred.astype(np.float32), k, n_iter=4, random_state=0)[2].T.astype(np.float64)


@dataclass
class GANTrainConfig:
    loss: str
    max_steps: int
    batch_size: int
    n_critic: int
    lr: float
    betas: tuple[float, float]
    gp_weight: float
    clip_value: float
    eval_every: int
    ema_decay: float | None


def train_pair(
    fabric,
    generator_net: torch.nn.Module,
    critic_net: torch.nn.Module,
    X: torch.Tensor,
    y: torch.Tensor | None,
    *,
    n_latent: int,
    config: GANTrainConfig,
    rng: torch.Generator,
    scores: list[FrechetScore],
    progress_bar,
) -> dict[str, list[float]]:
    """Train one generator/critic pair on ``X`` (rows already in model space, on the device).

    Every ``eval_every`` generator steps the generator is scored against held-out validation
    samples and the best snapshot is kept: adversarial losses do not tell when a GAN is good,
    and the last step is rarely the best one.

    Returns the history: per evaluation, the step, the critic and generator losses and the score.
    """
    raw_generator = generator_net
    opt_g = torch.optim.Adam(generator_net.parameters(), lr=config.lr, betas=config.betas)
    opt_c = torch.optim.Adam(critic_net.parameters(), lr=config.lr, betas=config.betas)
    generator_net, opt_g = fabric.setup(generator_net, opt_g)
    critic_net, opt_c = fabric.setup(critic_net, opt_c)
    # An exponential moving average of the generator's weights averages out the oscillation of
    # adversarial training; it is what gets scored and kept.
    ema_net = copy.deepcopy(raw_generator) if config.ema_decay else raw_generator
    ema_params, params = list(ema_net.parameters()), list(raw_generator.parameters())
    device = X.device
    # under DDP every process takes its share of each permutation; batch_size is per process
    batches = IndexBatches(X.shape[0], config.batch_size, rng, drop_last=True, device=device, rank=fabric.global_rank, world_size=fabric.world_size)
    draw = device_generator(rng, device)
    stream = iter(batches)

    def next_batch():
        nonlocal stream
        try:
            return next(stream)
        except StopIteration:
            stream = iter(batches)
            return next(stream)

    def noise(n):
        return torch.randn(n, n_latent, generator=draw, device=device)

    # the same noise at every evaluation, so snapshots are compared on equal terms
    selection_noise = noise(SELECTION_SAMPLES)
    history = {"step": [], "critic_loss": [], "generator_loss": [], "score": []}
    best_state, best_score = None, np.inf
    for step in range(1, config.max_steps + 1):
        for _ in range(config.n_critic):
            idx = next_batch()
            real = X[idx]
            yb = None if y is None else y[idx]
            with torch.no_grad():
                fake = generator_net(noise(len(idx)), yb)
            loss_c = critic_loss(config.loss, critic_net(real, yb), critic_net(fake, yb))
            if config.loss == "wgan-gp":
                # through the unwrapped critic: Fabric's wrapper forbids the inner autograd.grad
                # under mixed precision; autocast is applied here instead
                with fabric.autocast():
                    loss_c = loss_c + config.gp_weight * gradient_penalty(critic_net.module, real, fake, yb, draw)
            opt_c.zero_grad(set_to_none=True)
            fabric.backward(loss_c)
            opt_c.step()
            if config.loss == "wgan":
                with torch.no_grad():
                    for p in critic_net.parameters():
                        p.clamp_(-config.clip_value, config.clip_value)
        idx = next_batch()
        yb = None if y is None else y[idx]
        loss_g = generator_loss(config.loss, critic_net(generator_net(noise(len(idx)), yb), yb))
        opt_g.zero_grad(set_to_none=True)
        fabric.backward(loss_g)
        opt_g.step()
        if config.ema_decay:
            # warm-up: early on the average follows the weights closely, so a short run is not
            # held back by the random initialisation
            decay = min(config.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():  # one call for all tensors (one kernel launch group on a GPU)
                torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        if step % config.eval_every == 0 or step == config.max_steps:
            current = _evaluate(ema_net, selection_noise, y is not None, scores)
            history["step"].append(step)
            history["critic_loss"].append(float(loss_c.detach()))
            history["generator_loss"].append(float(loss_g.detach()))
            history["score"].append(current)
            if current < best_score:
                best_score = current
                best_state = copy.deepcopy(ema_net.state_dict())
            progress_bar.set_postfix(score=f"{current:.3g}", best=f"{best_score:.3g}", refresh=False)
        progress_bar.update(1)
    if best_state is not None:
        raw_generator.load_state_dict(best_state)
    history["best_step"] = [history["step"][int(np.argmin(history["score"]))]]
    return history


@torch.no_grad()
def _evaluate(generator_net, selection_noise, conditional, scores) -> float:
    """Mean Fréchet score over the classes a pair generates (one score per class)."""
    was_training = generator_net.training
    generator_net.eval()
    values = []
    for k, scorer in enumerate(scores):
        yk = torch.full((len(selection_noise),), k, dtype=torch.long, device=selection_noise.device) if conditional else None
        values.append(scorer(generator_net(selection_noise, yk).float().cpu().numpy()))
    generator_net.train(was_training)
    return float(np.mean(values))
