"""Translation scores and the regression baselines every translator is shown next to."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    constant = (np.ptp(a, axis=0) == 0) | (np.ptp(b, axis=0) == 0)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denom = np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=0) / denom
    # a constant prediction carries no information about which sample is which: r = 0.
    return np.where(constant, 0.0, r)


def per_feature_pearson(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Pearson r between truth and prediction across samples, one value per feature.

    The headline translation score: does the prediction rank samples right for each feature?
    A constant prediction (the feature mean) scores 0.
    """
    return _pearson_columns(np.asarray(true, dtype=np.float64), np.asarray(pred, dtype=np.float64))


def per_sample_pearson(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Pearson r across features, one value per sample (profile shape; high even for the mean)."""
    return _pearson_columns(
        np.asarray(true, dtype=np.float64).T, np.asarray(pred, dtype=np.float64).T
    )


def rmse(true: np.ndarray, pred: np.ndarray) -> float:
    """Root mean squared error over all values, in the target's units."""
    return float(np.sqrt(np.mean((np.asarray(true, dtype=np.float64) - pred) ** 2)))


def translation_scores(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Mean per-feature Pearson, mean per-sample Pearson and RMSE."""
    return {
        "per_feature_pearson": float(np.mean(per_feature_pearson(true, pred))),
        "per_sample_pearson": float(np.mean(per_sample_pearson(true, pred))),
        "rmse": rmse(true, pred),
    }


def predict_feature_mean(Y_train: np.ndarray, n: int) -> np.ndarray:
    """Every held-out sample gets the training mean of each feature (per-feature r = 0)."""
    return np.tile(Y_train.mean(axis=0), (n, 1))


def predict_class_mean(
    Y_train: np.ndarray, labels_train: np.ndarray, labels_test: np.ndarray
) -> np.ndarray:
    """The "oracle": the training mean of the target within the held-out sample's true class.

    It uses the true class of the held-out samples, which a real translator does not get; on
    data whose modalities are linked only through the class it is the best possible prediction.
    """
    labels_train = np.asarray(labels_train).astype(str)
    means = {c: Y_train[labels_train == c].mean(axis=0) for c in np.unique(labels_train)}
    overall = Y_train.mean(axis=0)
    return np.vstack([means.get(str(c), overall) for c in labels_test])


def predict_ridge(X_train: np.ndarray, Y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Ridge regression on standardised source features, penalty chosen by efficient leave-one-out
    over 10^-2 .. 10^5 (one penalty for all target features)."""
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 5, 29)))
    return model.fit(X_train, Y_train).predict(X_test)


def predict_knn(
    X_train: np.ndarray,
    Y_train: np.ndarray,
    X_test: np.ndarray,
    *,
    n_neighbors: int = 10,
    n_pcs: int = 50,
    scale: bool = True,
) -> np.ndarray:
    """Mean target of the ``n_neighbors`` nearest training samples in a PCA (``n_pcs``) of the
    source, each feature standardised first (``scale=True``) or only centred (``False``: as
    scanpy's PCA of log-normalised counts without ``sc.pp.scale``, where scaling would give
    rarely detected, noisy genes the weight of markers)."""
    n_pcs = min(n_pcs, X_train.shape[0] - 1, X_train.shape[1])
    model = make_pipeline(
        StandardScaler(with_std=scale),
        PCA(n_components=n_pcs, random_state=0),
        KNeighborsRegressor(n_neighbors=min(n_neighbors, len(X_train))),
    )
    return model.fit(X_train, Y_train).predict(X_test)


