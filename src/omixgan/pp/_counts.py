"""Checks of count matrices (UMI counts of single-cell RNA or antibody tags), dense or sparse.

A count likelihood (negative binomial) is only meaningful for non-negative whole numbers, and a
cell's counts are only interpretable relative to its library size, so cells without any count
cannot be modelled. These checks say what is wrong, where, and what to do about it, before any
training starts; they never modify the matrix they are given.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

#: Rows checked at once: bounds the temporary memory of a check of a large dense matrix.
CHECK_BLOCK_ROWS = 4096
#: Share of the available memory a model may use for one dense float32 copy of a count matrix;
#: training needs a few more working copies of a batch, so using it all would swap or crash.
MEMORY_FRACTION = 0.5


def _values(X) -> np.ndarray:
    """The stored values of a sparse matrix (zeros are whole and non-negative), or a dense block."""
    return X.data if sp.issparse(X) else np.asarray(X)


def _blocks(X):
    for start in range(0, X.shape[0], CHECK_BLOCK_ROWS):
        yield start, X[start : start + CHECK_BLOCK_ROWS]


def is_count_matrix(X) -> bool:
    """True when every value of ``X`` (dense or sparse, NaN-free) is a non-negative whole number
    and at least one is above 1: such data are counts and get a count likelihood by default.

    The "above 1" condition keeps a matrix of 0/1 indicators or of beta values that happen to be
    exactly 0 or 1 away from the count likelihood.
    """
    top = 0.0
    for _, block in _blocks(X):
        v = _values(block)
        if v.size == 0:
            continue
        if not np.all(np.isfinite(v)) or v.min() < 0 or not np.array_equal(v, np.round(v)):
            return False
        top = max(top, float(v.max()))
    return top > 1


def check_counts(
    X, *, obs_names=None, var_names=None, name: str = "the data", argument: str = "data_types"
) -> None:
    """Raise a ``ValueError`` naming the first offending cell and gene when ``X`` is not a matrix
    of non-negative whole-number counts, or when a cell has no count at all; warn about genes
    without any count (harmless to the likelihood, useless to the model).

    Parameters
    ----------
    X
        Cells x genes, dense or scipy sparse.
    obs_names, var_names
        Names used in the messages (positions when None).
    name
        What the matrix is, e.g. ``"modality 'rna'"``.
    argument
        The argument that asked for a count likelihood, named in the message so the user knows how
        to choose another one.
    """
    cell = (lambda i: repr(str(obs_names[i]))) if obs_names is not None else (lambda i: f"#{i}")
    gene = (lambda j: repr(str(var_names[j]))) if var_names is not None else (lambda j: f"#{j}")
    gene_total = np.zeros(X.shape[1])
    for start, block in _blocks(X):
        dense = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
        bad = ~np.isfinite(dense)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(
                f"{name} has {int(bad.sum())} missing or infinite value(s), e.g. cell "
                f"{cell(start + i)}, gene "
                f"{gene(j)}; counts cannot be missing: drop those cells or genes."
            )
        for what, mask, hint in (
            ("negative", dense < 0, "counts are never negative"),
            ("non-integer", dense != np.round(dense), "the count likelihood needs raw counts"),
        ):
            if mask.any():
                i, j = np.argwhere(mask)[0]
                raise ValueError(
                    f"{name} has {int(mask.sum())} {what} value(s) (e.g. {dense[i, j]:g} for cell "
                    f"{cell(start + i)}, "
                    f"gene {gene(j)}): {hint}. Pass the raw counts (e.g. layer='counts' when .X "
                    "holds "
                    "log-normalised values) or choose a continuous likelihood with "
                    f"{argument}=... 'gaussian'."
                )
        empty = np.flatnonzero(dense.sum(axis=1) == 0)
        if len(empty):
            raise ValueError(
                f"{name} has cell(s) without any count, e.g. {cell(start + empty[0])}: a cell's "
                "counts are modelled "
                "relative to its library size, which is zero here. Remove them first, e.g. "
                "sc.pp.filter_cells(adata, min_counts=1)."
            )
        gene_total += dense.sum(axis=0)
    empty_genes = np.flatnonzero(gene_total == 0)
    if len(empty_genes):
        warnings.warn(
            f"{name}: {len(empty_genes)} gene(s) have no count in any cell, e.g. "
            f"{gene(empty_genes[0])}; they carry "
            "no information. Consider sc.pp.filter_genes(adata, min_cells=1).",
            UserWarning,
            stacklevel=2,
        )


def available_memory() -> int:
    """Bytes of memory available to this process now (MemAvailable on Linux; else a large guess
    so that the check never blocks a machine it cannot measure)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62


def check_dense_fits(
    n_obs: int,
    n_vars: int,
    *,
    name: str = "the data",
    copies: int = 1,
    available: int | None = None,
) -> None:
    """Raise a ``MemoryError`` with advice when ``copies`` dense float32 copies of an
    ``n_obs`` x ``n_vars`` matrix would take more than :data:`MEMORY_FRACTION` of the available
    memory: a whole transcriptome (30,000 genes) of many cells, which count models do not need.

    ``available``: bytes to compare with (default: :func:`available_memory`).
    """
    need = 4 * int(n_obs) * int(n_vars) * int(copies)
    have = available_memory() if available is None else int(available)
    if need > MEMORY_FRACTION * have:
        raise MemoryError(
            f"{name} has {n_obs:,} cells x {n_vars:,} genes: as a dense matrix it needs "
            f"{need / 2**30:.1f} GiB, "
            f"more than half of the {have / 2**30:.1f} GiB of memory available. Select highly "
            "variable genes "
            "first, e.g. sc.pp.highly_variable_genes(adata, n_top_genes=2000, flavor='seurat_v3', "
            "subset=True) "
            "on the raw counts (a few thousand genes carry the cell-to-cell variation that models "
            "learn)."
        )
