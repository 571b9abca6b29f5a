"""Training machinery shared by every model: Lightning Fabric for devices, resident-tensor batches.

Why Fabric and not a DataLoader + Trainer: omics tables fit in memory, so the fastest loop keeps
the whole matrix as one tensor on the device and draws batches by index. A per-sample Dataset with
collate costs several times the model's own compute at these sizes (measured in
``benchmarks/speed.py``). Fabric still gives ``accelerator``, ``devices``, ``strategy`` and
``precision`` from Lightning, so GPUs and DDP come from an existing engine.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
import torch
from lightning.fabric import Fabric

_ISOLATION = threading.local()


def check_seed(seed, name: str = "seed", *, allow_none: bool = False) -> int | None:
    """``seed`` as an int, or a clear error (a float, a bool, a negative or huge number)."""
    if seed is None and allow_none:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{name} must be an integer{' or None' if allow_none else ''}, got {seed!r}."
        )
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"{name} must lie in [0, 2**63), got {seed!r}.")
    return int(seed)


@contextlib.contextmanager
def isolated_rng():
    """Run the block with torch's global random generators forked: whatever the block draws or
    seeds there (dropout draws from them), the caller's generators are as before afterwards.

    Every public method of an omixgan model runs inside one (see
    :class:`~omixgan.model._base.OmixModel`), so training and sampling never reseed the user's
    global generators (Python's and NumPy's are never touched at all).
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    _ISOLATION.depth = getattr(_ISOLATION, "depth", 0) + 1
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        _ISOLATION.depth -= 1


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generator (for dropout, which cannot take a generator of its own) and
    return a CPU generator for batch order and noise.

    Must run inside :func:`isolated_rng`, which restores the global generator afterwards:
    reseeding a user's generators is a side effect nobody asked for. Python's and NumPy's global
    generators are not used by omixgan and are left alone.
    """
    seed = check_seed(seed)
    if getattr(_ISOLATION, "depth", 0) < 1:
        raise RuntimeError("seed_everything must run inside omixgan.train.isolated_rng().")
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
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
    fabric = Fabric(
        accelerator=accelerator, devices=devices, strategy=strategy, precision=precision
    )
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

    def __init__(
        self,
        n: int,
        batch_size: int,
        generator: torch.Generator,
        *,
        drop_last: bool = False,
        device="cpu",
        rank: int = 0,
        world_size: int = 1,
    ):
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

    if (
        torch.distributed.is_available()
        and torch.distributed.is_initialized()
        and torch.distributed.get_rank() > 0
    ):
        enabled = False
    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True)
