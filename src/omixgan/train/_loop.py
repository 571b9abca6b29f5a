"""Training machinery shared by every model: Lightning Fabric for devices, resident-tensor batches.

Why Fabric and not a DataLoader + Trainer: omics tables fit in memory, so the fastest loop keeps
the whole matrix as one tensor on the device and draws batches by index. A per-sample Dataset with
collate costs several times the model's own compute at these sizes (measured in
``benchmarks/speed.py``). Fabric still gives ``accelerator``, ``devices``, ``strategy`` and
``precision`` from Lightning, so GPUs and DDP come from an existing engine.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import torch
from lightning.fabric import Fabric


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator for batch order and noise."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {seed!r}.")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


def make_fabric(
    accelerator: str = "auto",
    devices: int | str | list[int] = "auto",
    strategy: str = "auto",
    precision: str | int | None = None,
) -> Fabric:
    """A launched Lightning Fabric for the requested hardware.

    ``accelerator="auto"`` picks a GPU when one is visible, else the CPU; on CPU ``devices="auto"``
    means one process (the BLAS threads already use every core).
    """
    if accelerator in ("auto", "cpu") and devices == "auto" and not torch.cuda.is_available():
        devices = 1
    fabric = Fabric(accelerator=accelerator, devices=devices, strategy=strategy, precision=precision)
    fabric.launch()
    return fabric


class IndexBatches:
    """Shuffled mini-batches of row indices, drawn on the device where the data already lives.

    Parameters
    ----------
    n
        Number of rows.
    batch_size
        Rows per batch; the last, smaller batch is dropped when ``drop_last`` (GAN critics and
        batch statistics misbehave on a batch of one or two rows).
    generator
        Seeded CPU generator, so the batch order follows the model's ``seed``.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, *, drop_last: bool = False, device="cpu"):
        if n < 1:
            raise ValueError("cannot draw batches from an empty data set.")
        self.n = n
        self.batch_size = min(int(batch_size), n)
        self.generator = generator
        self.drop_last = drop_last
        self.device = device

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (0 if self.drop_last or rest == 0 else 1)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(self.n, generator=self.generator).to(self.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield order[start : start + self.batch_size]


def progress_bar(total: int, *, enabled: bool, desc: str):
    """A tqdm progress bar counting ``total`` steps; a silent no-op bar when not ``enabled``."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True)
