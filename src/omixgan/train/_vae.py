"""VAE training loop: mini-batches from a batch source, KL warm-up, early stopping on validation."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from ._loop import IndexBatches

#: Bytes of float64 rows (all modalities together) that validation transforms and scores at
#: once: bounds its memory whatever the number of samples and features.
VALIDATION_CHUNK_BYTES = 8 * 2**20


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


#: ``take(rows)``: model-space rows of every modality (zeros where a sample lacks it) and presence
#: masks, as dicts of tensors on the training device.
Take = Callable[[torch.Tensor], tuple[dict, dict]]


class ResidentBatches:
    """Shuffled mini-batches of ``rows`` of data held in memory, as ``take(batch)`` gives them.

    Shuffled by ``rng``; under data-parallel training each process takes its share (see
    :class:`~omixgan.train.IndexBatches`).
    """

    def __init__(
        self,
        take: Take,
        rows: np.ndarray,
        batch_size: int,
        rng: torch.Generator,
        *,
        device,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.take = take
        self.rows = torch.as_tensor(rows, dtype=torch.long, device=device)
        per_process = len(rows) // world_size
        self.index = IndexBatches(
            len(rows),
            batch_size,
            rng,
            drop_last=per_process > batch_size,
            device=device,
            rank=rank,
            world_size=world_size,
        )

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self):
        for batch in self.index:
            yield self.take(self.rows[batch])


@torch.no_grad()
def validation_error(module, take: Take, rows: torch.Tensor, n_features: int) -> float:
    """Mean squared error of translating every present modality into every other present one
    (posterior means); for a single modality, of reconstructing it. What a translator is for.

    ``rows`` are scored in chunks of :data:`VALIDATION_CHUNK_BYTES` (``n_features``: of all
    modalities together), so many validation samples never cost a large block of memory.
    """
    module.eval()
    total, count = 0.0, 0.0
    names = module.names
    chunk_rows = max(1, VALIDATION_CHUNK_BYTES // (8 * max(1, n_features)))
    for start in range(0, len(rows), chunk_rows):
        Xc, Pc = take(rows[start : start + chunk_rows])
        for s in names:
            for t in names:
                if len(names) > 1 and s == t:
                    continue
                weight = Pc[s] * Pc[t]
                if weight.sum() == 0:
                    continue
                pred = module.translate(s, t, Xc[s])
                total += float((weight * ((pred - Xc[t]) ** 2).mean(dim=1)).sum())
                count += float(weight.sum())
    module.train()
    return total / max(count, 1.0)


def train_vae(
    fabric,
    module,
    batches: Iterable,
    validate: Callable[[], float] | None,
    *,
    config: VAETrainConfig,
    noise: torch.Generator,
    progress_bar,
) -> dict[str, list]:
    """Train ``module`` (a :class:`~omixgan.module.MultiVAEModule`) on ``batches``.

    ``batches`` yields ``(xs, present)`` dicts per step (resident or read from disk); after each
    epoch ``validate()`` scores the module (None: the training loss is watched). The best weights
    are restored at the end and training stops after ``patience`` epochs without improvement.
    ``noise`` draws the reparameterisation noise on the module's device. Returns the history per
    epoch.
    """
    raw = module
    optimizer = torch.optim.Adam(
        module.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    module, optimizer = fabric.setup(module, optimizer)
    total_steps = max(1, config.max_epochs * len(batches))
    warmup_steps = max(1, int(config.kl_warmup_fraction * total_steps))
    history = {
        "epoch": [],
        "loss": [],
        "reconstruction": [],
        "kl": [],
        "alignment": [],
        "validation": [],
    }
    best, best_state, since_best, step = np.inf, None, 0, 0
    for epoch in range(1, config.max_epochs + 1):
        # summed on the device, read once per epoch: no host synchronisation per step
        sums, n_batches = None, 0
        for xs, present in batches:
            terms = module(
                xs,
                present,
                kl_weight=config.kl_weight * min(1.0, step / warmup_steps),
                align_weight=config.align_weight,
                cross_weight=config.cross_weight,
                generator=noise,
            )
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(terms["loss"])
            optimizer.step()
            step += 1
            n_batches += 1
            values = torch.stack(
                [terms[k].detach() for k in ("loss", "reconstruction", "kl", "alignment")]
            )
            sums = values if sums is None else sums + values
        means = (sums / max(n_batches, 1)).tolist()
        history["epoch"].append(epoch)
        for k, v in zip(("loss", "reconstruction", "kl", "alignment"), means):
            history[k].append(v)
        current = validate() if validate is not None else means[0]
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
