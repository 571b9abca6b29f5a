"""Invertible per-feature transforms on numpy arrays.

These classes are the one implementation of every transform: the scanpy-style functions in
:mod:`omixgan.pp` apply them to AnnData and record them; the models fit them on training data,
keep their parameters in the saved model, and invert them on every output so users get values
in the units they gave. Each transform also has a tensor form (:meth:`Pipeline.on_device`) with
the same arithmetic, so that training can transform batch by batch on the device instead of
keeping a transformed copy of the whole matrix.
"""

from __future__ import annotations

import numpy as np

# DataType is also reached here by models saved before it moved to _utils (pickled by this path)
from .._utils import BETA_EPS, DATA_TYPE_KEY, DataType, check_counts, is_count_matrix, row_blocks

#: Transforms work through large matrices in row blocks of this size: their float64
#: intermediates then cost a few times one block, not a few times the matrix.
BLOCK_BYTES = 16 * 2**20


def _blockwise(X: np.ndarray, fn) -> np.ndarray:
    """``fn(X)`` as float32, computed one row block at a time (elementwise ``fn`` only)."""
    blocks = row_blocks(X, BLOCK_BYTES)
    if len(blocks) == 1:
        return np.asarray(fn(X), dtype=np.float32)
    out = np.empty(X.shape, dtype=np.float32)
    for rows in blocks:
        out[rows] = fn(X[rows])
    return out


class Transform:
    """Base class: ``fit`` learns per-feature parameters, ``transform`` / ``inverse`` apply them.

    Subclasses set ``name`` (the key of :meth:`state`) and ``feature_params``, and implement
    :meth:`transform`, :meth:`inverse` and :meth:`tensor_fn` (and :meth:`fit` when they learn
    something from the data).

    Parameters
    ----------
    **params
        Fitted parameters, as :meth:`state` returns them: a saved transform is rebuilt without
        refitting. Per-feature ones become float64 arrays.
    """

    name: str = ""
    #: Per-feature parameter names (stored as ``.var`` columns by :mod:`omixgan.pp`).
    feature_params: tuple[str, ...] = ()

    def __init__(self, **params):
        self.params = {
            k: np.asarray(v, dtype=np.float64) if k in self.feature_params else v
            for k, v in params.items()
        }

    def fit(self, X: np.ndarray) -> Transform:
        """Learn the per-feature parameters from ``X`` (samples x features; NaN ignored).

        Returns the transform itself. Transforms without parameters (:class:`Log1p`,
        :class:`Logit`) learn nothing.
        """
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``X`` in the transform's space, a new float32 array (``X`` is not modified)."""
        raise NotImplementedError

    def inverse(self, X: np.ndarray) -> np.ndarray:
        """Map values of the transform's space back to the original units (a new float32 array).

        Models apply it to everything they output, so users get values in the units they gave.
        """
        raise NotImplementedError

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """:meth:`fit` on ``X``, then :meth:`transform` of ``X``."""
        return self.fit(X).transform(X)

    def check(self, X: np.ndarray) -> None:
        """Raise a clear error when ``X`` is outside the transform's domain."""

    def tensor_fn(self, device, dtype):
        """``transform`` as a function of tensors of ``dtype`` on ``device`` (parameters moved
        there once), computing what :meth:`transform` computes."""
        raise NotImplementedError

    def state(self) -> dict:
        """Name and parameters, enough to rebuild the transform with :func:`from_state`."""
        return {"name": self.name, **self.params}


def _safe(spread: np.ndarray) -> np.ndarray:
    """A divisor: the spread where it is positive, 1 for features without spread."""
    return np.where(spread > 0, spread, 1.0)


class Standardize(Transform):
    """z-score per feature: ``(x - mean) / std``.

    A feature without spread (the same value in every sample) is only centred, and its inverse
    multiplies by its spread, zero: whatever a model outputs for it maps back to its one value.
    A model cannot then generate spread that the data never had.
    """

    name = "standardize"
    feature_params = ("mean", "std")

    def fit(self, X):
        blocks = row_blocks(X, BLOCK_BYTES)
        if len(blocks) == 1:
            mean = np.nanmean(X, axis=0, dtype=np.float64)
            std = np.nanstd(X, axis=0, dtype=np.float64)
        else:  # two passes over row blocks: the same statistics without float64 copies of X
            count = sum(np.sum(~np.isnan(X[rows]), axis=0) for rows in blocks)
            mean = sum(np.nansum(X[rows], axis=0, dtype=np.float64) for rows in blocks) / count
            # deviations squared in X's precision and summed in float64, as np.nanstd does
            std = np.sqrt(
                sum(
                    np.nansum(np.square((X[rows] - mean).astype(X.dtype)), axis=0, dtype=np.float64)
                    for rows in blocks
                )
                / count
            )
        self.params = {"mean": mean, "std": std}
        return self

    def transform(self, X):
        return _blockwise(X, lambda B: (B - self.params["mean"]) / _safe(self.params["std"]))

    def tensor_fn(self, device, dtype):
        mean, std = (
            _tensor(self.params["mean"], device, dtype),
            _tensor(_safe(self.params["std"]), device, dtype),
        )
        return lambda x: (x - mean) / std

    def inverse(self, X):
        return _blockwise(X, lambda B: B * self.params["std"] + self.params["mean"])


