"""The adversarial training loop, and the held-out score that decides which snapshot is kept."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..module._gan import critic_loss, generator_loss, gradient_penalty
from ._loop import IndexBatches, device_generator

#: Samples generated per class to score a snapshot.
SELECTION_SAMPLES = 1000
#: Generated samples the kernel term of the score uses (its cost grows with the square).
KERNEL_SAMPLES = 500
#: A snapshot must beat the Gaussian start's score by this fraction to replace it: the
#: validation samples are few, and the best of many noisy scores is biased low.
MIN_IMPROVEMENT = 0.02
#: A snapshot whose distance to the closest training sample (median, relative to the validation
#: samples') falls below this fraction of the start's copies its training samples: never kept.
MIN_DCR_RATIO = 0.9


class ValidationScore:
    """How far generated samples of one class are from held-out validation samples of the class.

    Two terms, both in the class's standardised space: the mean over features of the 1-D
    Wasserstein distance (the marginals: skew, tails, bimodality, which a Gaussian misses) and the
    square root of a multi-bandwidth Gaussian-kernel MMD (the joint structure). Returned with
    the distance-to-closest-record ratio (median distance of the samples to the training samples,
    over the validation samples'), which the loop uses to reject snapshots that copy: the
    validation samples are few, so the guard compares with the start's ratio, not with 1.
    """

    def __init__(self, validation: np.ndarray, train: np.ndarray):
        from sklearn.neighbors import NearestNeighbors

        self.validation = np.sort(np.asarray(validation, dtype=np.float64), axis=0)
        self.levels = (np.arange(len(validation)) + 0.5) / len(validation)
        self.neighbours = NearestNeighbors(n_neighbors=1).fit(np.asarray(train, dtype=np.float64))
        self.reference_dcr = float(np.median(self.neighbours.kneighbors(self.validation)[0]))
        v = self.validation
        d_vv = _sq_dist(v, v)
        self.bandwidth = (
            float(np.median(d_vv[np.triu_indices(len(v), 1)])) if len(v) > 1 else float(v.shape[1])
        )
        self.k_vv = _kernel(d_vv, self.bandwidth)
        m = len(v)
        self.vv = (self.k_vv.sum() - np.trace(self.k_vv)) / max(m * (m - 1), 1)

    def dcr_ratio(self, samples: np.ndarray) -> float:
        d = float(np.median(self.neighbours.kneighbors(samples[:KERNEL_SAMPLES])[0]))
        return d / max(self.reference_dcr, 1e-12)

    def __call__(self, samples: np.ndarray) -> tuple[float, float]:
        samples = np.asarray(samples, dtype=np.float64)
        if not np.isfinite(samples).all():
            return np.inf, 0.0
        marginal = np.abs(np.quantile(samples, self.levels, axis=0) - self.validation).mean()
        g = samples[:KERNEL_SAMPLES]
        k_gg = _kernel(_sq_dist(g, g), self.bandwidth)
        n = len(g)
        gg = (k_gg.sum() - np.trace(k_gg)) / (n * (n - 1))
        mmd = gg + self.vv - 2 * _kernel(_sq_dist(g, self.validation), self.bandwidth).mean()
        return float(marginal + np.sqrt(max(mmd, 0.0))), self.dcr_ratio(samples)


def classifier_auc(real: list[np.ndarray], generated: list[np.ndarray], seed: int = 0) -> float:
    """Cross-validated random-forest AUC of validation samples against as many generated ones
    (per class, pooled): the detectability the evaluation measures, on the validation samples.

    Too noisy on a few dozen samples to rank snapshots, but it vetoes a snapshot the distance
    score likes and a forest finds easier to detect than the start (measured on the course
    data: a residual that lowered the distance score by 2 % raised the held-out AUC from 0.60 to
    0.71).
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    a = np.vstack(real)
    b = np.vstack([g[: len(r)] for r, g in zip(real, generated)])
    X, t = np.vstack([a, b]), np.r_[np.zeros(len(a)), np.ones(len(b))]
    forest = RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=seed)
    folds = StratifiedKFold(n_splits=min(3, len(a)), shuffle=True, random_state=seed)
    return float(
        roc_auc_score(t, cross_val_predict(forest, X, t, cv=folds, method="predict_proba")[:, 1])
    )


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T, 0)


