"""Training loop of :class:`~omixgan.module._counts.CountVAEModule`: Adam, KL warm-up, early
stopping on the held-out cells' negative log-likelihood of the target modalities."""

from __future__ import annotations

import copy

import numpy as np
import torch

from ._loop import IndexBatches


def train_count_vae(
    fabric,
    module,
    X: dict[str, torch.Tensor],
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    *,
    max_epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    kl_warmup_fraction: float,
    patience: int,
    rng: torch.Generator,
    progress_bar,
) -> dict[str, list]:
    """Train on ``X[m][train_rows]``; after every epoch score ``val_rows`` by the NB negative
    log-likelihood per cell of every modality but the source (of the source itself when it is the
    only one), decoded from the source's posterior mean: what translation and generation rely
    on. The best epoch's weights are restored. Returns the history per epoch."""
    raw = module
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    module, optimizer = fabric.setup(module, optimizer)
    device = fabric.device
    rows = torch.as_tensor(train_rows, dtype=torch.long, device=device)
    index = IndexBatches(
        len(train_rows),
        batch_size,
        rng,
        drop_last=len(train_rows) > batch_size,
        device=device,
        rank=fabric.global_rank,
        world_size=fabric.world_size,
    )
    total_steps = max(1, max_epochs * len(index))
    warmup = max(1, int(kl_warmup_fraction * total_steps))
    targets = [m for m in raw.names if m != raw.source] or [raw.source]
    val = torch.as_tensor(val_rows, dtype=torch.long, device=device)
    history = {"epoch": [], "loss": [], "nll": [], "kl": [], "validation": []}
    best, best_state, since, step = np.inf, None, 0, 0
    for epoch in range(1, max_epochs + 1):
        module.train()
        sums, n = None, 0
        for batch in index:
            r = rows[batch]
            terms = module(
                {m: X[m][r] for m in raw.names},
                kl_weight=min(1.0, step / warmup),
                generator=rng if device.type == "cpu" else None,
            )
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(terms["loss"])
            optimizer.step()
            step += 1
            n += 1
            v = torch.stack([terms[k].detach() for k in ("loss", "nll", "kl")])
            sums = v if sums is None else sums + v
        means = (sums / max(n, 1)).tolist()
        history["epoch"].append(epoch)
        for k, v in zip(("loss", "nll", "kl"), means):
            history[k].append(v)
        current = _validation_nll(raw, X, val, targets) if len(val_rows) else means[0]
        history["validation"].append(current)
        progress_bar.set_postfix(validation=f"{current:.4g}", refresh=False)
        progress_bar.update(1)
        # a relative threshold: likelihoods of thousands of genes are large numbers
        if not np.isfinite(best) or current < best - 1e-4 * abs(best):
            best, best_state, since = current, copy.deepcopy(raw.state_dict()), 0
        else:
            since += 1
            if since >= patience:
                progress_bar.update(max_epochs - epoch)
                break
    if best_state is not None:
        raw.load_state_dict(best_state)
    raw.eval()
    return history


@torch.no_grad()
def _validation_nll(
    module, X: dict[str, torch.Tensor], rows: torch.Tensor, targets: list[str]
) -> float:
    module.eval()
    total = 0.0
    for start in range(0, len(rows), 1024):
        r = rows[start : start + 1024]
        mu, _ = module.encode(X[module.source][r])
        for t in targets:
            x = X[t][r]
            # the source keeps its observed library (reconstruction); a target uses the predicted
            # one, exactly as a translation of a cell without the target would
            library = x.sum(dim=1, keepdim=True) if t == module.source else None
            params = module.decoders[t](mu, library)
            total += float(-module.decoders[t].log_likelihood(x, params).sum())
    return total / max(len(rows), 1)