class MinMax(Transform):
    """Scale each feature to [0, 1] by its observed minimum and maximum.

    A feature without range is only shifted, and its inverse maps every value back to its one
    value (see :class:`Standardize`)."""

    name = "minmax"
    feature_params = ("min", "range")

    def fit(self, X):
        lo = np.nanmin(X, axis=0).astype(np.float64)
        span = np.nanmax(X, axis=0).astype(np.float64) - lo
        self.params = {"min": lo, "range": span}
        return self

    def transform(self, X):
        return _blockwise(X, lambda B: (B - self.params["min"]) / _safe(self.params["range"]))

    def tensor_fn(self, device, dtype):
        lo, span = (
            _tensor(self.params["min"], device, dtype),
            _tensor(_safe(self.params["range"]), device, dtype),
        )
        return lambda x: (x - lo) / span

    def inverse(self, X):
        return _blockwise(X, lambda B: B * self.params["range"] + self.params["min"])


class Log1p(Transform):
    """``log(1 + x)`` for non-negative values such as counts or TPM."""

    name = "log1p"

    def check(self, X):
        if np.nanmin(X) < 0:
            raise ValueError(f"log1p needs non-negative values; the minimum is {np.nanmin(X):g}.")

    def transform(self, X):
        self.check(X)
        return _blockwise(X, lambda B: np.log1p(B, dtype=np.float64))

    def tensor_fn(self, device, dtype):
        import torch

        return torch.log1p

    def inverse(self, X):
        return _blockwise(X, lambda B: np.expm1(np.asarray(B, dtype=np.float64)))


class Logit(Transform):
    """Beta values in [0, 1] to M-values, ``log2(b / (1 - b))`` (Du et al. 2010).

    M-values are unbounded and close to normal, so models can use a Gaussian there; the inverse
    maps any real output back into (0, 1).

    Parameters
    ----------
    eps
        Beta values are clipped to ``[eps, 1 - eps]`` first: 0 and 1 occur in real arrays and
        would map to infinity (see :data:`BETA_EPS`).
    **params
        As for :class:`Transform`.
    """

    name = "logit"

    def __init__(self, eps: float = BETA_EPS, **params):
        super().__init__(eps=float(eps), **params)

    def check(self, X):
        lo, hi = np.nanmin(X), np.nanmax(X)
        if lo < 0 or hi > 1:
            raise ValueError(f"logit needs beta values in [0, 1]; got values in [{lo:g}, {hi:g}].")

    def transform(self, X):
        self.check(X)
        eps = self.params["eps"]

        def logit(B):
            b = np.clip(np.asarray(B, dtype=np.float64), eps, 1 - eps)
            return np.log2(b / (1 - b))

        return _blockwise(X, logit)

    def tensor_fn(self, device, dtype):
        import torch

        eps = self.params["eps"]

        def logit(x):
            b = torch.clamp(x, eps, 1 - eps)
            return torch.log2(b / (1 - b))

        return logit

    def inverse(self, X):
        return _blockwise(X, lambda B: 1.0 / (1.0 + np.exp2(-np.asarray(B, dtype=np.float64))))


def _tensor(values: np.ndarray, device, dtype):
    import torch

    return torch.as_tensor(np.asarray(values, dtype=np.float64), device=device).to(dtype)


TRANSFORMS: dict[str, type[Transform]] = {t.name: t for t in (Standardize, MinMax, Log1p, Logit)}


def from_state(state: dict) -> Transform:
    """Rebuild a fitted transform from :meth:`Transform.state`."""
    state = dict(state)
    name = state.pop("name")
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; known: {sorted(TRANSFORMS)}.")
    return TRANSFORMS[name](**state)