def _kernel(d2: np.ndarray, bandwidth: float) -> np.ndarray:
    # three bandwidths around the median distance: sensitive at several scales at once
    return sum(np.exp(-d2 / (f * max(bandwidth, 1e-12))) for f in (0.5, 1.0, 2.0)) / 3


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
    evaluate: Callable[[torch.nn.Module, torch.Tensor], tuple[float, float]],
    confirm: Callable[[torch.nn.Module, torch.Tensor], float],
    confirm_margin: float,
    progress_bar,
) -> dict[str, list[float]]:
    """Train one generator/critic pair on ``X`` (rows already in model space, on the device).

    The generator is scored by ``evaluate(net, noise)`` (score, lower is better, and DCR ratio,
    on held-out validation samples) before the first step and every ``eval_every`` steps. The
    start is kept unless a snapshot beats its score by :data:`MIN_IMPROVEMENT` without its DCR
    ratio falling below :data:`MIN_DCR_RATIO` of the start's, and ``confirm(net, noise)`` (a
    classifier AUC on the validation samples, see :func:`classifier_auc`) is at least
    ``confirm_margin`` below the start's: adversarial losses do not tell when a GAN is good, and
    on a few hundred samples the start often stays the best.

    Returns the history (per evaluation: step, critic and generator losses, score) and
    ``best_step`` (0: the start was kept).
    """
    raw_generator = generator_net
    start_state = copy.deepcopy(raw_generator.state_dict())
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
    batches = IndexBatches(
        X.shape[0],
        config.batch_size,
        rng,
        drop_last=True,
        device=device,
        rank=fabric.global_rank,
        world_size=fabric.world_size,
    )
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
    start_score, start_dcr = _scored(evaluate, ema_net, selection_noise)
    history = {
        "step": [0],
        "critic_loss": [np.nan],
        "generator_loss": [np.nan],
        "score": [start_score],
        "dcr_ratio": [start_dcr],
    }
    best_state, best_score, best_step = None, start_score * (1 - MIN_IMPROVEMENT), 0
    start_auc = None
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
                    loss_c = loss_c + config.gp_weight * gradient_penalty(
                        critic_net.module, real, fake, yb, draw
                    )
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
            # warm-up: early on the average follows the weights closely
            decay = min(config.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():  # one call for all tensors (one kernel launch group on a GPU)
                torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        if step % config.eval_every == 0 or step == config.max_steps:
            current, dcr = _scored(evaluate, ema_net, selection_noise)
            history["step"].append(step)
            history["critic_loss"].append(float(loss_c.detach()))
            history["generator_loss"].append(float(loss_g.detach()))
            history["score"].append(current)
            history["dcr_ratio"].append(dcr)
            if current < best_score and dcr >= MIN_DCR_RATIO * start_dcr:
                # the forest is costly: asked only about snapshots the distance score prefers
                if start_auc is None:
                    start_auc = _start_auc(confirm, ema_net, start_state, selection_noise)
                if _confirmed(confirm, ema_net, selection_noise) <= start_auc - confirm_margin:
                    best_score, best_step = current, step
                    best_state = copy.deepcopy(ema_net.state_dict())
            progress_bar.set_postfix(
                score=f"{current:.3g}", start=f"{start_score:.3g}", refresh=False
            )
        progress_bar.update(1)
    raw_generator.load_state_dict(best_state if best_state is not None else start_state)
    history["best_step"] = [best_step]
    return history


@torch.no_grad()
def _confirmed(confirm, net, selection_noise) -> float:
    was_training = net.training
    net.eval()
    value = float(confirm(net, selection_noise))
    net.train(was_training)
    return value


@torch.no_grad()
def _start_auc(confirm, net, start_state, selection_noise) -> float:
    """The classifier AUC of the start, on a copy of the network set back to its start."""
    start = copy.deepcopy(net)
    start.load_state_dict(start_state)
    return _confirmed(confirm, start, selection_noise)


@torch.no_grad()
def _scored(evaluate, net, selection_noise) -> tuple[float, float]:
    was_training = net.training
    net.eval()
    score, dcr = evaluate(net, selection_noise)
    net.train(was_training)
    return float(score), float(dcr)
