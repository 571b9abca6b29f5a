"""Internal helpers shared across subpackages (not public API).

One place for what several subpackages need, so that none imports another's private module:
dense matrices out of an AnnData (:func:`get_matrix`, once four copies with slightly different
errors), argument checks with clear messages, count-matrix checks, the data-type record, the
synthetic AnnData every generator returns, and the Gaussian start shared by the GANs and the
class-Gaussian baseline.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import ndtri

#: Beta values are clipped to [eps, 1 - eps] before the logit: 0 and 1 occur in real arrays
#: and would map to infinity. 1e-6 keeps M-values within about +-20, far beyond biology.
BETA_EPS = 1e-6

# Row blocks of about this many bytes bound the temporary memory of elementwise work (a boolean
# NaN mask of a large matrix costs a quarter of the matrix).
BLOCK_BYTES = 64 * 2**20


def stacklevel_outside_package() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside omixgan (the user's
    line), for a warning issued by the function that calls this one: the depth of the package's
    own calls differs between models and functions (wrappers, ``super().__init__``)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("omixgan"):
        frame, level = frame.f_back, level + 1
    return level


def missing_layer(
    layer: str, adata: ad.AnnData, where: str = "", *, from_setup: bool = False
) -> KeyError:
    """The error for a ``layer`` that ``adata`` lacks: the layers it has, and the closest name
    when the requested one looks misspelt (``"count"`` for ``"counts"``); ``where`` follows
    "not found" (e.g. ``" in modality 'rna'"``); ``from_setup``: the layer is the one the model
    was set up with."""
    import difflib

    close = difflib.get_close_matches(str(layer), [str(k) for k in adata.layers], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return KeyError(
        f"layer {layer!r}{' (from setup)' if from_setup else ''} not found{where}; available "
        f"layers: {list(adata.layers)}.{hint}"
    )


def to_dense(X, dtype=np.float32) -> np.ndarray:
    """``X`` (ndarray, scipy sparse matrix, array-like) as a dense ndarray of ``dtype``.

    No copy when ``X`` is already a dense array of that dtype.
    """
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.asarray(X, dtype=dtype)


def row_blocks(X: np.ndarray, block_bytes: int = BLOCK_BYTES) -> list[slice]:
    """Slices of consecutive rows of ``X``, each about ``block_bytes`` of float32 (a 1-D array is
    one block)."""
    n_rows = len(X) if X.ndim else 1
    step = max(1, block_bytes // (4 * max(1, X.shape[1]))) if X.ndim == 2 else max(1, n_rows)
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
        raise missing_layer(layer, adata)
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


# --- data types ---------------------------------------------------------------------------------
#: ``.uns`` key where a reader records the data type its file format declares (e.g. the course's
#: ``meth.txt`` holds beta values); functions without a modality name, such as the baselines,
#: read it with :func:`omixgan.pp.declared_data_type`.
DATA_TYPE_KEY = "omixgan_data_type"


class DataType(str):
    """A data type (``"beta"`` or ``"gaussian"``) that also says why it was chosen (``.reason``).

    It compares, prints and saves as the plain string; models show the reason in their summary.
    """

    def __new__(cls, value: str, reason: str = ""):
        obj = super().__new__(cls, value)
        obj.reason = reason
        return obj

    def __reduce__(self):
        return (DataType, (str(self), self.reason))


# --- argument checks ----------------------------------------------------------------------------
def check_modalities(mdata: md.MuData, modalities: Sequence[str], argument: str) -> None:
    for mod in modalities:
        if mod not in mdata.mod:
            raise KeyError(
                f"{argument}: {mod!r} is not a modality of this MuData; it has {list(mdata.mod)}."
            )


def check_modality_list(mdata: md.MuData, modalities) -> list[str]:
    """``modalities`` as a list of two or more modalities of ``mdata``, or a clear error."""
    if isinstance(modalities, str) or len(modalities) < 2:
        raise ValueError(f"modalities must name at least two modalities, got {modalities!r}.")
    modalities = list(modalities)
    check_modalities(mdata, modalities, "modalities")
    return modalities


def check_labels_key(data: ad.AnnData | md.MuData, labels_key: str | None) -> None:
    if labels_key is not None and labels_key not in data.obs:
        where = "mdata.obs" if isinstance(data, md.MuData) else "adata.obs"
        raise KeyError(
            f"labels_key={labels_key!r} is not a column of {where}; columns: "
            f"{list(data.obs.columns)}. "
            "For a MuData, run mdata.pull_obs() if the labels live on a modality."
        )
    if labels_key is not None and data.obs[labels_key].isna().any():
        missing = data.obs_names[data.obs[labels_key].isna().to_numpy()]
        raise ValueError(
            f"labels_key={labels_key!r} has no label for {len(missing)} sample(s), e.g. "
            f"{', '.join(map(str, missing[:3]))}; label them or drop them."
        )


def check_unique_names(
    data: ad.AnnData | md.MuData, modalities: Sequence[str] | None = None
) -> None:
    """Refuse duplicated sample or feature names: rows and columns are matched by name, and a
    duplicated name would match two of them (or crash deep inside a model)."""
    parts = [("the MuData", data)] if isinstance(data, md.MuData) else [("the data", data)]
    if isinstance(data, md.MuData):
        parts += [
            (f"modality {m!r}", data.mod[m]) for m in (modalities or data.mod) if m in data.mod
        ]
    for where, part in parts:
        for axis, names in (("sample", part.obs_names), ("feature", part.var_names)):
            if isinstance(part, md.MuData) and axis == "feature":
                continue  # features are addressed per modality; genes may repeat across them
            if names.has_duplicates:
                dup = names[names.duplicated()].unique()
                fix = "obs_names_make_unique()" if axis == "sample" else "var_names_make_unique()"
                raise ValueError(
                    f"{where} has {len(dup)} duplicated {axis} name(s), e.g. "
                    f"{', '.join(repr(str(d)) for d in dup[:3])}; samples and features are matched "
                    "by "
                    f"name, so every name must be unique. Rename them (e.g. .{fix}) or drop the "
                    "duplicates."
                )


def name_differences(names, others, names_only: str, others_only: str) -> list[str]:
    """``["3 <names_only> (e.g. a, b, c)", ...]``: the names in only one of the two lists, in
    their order, for error messages (empty when both hold the same names)."""
    in_names, in_others = set(names), set(others)
    parts = []
    for only, label in (
        ([str(v) for v in names if v not in in_others], names_only),
        ([str(v) for v in others if v not in in_names], others_only),
    ):
        if only:
            parts.append(f"{len(only)} {label} (e.g. {', '.join(only[:3])})")
    return parts


def raise_feature_mismatch(modality, expected: np.ndarray, given: np.ndarray):
    where = f"modality {modality!r}" if modality else "the data"
    detail = name_differences(expected, given, "missing", "unknown")
    if not detail:
        detail.append("the same names in another order")
    raise ValueError(
        f"features of {where} differ from those the model was trained on ({len(expected)} "
        "expected, "
        f"{len(given)} given): {'; '.join(detail)}. Subset/reorder with adata[:, model_var_names]."
    )


# --- generators -----------------------------------------------------------------------------------
#: ``per_class=None`` trains one residual per class when every class has at least this many
#: samples; below it one conditional residual shares strength across classes (a residual learned
#: from a few dozen samples of one class memorises them). :func:`omixgan.tl.oversample` asks the
#: same when it chooses a GAN per class.
MIN_SAMPLES_PER_CLASS = 100


def resolve_counts(n_per_class: int | dict, classes: Sequence[str]) -> dict[str, int]:
    """``n_per_class`` as ``{class: count}``; an int means that many of every class.

    A dict may name a subset of the classes; naming a class that does not exist is an error.
    """
    classes = [str(c) for c in classes]
    if isinstance(n_per_class, dict):
        counts = {str(k): v for k, v in n_per_class.items()}
        unknown = [k for k in counts if k not in classes]
        if unknown:
            raise KeyError(f"unknown class(es) {unknown} in n_per_class; known classes: {classes}.")
    else:
        counts = {c: n_per_class for c in classes}
    for cls_name, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(
                f"n_per_class must be a non-negative integer per class, got {n!r} for class "
                f"{cls_name!r}."
            )
    return {c: int(n) for c, n in counts.items()}


def synthetic_adata(
    X: np.ndarray, labels: np.ndarray, var_names, labels_key: str | None, *, prefix: str
) -> ad.AnnData:
    """The AnnData every generator returns: ``obs[labels_key]`` (categorical) and
    ``obs["synthetic"]``."""
    obs = pd.DataFrame(index=pd.Index([f"{prefix}_{i}" for i in range(len(X))]))
    if labels_key is not None:
        obs[labels_key] = pd.Categorical(np.asarray(labels, dtype=str))
    obs["synthetic"] = True
    return ad.AnnData(
        X=np.asarray(X, dtype=np.float32), obs=obs, var=pd.DataFrame(index=pd.Index(var_names))
    )


# --- the Gaussian start (GANs and the class-Gaussian baseline) ------------------------------------
#: Most grid points an empirical marginal keeps per feature (quantiles above this many samples).
MAX_GRID = 1001


def shrinkage_factor(
    Z: np.ndarray, rank: int, shrink: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A factor of the Ledoit-Wolf shrunk correlation of the standardised rows ``Z`` (``shrink``:
    the Ledoit-Wolf intensity when the caller has estimated it already; None: estimated here).

    Returns ``(loadings, diag)`` with ``loadings @ loadings.T + diag(diag**2)`` equal to the
    Ledoit-Wolf estimate (shrunk towards the identity, so every variance is 1) when the class has
    at most ``rank + 1`` samples or features, and its best rank-``rank`` approximation with exact
    variances otherwise. Samples ``x = loadings @ z1 + diag * z2`` are then that Gaussian: a
    linear noise path that costs features x rank, not features squared.
    """
    from sklearn.covariance import ledoit_wolf_shrinkage

    n, p = Z.shape
    if n < 2:
        return np.zeros((p, rank)), np.ones(p)
    centred = Z - Z.mean(axis=0)
    if shrink is None:  # a caller that needs the intensity too computes it once
        shrink = float(ledoit_wolf_shrinkage(centred, assume_centered=True))
    _, s, vt = np.linalg.svd(centred / np.sqrt(n), full_matrices=False)  # sample covariance axes
    k = min(rank, len(s))
    loadings = np.zeros((p, rank))
    loadings[:, :k] = vt[:k].T * (np.sqrt(1 - shrink) * s[:k])
    target = (centred**2).mean(axis=0) * (1 - shrink) + shrink * (centred**2).mean()
    diag = np.sqrt(np.clip(target - (loadings**2).sum(axis=1), 1e-8, None))
    return loadings, diag