class Pipeline:
    """A sequence of transforms, fitted in order and inverted in reverse order.

    Models keep one per modality (:meth:`default_for`), fitted on the training data and saved
    with the model (:meth:`state`), so that every output is mapped back to the units given.

    Parameters
    ----------
    steps
        The transforms, in the order they are applied.
    """

    def __init__(self, steps: list[Transform]):
        self.steps = list(steps)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """Fit every step on the previous step's output and return the last output, float32."""
        for step in self.steps:
            X = step.fit_transform(X)
        return np.asarray(X, dtype=np.float32)

    def fit(self, X: np.ndarray) -> Pipeline:
        """Fit every step, transforming only what the next step needs."""
        for k, step in enumerate(self.steps):
            step.fit(X)
            if k < len(self.steps) - 1:
                X = step.transform(X)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Apply the fitted steps in order; a new float32 array (``X`` is not modified)."""
        for step in self.steps:
            X = step.transform(X)
        return np.asarray(X, dtype=np.float32)

    def inverse(self, X: np.ndarray) -> np.ndarray:
        """Invert the steps in reverse order: model space back to the original units, float32."""
        for step in reversed(self.steps):
            X = step.inverse(X)
        return np.asarray(X, dtype=np.float32)

    def check(self, X: np.ndarray) -> None:
        """Raise a clear error when ``X`` is outside the domain of the first step (the one that
        sees the data as given; later steps see its output)."""
        if self.steps:
            self.steps[0].check(X)

    def on_device(self, device):
        """This pipeline's :meth:`transform` as a function of float32 tensors on ``device``.

        Models use it to keep only the data as given in memory and transform each batch where it
        is used. On the CPU a batch goes through :meth:`transform` itself (the tensor and the
        array share memory), so it equals the same rows of ``transform(X)`` bit for bit. On an
        accelerator it goes through the tensor form of every step, computed in float64 like the
        numpy transforms (float32 on Apple's MPS, which has no float64); there a logarithm may
        differ in the last bit. Call :meth:`check` on the data first: the tensor form does not
        look for values outside a transform's domain (that would synchronise the device at every
        batch).
        """
        import torch

        device = torch.device(device)
        if device.type == "cpu":
            return lambda x: torch.from_numpy(self.transform(x.numpy()))
        dtype = torch.float32 if device.type == "mps" else torch.float64
        fns = [step.tensor_fn(device, dtype) for step in self.steps]

        def transform(x):
            x = x.to(dtype)
            for fn in fns:
                x = fn(x)
            return x.to(torch.float32)

        return transform

    def state(self) -> list[dict]:
        """Every step's :meth:`Transform.state`, in order: what a saved model stores."""
        return [step.state() for step in self.steps]

    @classmethod
    def from_state(cls, states: list[dict]) -> Pipeline:
        """Rebuild a fitted pipeline from :meth:`state`, without refitting."""
        return cls([from_state(s) for s in states])

    @classmethod
    def default_for(cls, X: np.ndarray, data_type: str) -> Pipeline:
        """The pipeline a model uses for a modality of ``data_type`` (see
        :func:`resolve_data_type`)."""
        if data_type == "beta":
            return cls([Logit(), Standardize()])
        if data_type == "gaussian":
            return cls([Standardize()])
        if data_type == "counts":
            # log1p only, no z-score: a count likelihood reads whole counts back from it
            return cls([Log1p()])
        raise ValueError(f"data_type must be 'beta', 'gaussian' or 'counts', got {data_type!r}.")


#: Data types a model knows: beta values (modelled in logit space), counts (log1p space; a
#: negative binomial likelihood in the VAEs) and everything else.
DATA_TYPES = ("beta", "gaussian", "counts")

#: Modality names that declare methylation beta values (compared case-insensitively with the
#: name's words, split at anything that is not a letter or digit).
BETA_NAME_WORDS = ("meth", "methyl", "methylation", "beta", "betas", "dnam", "dnameth", "cpg")


def declared_data_type(adata) -> str | None:
    """The data type recorded in ``adata.uns[DATA_TYPE_KEY]`` by a reader, or None."""
    value = getattr(adata, "uns", {}).get(DATA_TYPE_KEY)
    return None if value is None else str(value)


def _value_range(X: np.ndarray) -> tuple[float, float]:
    lo, hi = np.inf, -np.inf
    # block by block: a mask of a large matrix costs a quarter of it
    for rows in row_blocks(X, BLOCK_BYTES):
        finite = X[rows][np.isfinite(X[rows])]
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return lo, hi


