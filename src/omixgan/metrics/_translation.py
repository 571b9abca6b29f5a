"""Translation scores and the regression baselines every translator is shown next to."""

from __future__ import annotations

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
    return _pearson_columns(np.asarray(true, dtype=np.float64).T, np.asarray(pred, dtype=np.float64).T)


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


def predict_class_mean(Y_train: np.ndarray, labels_train: np.ndarray, labels_test: np.ndarray) -> np.ndarray:
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


def predict_knn(X_train: np.ndarray, Y_train: np.ndarray, X_test: np.ndarray, *, n_neighbors: int = 10, n_pcs: int = 50) -> np.ndarray:
    """Mean target of the ``n_neighbors`` nearest training samples in a PCA (``n_pcs``) of the
    standardised source."""
    n_pcs = min(n_pcs, X_train.shape[0] - 1, X_train.shape[1])
    model = make_pipeline(
        StandardScaler(), PCA(n_components=n_pcs, random_state=0), KNeighborsRegressor(n_neighbors=min(n_neighbors, len(X_train)))
    )
    return model.fit(X_train, Y_train).predict(X_test)
