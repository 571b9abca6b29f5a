"""Scanpy-style preprocessing of one modality (an AnnData), recorded so it can be inverted.

Every function transforms ``.X`` (or a ``layer``) in place unless ``copy=True``, stores per-feature
parameters as ``.var`` columns named ``omixgan_<transform>_<param>`` (so they follow the features
through subsetting), and appends the step to ``.uns["omixgan_pp"]["steps"]``.
:func:`inverse_transform` undoes the recorded steps, on the object or on a model's output.
"""

from __future__ import annotations

import anndata as ad
import numpy as np

from .._utils import get_matrix
from ._transforms import Log1p, Logit, MinMax, Standardize, Transform, from_state

UNS_KEY = "omixgan_pp"


def _apply(
    adata: ad.AnnData, transform: Transform, *, layer: str | None, copy: bool
) -> ad.AnnData | None:
    adata = adata.copy() if copy else adata
    record = adata.uns.get(UNS_KEY)
    where = layer or "X"
    if record is not None and record.get("layer") != where:
        raise ValueError(
            f"this object already records transforms of {record.get('layer')!r}; transform one "
            "matrix "
            f"per object (got {where!r})."
        )
    steps = [] if record is None else [str(s) for s in record["steps"]]
    if transform.name in steps:
        raise ValueError(
            f"'{transform.name}' was already applied to this modality; undo it with "
            "omixgan.pp.inverse_transform before applying it again."
        )
    X = get_matrix(adata, layer)
    n_inf = int(np.isinf(X).sum())
    if n_inf:
        raise ValueError(
            f"{where} has {n_inf} infinite value(s); '{transform.name}' would spread them over the "
            "whole feature. Replace them first (omixgan.pp.impute_mean fills NaN and inf)."
        )
    X = transform.fit_transform(X)
    for param in transform.feature_params:
        adata.var[f"omixgan_{transform.name}_{param}"] = transform.params[param]
    scalars = {k: v for k, v in transform.params.items() if k not in transform.feature_params}
    adata.uns[UNS_KEY] = {
        "layer": where,
        "steps": np.array([*steps, transform.name], dtype=object),
        "params": {**(record or {}).get("params", {}), transform.name: scalars},
    }
    if layer is None:
        adata.X = X
    else:
        adata.layers[layer] = X
    return adata if copy else None


def standardize(
    adata: ad.AnnData, *, layer: str | None = None, copy: bool = False
) -> ad.AnnData | None:
    """z-score every feature (mean 0, standard deviation 1); features without spread are only
    centred (and map back to their one value).

    Writes ``.var["omixgan_standardize_mean"]``, ``.var["omixgan_standardize_std"]`` and records
    the step in ``.uns["omixgan_pp"]``. Returns the transformed copy when ``copy=True``.
    """
    return _apply(adata, Standardize(), layer=layer, copy=copy)


def minmax(adata: ad.AnnData, *, layer: str | None = None, copy: bool = False) -> ad.AnnData | None:
    """Scale every feature to [0, 1] by its minimum and maximum.

    Writes ``.var["omixgan_minmax_min"]``, ``.var["omixgan_minmax_range"]``; records the step.
    """
    return _apply(adata, MinMax(), layer=layer, copy=copy)


def log1p(adata: ad.AnnData, *, layer: str | None = None, copy: bool = False) -> ad.AnnData | None:
    """``log(1 + x)`` for non-negative data such as counts; records the step."""
    return _apply(adata, Log1p(), layer=layer, copy=copy)


def logit(
    adata: ad.AnnData, *, eps: float = 1e-6, layer: str | None = None, copy: bool = False
) -> ad.AnnData | None:
    """Methylation beta values in [0, 1] to M-values, ``log2(b / (1 - b))``; records the step.

    Parameters
    ----------
    eps
        Beta values are clipped to ``[eps, 1 - eps]`` first, because exact 0 and 1 map to
        infinity; the default keeps M-values within about +-20.
    """
    return _apply(adata, Logit(eps=eps), layer=layer, copy=copy)


def inverse_logit(X: np.ndarray) -> np.ndarray:
    """M-values back to beta values in (0, 1): ``1 / (1 + 2**-M)``."""
    return Logit().inverse(np.asarray(X))


def _fitted_steps(adata: ad.AnnData) -> list[Transform]:
    record = adata.uns.get(UNS_KEY)
    if record is None:
        return []
    steps = []
    for name in record["steps"]:
        name = str(name)
        params = dict(record["params"].get(name, {}))
        for col in adata.var.columns:
            prefix = f"omixgan_{name}_"
            if col.startswith(prefix):
                params[col[len(prefix) :]] = adata.var[col].to_numpy()
        steps.append(from_state({"name": name, **params}))
    return steps


