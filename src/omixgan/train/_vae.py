"""VAE training loop: resident tensors, index batches, KL warm-up, early stopping on validation."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from ._loop import IndexBatches


@dataclass
class VAETrainConfig:
    max_epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    kl_weight: float
    kl_warmup_fraction: float
    align_weight: float
    cross_weight: float
    patience: int


@torch.no_grad()
def validation_error(module, X: dict, present: dict, idx: torch.Tensor) -> float:
    """Mean squared error of translating every present modality into every other present one
    (posterior means); for a single modality, of reconstructing it. What a translator is for."""
    module.eval()
    total, count = 0.0, 0.0
    names = module.names
    for s in names:
        for t in names:
            if len(names) > 1 and s == t:
                continue
            weight = present[s][idx] * present[t][idx]
            if weight.sum() == 0:
                continue
            pred = module.translate(s, t, X[s][idx])
            total += float((weight * ((pred - X[t][idx]) ** 2).mean(dim=1)).sum())
            count += float(weight.sum())
    module.train()
    return total / max(count, 1.0)


def train_vae(fabric, module, X: dict[str, torch.Tensor], present: dict[str, torch.Tensor], train_idx: np.ndarray, val_idx: np.ndarray, *, config: VAETrainConfig, rng: torch.Generator, progress_bar) -> dict[str, list]:
    """Train ``module`` (a :class:`~omixgan.module.MultiVAEModule`) on rows ``train_idx``.

    After each epoch the validation rows are translated; the best weights are restored at the end
    and training stops after ``patience`` epochs without improvement. Returns the history per epoch.
    """
    raw = module
    optimizer = torch.optim.Adam(module.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    module, optimizer = fabric.setup(module, optimizer)
    device = next(raw.parameters()).device
    train_idx_t = torch.as_tensor(train_idx, dtype=torch.long, device=device)
    val_idx_t = torch.as_tensor(val_idx, dtype=torch.long, device=device)
    batches = IndexBatches(len(train_idx), config.batch_size, rng, drop_last=len(train_idx) > config.batch_size, device=device)
    total_steps = max(1, config.max_epochs * len(batches))
    warmup_steps = max(1, int(config.kl_warmup_fraction * total_steps))
    history = {"epoch": [], "loss": [], "reconstruction": [], "kl": [], "alignment": [], "validation": []}
    best, best_state, since_best, step = np.inf, None, 0, 0
    for epoch in range(1, config.max_epochs + 1):
        sums = {"loss": 0.0, "reconstruction": 0.0, "kl": 0.0, "alignment": 0.0}
        for batch in batches:
            rows = train_idx_t[batch]
            terms = module(
                {m: X[m][rows] for m in raw.names},
                {m: present[m][rows] for m in raw.names},
                kl_weight=config.kl_weight * min(1.0, step / warmup_steps),
                align_weight=config.align_weight,
                cross_weight=config.cross_weight,
                generator=rng,
            )
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(terms["loss"])
            optimizer.step()
            step += 1
            for k in sums:
                sums[k] += float(terms[k].detach())
        history["epoch"].append(epoch)
        for k, v in sums.items():
            history[k].append(v / len(batches))
        current = validation_error(raw, X, present, val_idx_t) if len(val_idx) else sums["loss"] / len(batches)
        history["validation"].append(current)
        progress_bar.set_postfix(validation=f"{current:.3g}", refresh=False)
        progress_bar.update(1)
        if current < best - 1e-4:
            best, best_state, since_best = current, copy.deepcopy(raw.state_dict()), 0
        else:
            since_best += 1
            if since_best >= config.patience:
                progress_bar.update(config.max_epochs - epoch)  # the epochs early stopping saved
                break
    if best_state is not None:
        raw.load_state_dict(best_state)
    raw.eval()
    return history
