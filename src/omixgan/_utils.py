"""Internal helpers shared across subpackages: one way to get a dense matrix out of an AnnData.

Not public API. Four subpackages used to carry their own copy (``tl._baselines._dense``,
``pp._functions._matrix``, ``model._base.OmixModel._matrix``, ``pl._plots._dense``), each with a
slightly different error; they can all call :func:`get_matrix`.
"""

from __future__ import annotations

import anndata as ad
import numpy as np

# Row blocks of about this many bytes bound the temporary memory of elementwise work (a boolean
# NaN mask of a large matrix costs a quarter of the matrix).
BLOCK_BYTES = 64 * 2**20


def to_dense(X, dtype=np.float32) -> np.ndarray:
    """``X`` (ndarray, scipy sparse matrix, array-like) as a dense ndarray of ``dtype``.

    No copy when ``X`` is already a dense array of that dtype.
    """
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.asarray(X, dtype=dtype)


def row_blocks(X: np.ndarray, block_bytes: int = BLOCK_BYTES) -> list[slice]:
    """Slices of consecutive rows of ``X``, each about ``block_bytes`` of float32."""
    n_rows = X.shape[0] if X.ndim else 1
    width = X.shape[1] if X.ndim == 2 else 1
    step = max(1, block_bytes // (4 * max(1, width)))
    return [slice(start, start + step) for start in range(0, max(n_rows, 1), step)]


def count_nan(X: np.ndarray) -> int:
    """Number of NaN values of ``X``, counted one row block at a time."""
    if not np.issubdtype(X.dtype, np.floating):
        return 0
    return sum(int(np.isnan(X[rows]).sum()) for rows in row_blocks(X))


def get_matrix(
    adata: ad.AnnData,
    layer: str | None = None,
    *,
    dtype=np.float32,
    allow_nan: bool = True,
    name: str | None = None,
) -> np.ndarray:
    """``adata.X`` or ``adata.layers[layer]`` as a dense ndarray of ``dtype``.

    Parameters
    ----------
    adata
        The AnnData (one modality).
    layer
        A key of ``adata.layers``; None reads ``.X``.
    dtype
        float32 for models (what torch trains in), float64 for metrics and baselines.
    allow_nan
        False: a ValueError that counts the missing values and names the first samples that
        have them, with the fix (models and baselines need complete data).
    name
        How the error messages call the data (e.g. ``"modality 'meth'"``); default ``"the data"``.

    Returns
    -------
    ndarray
        Samples x features; the input is never modified.
    """
    if hasattr(adata, "mod"):  # a MuData
        raise TypeError(f"pass one modality (an AnnData), e.g. mdata[{next(iter(adata.mod))!r}].")
    if layer is not None and layer not in adata.layers:
        raise KeyError(f"layer {layer!r} not found; available layers: {list(adata.layers)}.")
    X = adata.X if layer is None else adata.layers[layer]
    if X is None:
        raise ValueError("adata.X is empty; pass `layer=` to name the matrix to use.")
    X = to_dense(X, dtype)
    if not allow_nan:
        n_nan = count_nan(X)
        if n_nan:
            rows = np.flatnonzero(np.isnan(X).any(axis=1))
            raise ValueError(
                f"{name or 'the data'} has {n_nan} missing values (NaN) in {len(rows)} sample(s), "
                "e.g. "
                f"{', '.join(map(str, adata.obs_names[rows[:3]]))}. Fill them with "
                "omixgan.pp.impute_mean or drop those samples."
            )
    return X


def make_mudata(modalities: dict[str, ad.AnnData]):
    """A MuData of ``modalities``, without mudata's warning about feature names shared between
    modalities (genes measured as mRNA and as protein): omixgan always addresses features through
    their modality, so shared names are expected, not a problem."""
    import warnings

    import mudata as md

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot join columns with the same name")
        warnings.filterwarnings("ignore", category=FutureWarning, module="mudata")
        return md.MuData(modalities)


def stratified_subset(names, labels, n: int, random_state: int = 0) -> np.ndarray:
    """At most ``n`` of ``names``, stratified by ``labels``, sorted (all of them when fewer)."""
    from sklearn.model_selection import train_test_split

    names = np.asarray(names)
    if len(names) <= n:
        return names
    keep, _ = train_test_split(
        names, train_size=n, stratify=np.asarray(labels), random_state=random_state
    )
    return np.sort(keep)


def first_per_class(data, labels_key: str, counts: dict):
    """A copy of the first ``counts[c]`` samples of every class ``c`` of ``data`` (in order)."""
    labels = data.obs[labels_key].astype(str).to_numpy()
    keep = np.concatenate([np.flatnonzero(labels == str(c))[:n] for c, n in counts.items()])
    return data[data.obs_names[np.sort(keep)]].copy()