def block_shrinkage_factor(
    Z: np.ndarray, rank: int, blocks: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shrinkage_factor` for features in ``blocks`` (consecutive column counts, e.g.
    modalities), with every block's correlations *with another block* shrunk towards zero by
    that pair of blocks' own Ledoit-Wolf intensity when it is stronger than the overall one.

    One overall intensity suits correlations within a modality, which are many and strong, but
    not those between modalities that are coupled weakly or only through the class: there the
    sample correlations are mostly chance, and a start that keeps them makes one modality too
    predictable from another (the translator consistency of the multi-omics benchmark). For
    each pair of blocks ``a, b`` the intensity is the Ledoit-Wolf ratio of the estimated
    variance of the sample covariances of the pair to their squared sum,
    ``sum Var(s_ij) / sum s_ij^2`` over ``i`` in ``a``, ``j`` in ``b`` (target 0), so a pair
    whose correlations are no larger than their noise is decoupled and a strongly coupled pair
    keeps its coupling. The result is the Hadamard product of the shrunk correlation with the
    block matrix ``F`` of kept fractions (1 within blocks): positive semi-definite when ``F`` is;
    when it is not, the product's negative eigen-part is dropped (rows whose variance that
    raised are scaled back), and variances stay exact.
    """
    from sklearn.covariance import ledoit_wolf_shrinkage

    n, p = Z.shape
    edges = np.cumsum([0, *blocks])
    if edges[-1] != p:
        raise ValueError(f"blocks {list(blocks)} cover {edges[-1]} features, the data has {p}.")
    if len(blocks) < 2 or n < 2:
        return shrinkage_factor(Z, rank)
    centred = Z - Z.mean(axis=0)
    shrink = float(ledoit_wolf_shrinkage(centred, assume_centered=True))
    within = 1.0 - shrink
    parts = [centred[:, a:b] for a, b in zip(edges[:-1], edges[1:])]
    norms = [(part**2).sum(axis=1) for part in parts]
    m = len(blocks)
    F = np.eye(m)
    for a in range(m):
        for b in range(a + 1, m):
            S = parts[a].T @ parts[b] / n
            total = float((S**2).sum())
            noise = float((norms[a] * norms[b]).sum()) / n**2 - total / n
            kept = 1.0 - min(max(noise / total, 0.0), 1.0) if total > 0 else 0.0
            F[a, b] = F[b, a] = min(1.0, kept / within) if within > 0 else 0.0
    loadings, diag = shrinkage_factor(Z, min(n, p), shrink)  # every axis: the product is exact
    variance = (loadings**2).sum(axis=1) + diag**2
    block_of = np.repeat(np.arange(m), blocks)
    # (L L^T) o F = sum_k w_k diag(v_k) L L^T diag(v_k) = W diag(s) W^T, F = sum_k w_k v_k v_k^T.
    # F need not be positive semi-definite (a modality coupled to two that are not coupled to
    # each other); then only the product's negative part is removed, not F's, which would also
    # weaken the strong pairs.
    values, vectors = np.linalg.eigh(F)
    used = np.flatnonzero(np.abs(values) > 1e-12)
    W = np.hstack([vectors[block_of, k][:, None] * loadings for k in used])
    signs = np.repeat(values[used], loadings.shape[1])
    q, r = np.linalg.qr(W)
    core_values, core_vectors = np.linalg.eigh((r * signs) @ r.T)
    top = np.argsort(core_values)[::-1][:rank]
    top = top[core_values[top] > 0]
    out = np.zeros((p, rank))
    out[:, : len(top)] = (q @ core_vectors[:, top]) * np.sqrt(core_values[top])
    # dropping a negative part can raise a variance above the start's: scale such rows back
    explained = (out**2).sum(axis=1)
    over = explained > variance
    out[over] *= np.sqrt(variance[over] / explained[over])[:, None]
    return out, np.sqrt(np.clip(variance - (out**2).sum(axis=1), 1e-8, None))


def correlation_factor(C: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """A factor of the correlation of a given covariance ``C``, taken as it is (no shrinkage).

    Returns ``(loadings, diag)`` in :func:`shrinkage_factor`'s form: ``loadings @ loadings.T +
    diag(diag**2)`` is the correlation of ``C`` when ``rank`` covers its features, its leading
    ``rank`` eigen-axes with exact (unit) variances otherwise. For a start that was estimated
    elsewhere, e.g. the calibrated Gaussian of a class of counts, which is already a shrunk
    estimate: shrinking it again would pull it towards the identity a second time.
    """
    p = len(C)
    sd = np.sqrt(np.clip(np.diag(C), 1e-300, None))
    R = C / np.outer(sd, sd)
    w, V = np.linalg.eigh((R + R.T) / 2)  # ascending
    k = min(rank, p)
    loadings = np.zeros((p, rank))
    loadings[:, :k] = V[:, ::-1][:, :k] * np.sqrt(np.clip(w[::-1][:k], 0.0, None))
    diag = np.sqrt(np.clip(1.0 - (loadings**2).sum(axis=1), 1e-8, None))
    return loadings, diag


class EmpiricalMarginals:
    """Per-feature monotone map to normal scores through the empirical distribution (a copula's
    marginals), with its inverse; linear extrapolation beyond the observed range.

    Real omics features are skewed, heavy-tailed or bimodal; a Gaussian drawn in normal-score
    space and mapped back has each feature's observed marginal, as the Gaussian copula of SDV
    does. State: sorted values (or quantiles) per feature, so it is saved with a model.
    """

    def __init__(self, grid: np.ndarray | None = None):
        self.grid = None if grid is None else np.asarray(grid, dtype=np.float64)

    def fit(self, X: np.ndarray) -> EmpiricalMarginals:
        X = np.asarray(X, dtype=np.float64)
        n = len(X)
        grid = (
            np.sort(X, axis=0)
            if n <= MAX_GRID
            else np.quantile(X, (np.arange(MAX_GRID) + 0.5) / MAX_GRID, axis=0)
        )
        # strictly increasing per feature, so the map is invertible (ties in the data)
        span = np.maximum(grid[-1] - grid[0], 1e-6)
        self.grid = grid + np.arange(len(grid))[:, None] * (1e-9 * span)
        return self

    @property
    def _scores(self) -> np.ndarray:
        m = len(self.grid)
        return ndtri((np.arange(m) + 0.5) / m)

    def _slopes(self):
        m, s = len(self.grid), self._scores
        k = max(1, m // 20)  # the tail slope from the outer 5 % of points: steady, not one gap
        lo = (self.grid[k] - self.grid[0]) / (s[k] - s[0])
        hi = (self.grid[-1] - self.grid[-1 - k]) / (s[-1] - s[-1 - k])
        return lo, hi

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        s, (lo, hi) = self._scores, self._slopes()
        out = np.empty_like(X)
        for j in range(X.shape[1]):
            out[:, j] = np.interp(X[:, j], self.grid[:, j], s)
        below, above = X < self.grid[0], X > self.grid[-1]
        out = np.where(below, s[0] + (X - self.grid[0]) / np.maximum(lo, 1e-12), out)
        return np.where(above, s[-1] + (X - self.grid[-1]) / np.maximum(hi, 1e-12), out)

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        s, (lo, hi) = self._scores, self._slopes()
        out = np.empty_like(Z)
        for j in range(Z.shape[1]):
            out[:, j] = np.interp(Z[:, j], s, self.grid[:, j])
        out = np.where(Z < s[0], self.grid[0] + (Z - s[0]) * lo, out)
        return np.where(Z > s[-1], self.grid[-1] + (Z - s[-1]) * hi, out)


# --- count matrices -------------------------------------------------------------------------------
#: Rows checked at once: bounds the temporary memory of a check of a large dense matrix.
CHECK_BLOCK_ROWS = 4096
#: Share of the available memory a model may use for one dense float32 copy of a count matrix;
#: training needs a few more working copies of a batch, so using it all would swap or crash.
MEMORY_FRACTION = 0.5


def _count_values(X) -> np.ndarray:
    """The stored values of a sparse matrix (zeros are whole and non-negative), or a dense block."""
    return X.data if sp.issparse(X) else np.asarray(X)


def _count_blocks(X):
    for start in range(0, X.shape[0], CHECK_BLOCK_ROWS):
        yield start, X[start : start + CHECK_BLOCK_ROWS]


def is_count_matrix(X) -> bool:
    """True when every value of ``X`` (dense or sparse, NaN-free) is a non-negative whole number
    and at least one is above 1: such data are counts and get a count likelihood by default.

    The "above 1" condition keeps a matrix of 0/1 indicators or of beta values that happen to be
    exactly 0 or 1 away from the count likelihood.
    """
    top = 0.0
    for _, block in _count_blocks(X):
        v = _count_values(block)
        if v.size == 0:
            continue
        if not np.all(np.isfinite(v)) or v.min() < 0 or not np.array_equal(v, np.round(v)):
            return False
        top = max(top, float(v.max()))
    return top > 1


def check_counts(
    X,
    *,
    obs_names=None,
    var_names=None,
    name: str = "the data",
    alternative: str | None = None,
    warn_empty_genes: bool = True,
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
    alternative
        How the caller models values that are not counts, e.g. ``"data_type='gaussian' models
        them as continuous values"``, appended to the message; None where there is no such
        route (a count model), so the message offers none.
    warn_empty_genes
        Warn about genes without any count. False for cells a trained model is applied to: a
        few query cells often miss a gene, and the genes are the model's, not to be filtered.
    """
    cell = (lambda i: repr(str(obs_names[i]))) if obs_names is not None else (lambda i: f"#{i}")
    gene = (lambda j: repr(str(var_names[j]))) if var_names is not None else (lambda j: f"#{j}")
    gene_total = np.zeros(X.shape[1])
    for start, block in _count_blocks(X):
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
                # numpy's shortest repr of the value in the data's own dtype: a count off by a
                # rounding error must not print as a whole number, nor float32 noise as digits
                value = np.dtype(getattr(X, "dtype", np.float64)).type(dense[i, j])
                raise ValueError(
                    f"{name} has {int(mask.sum())} {what} value(s) (e.g. "
                    f"{value!s} for cell {cell(start + i)}, gene {gene(j)}): "
                    f"{hint}. Pass the raw counts (e.g. layer='counts' when .X holds "
                    "log-normalised values)" + (f"; or {alternative}." if alternative else ".")
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
    if warn_empty_genes and len(empty_genes):
        warnings.warn(
            f"{name}: {len(empty_genes)} gene(s) have no count in any cell, e.g. "
            f"{gene(empty_genes[0])}; they carry "
            "no information. Consider sc.pp.filter_genes(adata, min_cells=1).",
            UserWarning,
            stacklevel=stacklevel_outside_package(),
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