def inverse_transform(adata: ad.AnnData, X: np.ndarray | None = None, *, copy: bool = False):
    """Undo every recorded transform, in reverse order.

    Parameters
    ----------
    adata
        The object whose ``.uns["omixgan_pp"]`` and ``.var`` hold the fitted transforms.
    X
        A matrix with ``adata``'s features in its columns (e.g. a model's output in the
        transformed space). When given, its inverse is returned and ``adata`` is untouched.
    copy
        When ``X`` is None: return an inverted copy instead of inverting in place.

    Returns
    -------
    The inverted matrix (``X`` given), the inverted copy (``copy=True``) or None. In place, the
    record and the ``omixgan_*`` ``.var`` columns are removed.
    """
    steps = _fitted_steps(adata)
    if X is not None:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != adata.n_vars:
            raise ValueError(
                f"X must have {adata.n_vars} columns (adata's features), got shape {X.shape}."
            )
        for step in reversed(steps):
            X = step.inverse(X)
        return X
    if not steps:
        raise ValueError("no omixgan.pp transform is recorded on this object; nothing to invert.")
    adata = adata.copy() if copy else adata
    layer = adata.uns[UNS_KEY]["layer"]
    M = get_matrix(adata, None if layer == "X" else layer)
    for step in reversed(steps):
        M = step.inverse(M)
    if layer == "X":
        adata.X = M
    else:
        adata.layers[layer] = M
    del adata.uns[UNS_KEY]
    adata.var = adata.var.drop(columns=[c for c in adata.var.columns if c.startswith("omixgan_")])
    return adata if copy else None


def highly_variable(
    adata: ad.AnnData,
    *,
    n_top: int,
    layer: str | None = None,
    subset: bool = False,
    copy: bool = False,
) -> ad.AnnData | None:
    """Mark (or keep) the ``n_top`` features with the largest variance.

    Omics tables often carry thousands of near-constant features that cost model capacity and
    time; this keeps the informative ones. Not invertible: features are dropped, not changed.

    Writes ``.var["highly_variable"]`` (bool) and ``.var["variance"]``; with ``subset=True`` only
    those features are kept. Records ``.uns["highly_variable"]["params"]``.
    """
    if not isinstance(n_top, (int, np.integer)) or n_top < 1:
        raise ValueError(f"n_top must be a positive integer, got {n_top!r}.")
    if n_top > adata.n_vars:
        raise ValueError(f"n_top={n_top} exceeds the number of features ({adata.n_vars}).")
    adata = adata.copy() if copy else adata
    variance = np.nanvar(get_matrix(adata, layer), axis=0)
    order = np.argsort(-variance, kind="stable")
    keep = np.zeros(adata.n_vars, dtype=bool)
    keep[order[:n_top]] = True
    adata.var["variance"] = variance
    adata.var["highly_variable"] = keep
    adata.uns["highly_variable"] = {
        "params": {"n_top": int(n_top), "layer": layer or "X", "subset": subset}
    }
    if subset:
        adata._inplace_subset_var(keep)
    return adata if copy else None


def impute_mean(
    adata: ad.AnnData, *, layer: str | None = None, copy: bool = False
) -> ad.AnnData | None:
    """Fill missing values (NaN) and infinite values with the feature's mean over the samples that
    have a finite value.

    The simplest honest choice before training a model that cannot see NaN; infinity is treated
    the same way because it is never a measurement. The filled positions are kept in
    ``.layers["missing_mask"]`` (True where a value was missing or infinite) so they can be
    excluded from evaluation. Records ``.uns["impute_mean"]["params"]`` with the counts filled
    (``n_filled``, of which ``n_infinite`` were infinite).
    """
    adata = adata.copy() if copy else adata
    X = get_matrix(adata, layer)
    n_infinite = int(np.isinf(X).sum())
    mask = ~np.isfinite(X)
    empty = np.flatnonzero(mask.all(axis=0))
    if empty.size:
        raise ValueError(
            f"feature(s) {list(adata.var_names[empty[:5]])} have no value in any sample; "
            "drop them, there is no mean to fill with."
        )
    if mask.any():
        finite = np.where(mask, np.nan, X)
        X = np.where(mask, np.nanmean(finite, axis=0)[None, :], X).astype(np.float32)
    adata.layers["missing_mask"] = mask
    adata.uns["impute_mean"] = {
        "params": {"layer": layer or "X", "n_filled": int(mask.sum()), "n_infinite": n_infinite}
    }
    if layer is None:
        adata.X = X
    else:
        adata.layers[layer] = X
    return adata if copy else None