def predict_mofa(
    X_train: np.ndarray | list[np.ndarray],
    Y_train: np.ndarray,
    X_test: np.ndarray | list[np.ndarray],
    *,
    extra_train: list[np.ndarray] | None = None,
    n_factors: int = 10,
    seed: int = 0,
    convergence_mode: str = "fast",
    max_iter: int = 1000,
) -> np.ndarray:
    """MOFA+ (``mofapy2``, the factor model that ``muon.tl.mofa`` wraps) used as a translator.

    ``X_train`` / ``X_test`` may be lists of source views (several sources), and ``extra_train``
    views that only the training samples have (other modalities: "MOFA+ on all modalities");
    they are missing (NaN) for the held-out samples like the target.

    One MOFA+ model with two views, source and target, is fitted on the training samples (both
    views) together with the held-out samples, whose target is missing (NaN): MOFA+ learns factors
    ``Z`` shared by all samples and per-view weights ``W``, and the held-out samples' factors are
    inferred from their source alone. The prediction is ``Z_test @ W_target.T``, plus the target's
    centring mean, back in the target's original units. The held-out samples' target is never
    seen; their source is (MOFA+ imputes transductively, as it does in practice), unlike ridge
    and kNN, which see only the training samples.

    Choices:

    - **Gaussian likelihood on standardised data.** Each feature of the source (and of the
      target) is centred and scaled to unit variance with the training samples' mean and
      standard deviation (a constant feature is only centred), so every feature weighs the same
      in the fit whatever its units; predictions are scaled back. MOFA+ itself then centres each
      feature again over its observed values (``center_groups``, here one group), which for the
      target are the training samples, and keeps that mean as the view's intercept; the model has
      no intercept term, so the intercept is added back to ``Z_test @ W_target.T`` before
      un-standardising.
    - **n_factors=10**: mofapy2's and ``muon.tl.mofa``'s default, and the setting of the issue's
      reference number (TCGA-BRCA mRNA -> protein: mean per-feature r 0.22, ridge 0.32). The ARD
      prior on the weights switches off factors a view does not need, so it is an upper bound.
      On that task 5 factors underfit (r 0.15) and 20 or 40 were no better (0.21 and 0.20) and
      slower.
    - Otherwise mofapy2's defaults: ARD + spike-and-slab prior on the weights, factors
      initialised by a PCA of the (mean-imputed) data, convergence when the ELBO changes by less
      than 0.0005 % between checks three times (``convergence_mode="fast"``; ``"medium"`` took
      2 to 3.5 times the iterations on the bundled data and TCGA-BRCA and changed the mean
      per-feature r by 0.01 at most), at most ``max_iter`` iterations.
    - float32 arithmetic (mofapy2's ``use_float32``): the same scores to four decimals on the
      bundled data, about 3x faster (course 2000 mRNA -> meth on one thread of a busy 2-core
      machine: ~13 s instead of ~47 s).

    ``seed`` seeds mofapy2 (its PCA initialisation can be randomised on larger data); the same
    seed gives the same prediction. mofapy2 seeds numpy's global random generator: its state,
    and mofapy2's float32 setting, are restored afterwards. mofapy2's console output is
    suppressed; no file is written.
    """
    from mofapy2 import config as mofa_config
    from mofapy2.run.entry_point import entry_point

    sources_train = [
        np.asarray(a, dtype=np.float64)
        for a in (X_train if isinstance(X_train, (list, tuple)) else [X_train])
    ]
    sources_test = [
        np.asarray(a, dtype=np.float64)
        for a in (X_test if isinstance(X_test, (list, tuple)) else [X_test])
    ]
    extra = [np.asarray(a, dtype=np.float64) for a in (extra_train or [])]
    Y_train = np.asarray(Y_train, dtype=np.float64)
    if any(a.ndim != 2 for a in (*sources_train, *sources_test, *extra, Y_train)):
        raise ValueError(
            "X_train, Y_train, X_test and extra_train must be 2-D arrays (samples x features)."
        )
    if len(sources_train) != len(sources_test):
        raise ValueError(
            f"X_train has {len(sources_train)} source views, X_test {len(sources_test)}."
        )
    n_train = len(Y_train)
    for a, b in zip(sources_train, sources_test):
        if len(a) != n_train:
            raise ValueError(f"X_train has {len(a)} samples, Y_train {n_train}.")
        if b.shape[1] != a.shape[1]:
            raise ValueError(f"X_test has {b.shape[1]} features, X_train {a.shape[1]}.")
        if len(b) != len(sources_test[0]):
            raise ValueError("every X_test view needs the same samples.")
    if any(len(a) != n_train for a in extra):
        raise ValueError("every extra_train view needs one row per training sample.")
    if int(n_factors) < 1:
        raise ValueError(f"n_factors must be at least 1, got {n_factors!r}.")
    n_test = len(sources_test[0])

    def standardise(a: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mean, sd = np.nanmean(ref, axis=0), np.nanstd(ref, axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        return (a - mean) / sd, mean, sd

    views = [standardise(np.vstack([a, b]), a)[0] for a, b in zip(sources_train, sources_test)]
    target, y_mean, y_sd = standardise(Y_train, Y_train)
    missing = lambda d: np.full((n_test, d), np.nan)  # noqa: E731
    views.append(np.vstack([target, missing(Y_train.shape[1])]))
    views += [np.vstack([standardise(a, a)[0], missing(a.shape[1])]) for a in extra]
    view_names = (
        [f"source{k}" for k in range(len(sources_train))]
        + ["target"]
        + [f"extra{k}" for k in range(len(extra))]
    )
    target_view = len(sources_train)

    log = io.StringIO()
    # mofapy2 seeds NumPy's global RNG: its state is saved and restored around the fit
    rng_state, float32_before = np.random.get_state(), mofa_config.use_float32  # noqa: NPY002
    try:
        with contextlib.redirect_stdout(log), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ent = entry_point()
            ent.set_data_options(scale_views=False, use_float32=True)
            ent.set_data_matrix(
                [[v] for v in views],
                likelihoods=["gaussian"] * len(views),
                views_names=view_names,
                features_names=[
                    [f"{name}_{j}" for j in range(v.shape[1])] for name, v in zip(view_names, views)
                ],
                samples_names=[[f"sample_{i}" for i in range(n_train + n_test)]],
            )
            # MOFA+ starts from a PCA of the data: no more factors than its smallest dimension
            # allows
            ent.set_model_options(
                factors=int(min(n_factors, *(v.shape[1] for v in views), n_train - 1))
            )
            ent.set_train_options(
                iter=int(max_iter), convergence_mode=convergence_mode, seed=int(seed), quiet=True
            )
            ent.build()
            ent.run()
    except SystemExit as exc:  # mofapy2 exits the interpreter on some errors; a library must not
        raise RuntimeError("mofapy2 stopped: " + log.getvalue()[-2000:]) from exc
    finally:
        np.random.set_state(rng_state)  # noqa: NPY002
        mofa_config.use_float32 = float32_before
    Z = np.asarray(ent.model.nodes["Z"].getExpectation(), dtype=np.float64)
    W_target = np.asarray(ent.model.nodes["W"].getExpectation()[target_view], dtype=np.float64)
    intercept = np.asarray(ent.intercepts[target_view][0], dtype=np.float64)
    return (Z[n_train:] @ W_target.T + intercept) * y_sd + y_mean


def conformal_scores(residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised conformal scores of calibration residuals (samples x features), and the
    per-feature scale to apply to new samples.

    A score is ``|residual| / scale`` where the scale is the feature's root mean squared
    calibration residual computed without that sample (leave-one-out: a new sample's scale does
    not contain its own residual either). Returns ``(sorted pooled scores, scale over all
    calibration samples)``. Used by :meth:`omixgan.models.CrossModalVAE.predict_interval` and by
    :func:`predict_interval_ridge`, so the model and the baseline are calibrated the same way.
    """
    residual = np.asarray(residual, dtype=np.float64)
    n = len(residual)
    if n < 2:
        raise ValueError(f"conformal calibration needs at least 2 samples, got {n}.")
    squares = (residual**2).sum(axis=0)
    scale = np.sqrt(squares / n)
    floor = 1e-6 * max(float(scale.max(initial=0.0)), 1e-12)  # constant features: no division by 0
    loo = np.sqrt(np.clip(squares[None, :] - residual**2, 0, None) / (n - 1))
    scores = np.abs(residual) / np.maximum(loo, floor)
    return np.sort(scores.ravel()), np.maximum(scale, floor)


def conformal_quantile(scores: np.ndarray, n_samples: int, level: float) -> float:
    """The ``level`` quantile of the pooled calibration ``scores`` of ``n_samples`` samples.

    Split-conformal for one feature takes the ``ceil((n + 1) * level)``-th of n scores, a
    worst-case correction of about ``level / n`` that guarantees coverage >= level. Pooled over
    features the quantile rests on n x features scores and that correction over-covers (by about
    0.02 with 50 samples); the milder ``(1 - level) / (n + 1)`` added here kept the expected
    coverage at or just above ``level`` in simulation (see the tests) and in the benchmarks.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    return float(
        np.quantile(scores, min(1.0, level + (1 - level) / (n_samples + 1)), method="higher")
    )


def interval_scores(true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, float]:
    """``coverage`` (fraction of true values inside their interval) and mean ``width``."""
    true = np.asarray(true, dtype=np.float64)
    return {
        "coverage": float(((true >= lower) & (true <= upper)).mean()),
        "width": float(np.mean(upper - lower)),
    }


def predict_interval_ridge(
    X_train: np.ndarray,
    Y_train: np.ndarray,
    X_test: np.ndarray,
    calibration: np.ndarray,
    *,
    level: float = 0.9,
    bounds: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge (:func:`predict_ridge`) with split-conformal intervals calibrated like the
    CrossModalVAE's (:func:`conformal_scores`, pooled quantile), in the target's units.

    ``calibration``: boolean mask or indices of training rows held out of the ridge used for
    calibration; the point prediction is then the ridge refitted on all training rows (as the
    CrossModalVAE refits its ridge maps). ``bounds``: clip the interval (e.g. ``(0, 1)`` for beta
    values). Returns ``(prediction, lower, upper)``.
    """
    cal = np.zeros(len(X_train), dtype=bool)
    cal[np.asarray(calibration)] = True
    fit = predict_ridge(X_train[~cal], Y_train[~cal], np.vstack([X_train[cal], X_test]))
    scores, scale = conformal_scores(fit[: cal.sum()] - Y_train[cal])
    half = conformal_quantile(scores, int(cal.sum()), level) * scale
    pred = predict_ridge(X_train, Y_train, X_test)
    lower, upper = pred - half, pred + half
    if bounds is not None:
        lower, upper = np.clip(lower, *bounds), np.clip(upper, *bounds)
    return pred, lower, upper