def _named_beta(name: str | None) -> bool:
    import re

    words = [w for w in re.split(r"[^0-9a-z]+", str(name or "").lower()) if w]
    return any(w in BETA_NAME_WORDS or w.startswith("methyl") for w in words)


def resolve_data_type(
    X: np.ndarray,
    declared: str | None = None,
    *,
    name: str | None = None,
    detect_counts: bool = True,
) -> DataType:
    """Decide how a modality is modelled: ``"beta"`` (logit space) or ``"gaussian"``.

    The value range alone never decides: expression that was min-max scaled to [0, 1] also lies
    in [0, 1], and modelling it in logit space distorts it badly (measured: a per-class GAN's
    samples then had a two-sample AUC of 0.98). In order:

    1. ``declared`` (a model's ``data_type=`` / ``data_types=``): used as given; ``"beta"`` with
       values outside [0, 1] is an error.
    2. The modality's ``name`` says methylation (a word such as ``meth``, ``methylation``,
       ``beta``, ``dnam``, ``cpg``) and every value lies in [0, 1]: ``"beta"``. Named so but
       with values outside [0, 1] (M-values, say): ``"gaussian"``.
    3. Non-negative whole numbers, some above 1 (raw UMI counts, dense or sparse):
       ``"counts"`` (``detect_counts=False`` skips this, for callers that only have a range).
    4. Anything else: ``"gaussian"`` (z-scored). When every value lies in [0, 1] and the features
       do not look min-max scaled (each spanning exactly 0 to 1), a warning says how to declare
       beta values.

    Returns a :class:`DataType`: the type, with ``.reason`` saying why.
    """
    lo, hi = _value_range(X) if X is not None else (np.nan, np.nan)
    in_unit = bool(lo >= 0 and hi <= 1)
    what = f"modality {name!r}" if name else "the data"
    if declared is not None:
        if declared not in DATA_TYPES:
            raise ValueError(
                f"data type of {what} must be one of {DATA_TYPES} or None, got {declared!r}."
            )
        if declared == "beta" and X is not None and not in_unit:
            raise ValueError(
                f"{what} is declared 'beta' (methylation beta values) but its values span "
                f"[{lo:g}, {hi:g}], outside [0, 1]. Declare it 'gaussian' (e.g. for M-values)."
            )
        if declared == "counts" and X is not None:
            check_counts(X, name=what, alternative=f"declare {what} 'gaussian' in data_types")
        return DataType(declared, f"declared {declared!r}")
    if detect_counts and X is not None and not in_unit:
        if is_count_matrix(X):
            return DataType("counts", "non-negative whole numbers (counts)")
    if _named_beta(name):
        if in_unit:
            return DataType(
                "beta", f"name {name!r} says methylation and every value lies in [0, 1]"
            )
        return DataType(
            "gaussian",
            f"name {name!r} says methylation but values span [{lo:g}, {hi:g}] (M-values?)",
        )
    if in_unit and X is not None:
        if _minmax_scaled(X):
            return DataType(
                "gaussian",
                "values in [0, 1], every feature spanning exactly 0 to 1: "
                "min-max scaled, not beta values",
            )
        import warnings

        warnings.warn(
            f"every value of {what} lies in [0, 1], but nothing declares beta values, so it is "
            "modelled as 'gaussian' (z-scored). If these are methylation beta values, declare "
            "them (data_type='beta' / data_types={...: 'beta'}) or name the modality 'meth'.",
            UserWarning,
            stacklevel=3,
        )
        return DataType(
            "gaussian", "not declared beta; values in [0, 1] but the name does not say methylation"
        )
    return DataType(
        "gaussian",
        "not declared or named methylation"
        if not name
        else f"name {name!r} does not say methylation",
    )


def _minmax_scaled(X: np.ndarray) -> bool:
    lo = np.nanmin(X, axis=0) if len(X) else np.zeros(0)
    hi = np.nanmax(X, axis=0) if len(X) else np.zeros(0)
    return bool(len(lo)) and bool(np.all(lo == 0) and np.all(hi == 1))


def infer_data_type(X: np.ndarray, *, name: str | None = None, declared: str | None = None) -> str:
    """The data type :func:`resolve_data_type` chooses, as a plain string.

    Without a ``name`` or ``declared`` type this is always ``"gaussian"``: values in [0, 1]
    alone do not make beta values.
    """
    return str(resolve_data_type(X, declared, name=name))
