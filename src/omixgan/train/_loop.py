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
    means one process (the BLAS threads already use every core). With ``strategy="ddp"`` and
    ``devices > 1`` Lightning starts the other processes by running the calling script again (as in
    any Lightning script), so call ``train`` from a script, under ``if __name__ == "__main__"``.
    """
    if accelerator in ("auto", "cpu") and devices == "auto" and not torch.cuda.is_available():
        devices = 1
    fabric = Fabric(accelerator=accelerator, devices=devices, strategy=strategy, precision=precision)
    fabric.launch()
    return fabric


def device_generator(rng: torch.Generator, device: torch.device) -> torch.Generator:
    """A generator that draws noise directly on ``device`` (no host-to-device copy per step),
    seeded from ``rng``; on the CPU, ``rng`` itself."""
    device = torch.device(device)
    if device.type == "cpu":
        return rng
    generator = torch.Generator(device=device)
    generator.manual_seed(int(torch.randint(2**62, (1,), generator=rng)))
    return generator


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
    rank, world_size
        Under data-parallel training every process draws the same permutation (same seed) and
        takes its own contiguous share of it, so the processes see disjoint rows and the same
        number of batches (DDP needs that). ``batch_size`` is per process, as in Lightning.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, *, drop_last: bool = False, device="cpu", rank: int = 0, world_size: int = 1):
        if n < 1:
            raise ValueError("cannot draw batches from an empty data set.")
        if n < world_size:
            raise ValueError(f"cannot share {n} rows among {world_size} processes.")
        self.n = n
        self.n_local = n // world_size
        self.batch_size = min(int(batch_size), self.n_local)
        self.generator = generator
        self.drop_last = drop_last
        self.device = device
        self.rank = rank

    def __len__(self) -> int:
        full, rest = divmod(self.n_local, self.batch_size)
        return full + (0 if self.drop_last or rest == 0 else 1)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(self.n, generator=self.generator)
        share = order[self.rank * self.n_local : (self.rank + 1) * self.n_local].to(self.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield share[start : start + self.batch_size]


def progress_bar(total: int, *, enabled: bool, desc: str):
    """A tqdm progress bar counting ``total`` steps; a silent no-op bar when not ``enabled`` and in
    every data-parallel process but the first."""
    from tqdm.auto import tqdm

    if torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_rank() > 0:
        enabled = False
    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True)
