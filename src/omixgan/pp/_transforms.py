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

#: Beta values are clipped to [eps, 1 - eps] before the logit: 0 and 1 occur in real arrays
#: and would map to infinity. 1e-6 keeps M-values within about +-20, far beyond biology.
BETA_EPS = 1e-6

#: Transforms work through large matrices in row blocks of this size: their float64
#: intermediates then cost a few times one block, not a few times the matrix.
BLOCK_BYTES = 16 * 2**20


def _row_blocks(X: np.ndarray) -> list[slice]:
    rows = max(1, BLOCK_BYTES // (4 * max(1, X.shape[1]))) if X.ndim == 2 else max(1, len(X))
    return [slice(start, start + rows) for start in range(0, max(len(X), 1), rows)]


def _blockwise(X: np.ndarray, fn) -> np.ndarray:
    """``fn(X)`` as float32, computed one row block at a time (elementwise ``fn`` only)."""
    blocks = _row_blocks(X)
    if len(blocks) == 1:
        return np.asarray(fn(X), dtype=np.float32)
    out = np.empty(X.shape, dtype=np.float32)
    for rows in blocks:
        out[rows] = fn(X[rows])
    return out


class Transform:
    """Base class: ``fit`` learns per-feature parameters, ``transform`` / ``inverse`` apply them."""

    name: str = ""
    #: Per-feature parameter names (stored as ``.var`` columns by :mod:`omixgan.pp`).
    feature_params: tuple[str, ...] = ()

    def __init__(self, **params):
        self.params = {k: np.asarray(v, dtype=np.float64) if k in self.feature_params else v for k, v in params.items()}

    def fit(self, X: np.ndarray) -> Transform:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
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


class Standardize(Transform):
    """z-score per feature: ``(x - mean) / std``. Features with zero spread get ``std = 1``."""

    name = "standardize"
    feature_params = ("mean", "std")

    def fit(self, X):
        blocks = _row_blocks(X)
        if len(blocks) == 1:
            mean = np.nanmean(X, axis=0, dtype=np.float64)
            std = np.nanstd(X, axis=0, dtype=np.float64)
        else:  # two passes over row blocks: the same statistics without float64 copies of X
            count = sum(np.sum(~np.isnan(X[rows]), axis=0) for rows in blocks)
            mean = sum(np.nansum(X[rows], axis=0, dtype=np.float64) for rows in blocks) / count
            # deviations squared in X's precision and summed in float64, as np.nanstd does
            std = np.sqrt(sum(np.nansum(np.square((X[rows] - mean).astype(X.dtype)), axis=0, dtype=np.float64) for rows in blocks) / count)
        self.params = {"mean": mean, "std": np.where(std > 0, std, 1.0)}
        return self

    def transform(self, X):
        return _blockwise(X, lambda B: (B - self.params["mean"]) / self.params["std"])

    def tensor_fn(self, device, dtype):
        mean, std = (_tensor(self.params[k], device, dtype) for k in ("mean", "std"))
        return lambda x: (x - mean) / std

    def inverse(self, X):
        return _blockwise(X, lambda B: B * self.params["std"] + self.params["mean"])


class MinMax(Transform):
    """Scale each feature to [0, 1] by its observed minimum and maximum."""

    name = "minmax"
    feature_params = ("min", "range")

    def fit(self, X):
        lo = np.nanmin(X, axis=0).astype(np.float64)
        span = np.nanmax(X, axis=0).astype(np.float64) - lo
        self.params = {"min": lo, "range": np.where(span > 0, span, 1.0)}
        return self

    def transform(self, X):
        return _blockwise(X, lambda B: (B - self.params["min"]) / self.params["range"])

    def tensor_fn(self, device, dtype):
        lo, span = (_tensor(self.params[k], device, dtype) for k in ("min", "range"))
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
    """A sequence of transforms, fitted in order and inverted in reverse order."""

    def __init__(self, steps: list[Transform]):
        self.steps = list(steps)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
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
        for step in self.steps:
            X = step.transform(X)
        return np.asarray(X, dtype=np.float32)

    def inverse(self, X: np.ndarray) -> np.ndarray:
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
        return [step.state() for step in self.steps]

    @classmethod
    def from_state(cls, states: list[dict]) -> Pipeline:
        return cls([from_state(s) for s in states])

    @classmethod
    def default_for(cls, X: np.ndarray, data_type: str) -> Pipeline:
        """The pipeline a model uses for a modality of ``data_type`` (see :func:`infer_data_type`)."""
        if data_type == "beta":
            return cls([Logit(), Standardize()])
        if data_type == "gaussian":
            return cls([Standardize()])
        raise ValueError(f"data_type must be 'beta' or 'gaussian', got {data_type!r}.")


def infer_data_type(X: np.ndarray) -> str:
    """``"beta"`` when every value lies in [0, 1] (methylation beta values), else ``"gaussian"``.

    A modality of proportions is modelled in logit space so outputs stay inside (0, 1); anything
    else (log expression, RPPA, z-scores) is modelled as it is, after standardisation.
    """
    lo, hi = np.inf, -np.inf
    for rows in _row_blocks(X):  # block by block: a mask of a large matrix costs a quarter of it
        finite = X[rows][np.isfinite(X[rows])]
        if finite.size:
            lo, hi = min(lo, finite.min()), max(hi, finite.max())
    return "beta" if lo >= 0 and hi <= 1 else "gaussian"
