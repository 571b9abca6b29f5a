"""Training from an on-disk matrix (backed AnnData / MuData): blocks of rows, never the whole file.

A backed ``.X`` (an HDF5 dataset, dense or sparse) is read in contiguous blocks of rows, which is
what HDF5 reads fast. Shuffling happens at two levels: the blocks are visited in a random order
and several blocks are pooled and their rows shuffled together before being cut into
mini-batches. Memory is bounded by the pool (``buffer_mb``), whatever the file size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .._utils import to_dense
from ..pp import Pipeline, Standardize, resolve_data_type

#: Blocks pooled and shuffled together: rows of one block are neighbours in the file (often
#: sorted by batch or class), so a mini-batch should mix several blocks.
POOLED_BLOCKS = 4

#: Memory of a sequential pass (statistics, encoding): passes need no pooling, so small blocks
#: cost nothing in quality and keep such passes far below the training buffer.
PASS_MB = 4.0


class OnDiskMatrix:
    """Row blocks of a backed AnnData's ``.X``, as dense float32.

    Parameters
    ----------
    adata
        An AnnData opened with ``backed="r"`` (or a modality of a backed MuData).
    buffer_mb
        Memory for data in training: a block is ``buffer_mb / 4`` (four blocks are pooled). The
        default is for sequential passes.
    name
        How the data is named in error messages.
    """

    def __init__(
        self, adata, *, buffer_mb: float = POOLED_BLOCKS * PASS_MB, name: str = "the data"
    ):
        if not getattr(adata, "isbacked", False):
            raise TypeError("OnDiskMatrix needs an AnnData opened with backed='r'.")
        if not (
            isinstance(buffer_mb, (int, float))
            and not isinstance(buffer_mb, bool)
            and buffer_mb > 0
        ):
            raise ValueError(f"buffer_mb must be a positive number, got {buffer_mb!r}.")
        self.matrix = adata.X
        self.obs_names = pd.Index(adata.obs_names)
        self.n_obs, self.n_vars = adata.shape
        self.name = name
        bytes_per_row = 4 * max(self.n_vars, 1)
        self.block_rows = max(1, int(buffer_mb * 2**20 / POOLED_BLOCKS / bytes_per_row))

    @property
    def starts(self) -> range:
        return range(0, self.n_obs, self.block_rows)

    def block(self, start: int) -> np.ndarray:
        """Rows ``start`` to ``start + block_rows`` as dense float32; an error names a sample
        with NaN."""
        stop = min(start + self.block_rows, self.n_obs)
        X = to_dense(self.matrix[start:stop])
        bad = np.isnan(X).any(axis=1)
        if bad.any():
            rows = start + np.flatnonzero(bad)
            names = ", ".join(map(str, self.obs_names[rows[:3]]))
            raise ValueError(
                f"{self.name} has missing values (NaN) in sample(s) {names}"
                f"{' and others' if len(rows) > 3 else ''} (on disk, rows {rows[0]}...). Models "
                "need complete data: fill them with omixgan.pp.impute_mean or drop those samples."
            )
        return X

    def blocks(self):
        for start in self.starts:
            yield start, self.block(start)

    def rows(self, index: np.ndarray, transform=None) -> np.ndarray:
        """The rows ``index`` (sorted), read block by block and passed through ``transform``."""
        index = np.sort(np.asarray(index, dtype=np.int64))
        parts = [np.empty((0, self.n_vars), dtype=np.float32)]
        for start in self.starts:
            inside = index[(index >= start) & (index < start + self.block_rows)]
            if len(inside):
                rows = self.block(start)[inside - start]
                parts.append(rows if transform is None else transform(rows))
        return np.concatenate(parts)


def fit_pipeline_on_disk(
    disk: OnDiskMatrix, data_type: str | None, modality: str | None = None
) -> tuple[Pipeline, str]:
    """The model pipeline of :func:`~omixgan.model._base.default_pipeline`, fitted in two passes
    over the blocks (range, then mean and spread in float64) instead of on the whole matrix."""
    data_type = data_type_on_disk(disk, data_type, modality)
    return fit_typed_pipeline_on_disk(disk, data_type), data_type


def data_type_on_disk(disk: OnDiskMatrix, data_type: str | None, modality: str | None = None):
    """The data type of :func:`~omixgan.pp.resolve_data_type` from one pass over the blocks: the
    declared type, else the name with the value range (two values stand in for the matrix)."""
    lo, hi = np.inf, -np.inf
    for _, X in disk.blocks():
        if X.size:
            lo, hi = min(lo, float(np.nanmin(X))), max(hi, float(np.nanmax(X)))
    # counts are not detected from a range: two whole numbers do not make a count matrix
    return resolve_data_type(
        np.array([[lo], [hi]], dtype=np.float64), data_type, name=modality, detect_counts=False
    )


def fit_typed_pipeline_on_disk(disk: OnDiskMatrix, data_type: str) -> Pipeline:
    """The default pipeline of a resolved ``data_type``, its z-score fitted in one pass over the
    blocks (mean and spread in float64)."""
    pipeline = Pipeline.default_for(None, data_type)
    *stateless, standardize = pipeline.steps
    assert isinstance(standardize, Standardize), "the default pipelines end in a z-score"
    total = np.zeros(disk.n_vars)
    squares = np.zeros(disk.n_vars)
    for _, X in disk.blocks():
        for step in stateless:
            X = step.transform(X)
        total += X.sum(axis=0, dtype=np.float64)
        squares += np.square(X).sum(axis=0, dtype=np.float64)
    mean = total / disk.n_obs
    std = np.sqrt(np.clip(squares / disk.n_obs - mean**2, 0, None))
    standardize.params = {"mean": mean, "std": std}
    return pipeline


class OnDiskBatches:
    """Shuffled mini-batches read from disk: ``({"X": rows}, {"X": ones})`` in model space.

    Every epoch the blocks are visited in a random order (from ``rng``), :data:`POOLED_BLOCKS` at a
    time; the pooled rows, minus ``exclude`` (validation rows), are shuffled and cut into batches.
    Under data-parallel training each process reads its own share of the blocks and all stop at
    the same number of batches.
    """

    def __init__(
        self,
        disk: OnDiskMatrix,
        pipeline: Pipeline,
        batch_size: int,
        rng: torch.Generator,
        *,
        exclude: np.ndarray,
        device,
        key: str = "X",
        rank: int = 0,
        world_size: int = 1,
    ):
        self.disk, self.pipeline, self.rng, self.device, self.key = disk, pipeline, rng, device, key
        self.batch_size = int(batch_size)
        self.rank, self.world_size = rank, world_size
        self.keep = np.ones(disk.n_obs, dtype=bool)
        self.keep[np.asarray(exclude, dtype=np.int64)] = False
        starts = np.asarray(disk.starts)
        self.rows_per_block = np.array([self.keep[s : s + disk.block_rows].sum() for s in starts])
        if len(starts) < world_size:
            raise ValueError(
                f"{len(starts)} block(s) on disk cannot be shared among {world_size} processes; "
                "lower buffer_mb."
            )

    def _shares(self) -> list[np.ndarray]:
        order = torch.randperm(len(self.rows_per_block), generator=self.rng).numpy()
        return np.array_split(order, self.world_size)

    def __len__(self) -> int:
        return max(1, int(self.keep.sum()) // self.world_size // self.batch_size)

    def __iter__(self):
        shares = self._shares()
        # the same count in every process, or DDP waits forever for the missing gradient
        n_batches = min(int(self.rows_per_block[s].sum()) // self.batch_size for s in shares)
        n_batches = max(n_batches, 1)
        mine = shares[self.rank]
        done, carry = 0, np.empty((0, self.disk.n_vars), dtype=np.float32)
        for first in range(0, len(mine), POOLED_BLOCKS):
            parts = [carry]
            for b in mine[first : first + POOLED_BLOCKS]:
                start = b * self.disk.block_rows
                block = self.disk.block(start)[self.keep[start : start + self.disk.block_rows]]
                parts.append(self.pipeline.transform(block))
            pool = np.concatenate(parts)
            del parts
            # batches gather rows through a permutation: no shuffled copy of the pool
            order = torch.randperm(len(pool), generator=self.rng).numpy()
            n_full = len(pool) // self.batch_size
            for k in range(n_full):
                if done == n_batches:
                    return
                rows = torch.from_numpy(
                    pool[order[k * self.batch_size : (k + 1) * self.batch_size]]
                ).to(self.device, non_blocking=True)
                yield {self.key: rows}, {self.key: torch.ones(len(rows), device=self.device)}
                done += 1
            carry = pool[
                order[n_full * self.batch_size :]
            ]  # too few for a batch: into the next pool


def validation_rows(n_obs: int, fraction: float, seed: int, maximum: int = 2048) -> np.ndarray:
    """Sorted row indices held out for validation: ``fraction`` of the rows, at most ``maximum``
    (a few thousand rows estimate a validation error well; more would only cost memory: they are
    kept in memory)."""
    n_val = min(int(round(fraction * n_obs)), maximum)
    return (
        np.sort(np.random.default_rng(seed).choice(n_obs, size=n_val, replace=False))
        if n_val
        else np.empty(0, dtype=np.int64)
    )
