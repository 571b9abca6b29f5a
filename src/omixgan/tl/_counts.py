"""New single cells as whole-number counts from a Gaussian per cell type in log-normalised PCA
space (no training; seconds)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA

from ..model._base import check_labels_key, resolve_counts
from ..pp._counts import check_counts, check_dense_fits

#: Counts per cell after normalisation (scanpy's ``normalize_total(target_sum=1e4)``).
TARGET_SUM = 1e4


def log_normalise(X: np.ndarray) -> np.ndarray:
    """Counts per 10,000, then log1p (scanpy's usual normalisation), as float64."""
    X = np.asarray(X, dtype=np.float64)
    return np.log1p(X / np.maximum(X.sum(axis=1, keepdims=True), 1.0) * TARGET_SUM)


def dither_counts(y: np.ndarray, library: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole counts whose log-normalised values equal ``y`` in expectation, with the least noise.

    ``y``: log-normalised profiles (cells x genes, per :data:`TARGET_SUM`); ``library``: each
    cell's library size. Each value becomes one of the two whole counts around
    ``expm1(y) * library / 1e4``, the upper one with the probability that makes the mean of
    ``log1p(count * 1e4 / library)`` equal ``y``. Sampling a Poisson or NB instead would add count
    noise a second time to profiles whose spread already contains it (measured: resampling real
    cells' profiles makes them detectable, two-sample AUC 0.87 on pbmc4k).
    """
    scale = TARGET_SUM / np.asarray(library, dtype=np.float64)[:, None]
    lower = np.floor(np.expm1(y) / scale)
    lo, hi = np.log1p(scale * lower), np.log1p(scale * (lower + 1))
    up = np.clip((y - lo) / (hi - lo), 0.0, 1.0)
    return lower + (rng.random(y.shape) < up)


def count_gaussian(
    adata: ad.AnnData,
    *,
    labels_key: str | None,
    n_per_class: int | dict = 100,
    layer: str | None = None,
    n_pcs: int = 50,
    random_state: int = 0,
) -> ad.AnnData:
    """New cells per cell type as whole-number counts: a class Gaussian in log-normalised PCA
    space, decoded to counts with a library size drawn from the type's real cells.

    Steps: log-normalise the counts (per 10,000, log1p); fit a PCA (``n_pcs``) on all given
    cells; per type, draw points from a Gaussian with the type's mean and Ledoit-Wolf shrunk
    covariance in that space; map them back to genes (negative values set to 0, renormalised to
    10,000); draw each new cell's library size from the type's real library sizes (scGAN's
    library-size handling); turn the profile into whole counts with :func:`dither_counts`, the
    library passed to it rescaled once so that the counts' sum matches the drawn library.

    Parameters
    ----------
    adata
        Raw counts (dense or sparse), cells x genes: a highly-variable-gene subset (a few
        thousand genes).
    labels_key
        ``.obs`` column with the cell type; None: all cells are one type.
    n_per_class
        New cells per type (an int for every type, or ``{type: n}``).
    layer
        Layer with the raw counts instead of ``.X`` (e.g. ``"counts"``).
    n_pcs
        Principal components the Gaussian lives in. 50, scanpy's default: enough for the cell
        types and states of a tissue, few enough for a shrunk covariance of a few hundred cells.
    random_state
        Seed.

    Returns
    -------
    AnnData of only the new cells: counts in ``.X`` (float32, whole numbers) and
    ``.layers["counts"]``, ``obs[labels_key]``, ``obs["synthetic"] = True``. ``adata`` is not
    modified.
    """
    check_labels_key(adata, labels_key)
    if layer is not None and layer not in adata.layers:
        raise KeyError(f"layer {layer!r} not found; available layers: {list(adata.layers)}.")
    X = adata.X if layer is None else adata.layers[layer]
    check_dense_fits(adata.n_obs, adata.n_vars, name="the data", copies=3)
    check_counts(
        X, obs_names=adata.obs_names, var_names=adata.var_names, name="the data", argument="layer"
    )
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    labels = (
        np.full(adata.n_obs, "all", dtype=object)
        if labels_key is None
        else adata.obs[labels_key].astype(str).to_numpy()
    )
    counts = resolve_counts(n_per_class, np.unique(labels))
    L = log_normalise(X)
    library = X.sum(axis=1)
    n_pcs = int(min(n_pcs, L.shape[0] - 1, L.shape[1]))
    pca = PCA(n_components=n_pcs, random_state=random_state).fit(L)
    Q = pca.transform(L)
    rng = np.random.default_rng(random_state)
    blocks, out_labels = [np.empty((0, adata.n_vars))], []
    for cls_name, n in counts.items():
        if n == 0:
            continue
        members = np.flatnonzero(labels == cls_name)
        if len(members) < 2:
            raise ValueError(
                f"cell type {cls_name!r} has {len(members)} cell(s); a Gaussian needs at least 2."
            )
        cov = LedoitWolf().fit(Q[members]).covariance_
        points = rng.multivariate_normal(Q[members].mean(axis=0), cov, size=n, method="cholesky")
        shares = np.expm1(np.maximum(pca.inverse_transform(points), 0.0))
        y = np.log1p(shares / np.maximum(shares.sum(axis=1, keepdims=True), 1e-12) * TARGET_SUM)
        lib = rng.choice(library[members], size=n, replace=True)
        # matching the mean of log values makes the counts' sum overshoot the drawn library
        # (log is concave); one rescaled second draw brings the realised library back to it
        first = dither_counts(y, lib, rng)
        blocks.append(dither_counts(y, lib * lib / np.maximum(first.sum(axis=1), 1.0), rng))
        out_labels += [cls_name] * n
    new = np.vstack(blocks).astype(np.float32)
    obs = pd.DataFrame(index=pd.Index([f"countgauss_{i}" for i in range(len(new))]))
    if labels_key is not None:
        obs[labels_key] = pd.Categorical(np.asarray(out_labels, dtype=str))
    obs["synthetic"] = True
    out = ad.AnnData(X=new, obs=obs, var=pd.DataFrame(index=adata.var_names.copy()))
    out.layers["counts"] = new.copy()
    return out
