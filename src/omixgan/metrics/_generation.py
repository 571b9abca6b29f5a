"""Scores of synthetic samples against held-out real samples (numpy in, floats out).

Every function takes matrices already on a common scale (the evaluation standardises with the
training samples' statistics) and never sees the training samples as the reference: a generator
that copies its training data must not look perfect.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler


def _balanced(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(a), len(b))
    return a[rng.choice(len(a), n, replace=False)], b[rng.choice(len(b), n, replace=False)]


def two_sample_auc(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    n_splits: int = 5,
    n_estimators: int = 300,
    random_state: int = 0,
) -> float:
    """Cross-validated ROC AUC of a random forest telling ``real`` from ``synthetic``.

    0.5: the classifier cannot tell them apart (ideal); 1.0: every synthetic sample is spotted.
    The larger set is subsampled to the size of the smaller one so chance level is exactly 0.5.
    ``n_estimators``: 300 trees, the forest of the acceptance checks (100 trees move the AUC of
    a few hundred samples by about 0.01 from seed to seed).
    """
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(random_state)
    real, synthetic = _balanced(np.asarray(real), np.asarray(synthetic), rng)
    X = np.vstack([real, synthetic])
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    forest = RandomForestClassifier(
        n_estimators=n_estimators, min_samples_leaf=2, n_jobs=-1, random_state=random_state
    )
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    proba = cross_val_predict(forest, X, y, cv=cv, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, proba))


def distance_to_closest_record(train: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Euclidean distance from every row of ``query`` to its nearest row of ``train``."""
    nn = NearestNeighbors(n_neighbors=1).fit(train)
    return nn.kneighbors(query, return_distance=True)[0][:, 0]


def dcr_ratio(train: np.ndarray, synthetic: np.ndarray, reference: np.ndarray) -> float:
    """Median distance to the closest training sample, synthetic over held-out real.

    About 1: synthetic samples are as far from the training data as new real samples are.
    Well below 1: the generator copies or interpolates its training samples (privacy and novelty
    risk; SMOTE sits near 0.3, a copy at 0).
    """
    return float(
        np.median(distance_to_closest_record(train, synthetic))
        / np.median(distance_to_closest_record(train, reference))
    )


def mean_difference(reference: np.ndarray, synthetic: np.ndarray) -> float:
    """Mean over features of the absolute difference of means, in reference standard deviations."""
    sd = reference.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return float(np.mean(np.abs(synthetic.mean(axis=0) - reference.mean(axis=0)) / sd))


def log_variance_ratio(reference: np.ndarray, synthetic: np.ndarray) -> float:
    """Mean over features of the absolute log ratio of synthetic to reference variance; 0 is ideal.

    Interpolation (SMOTE) shrinks variance; mode collapse of a GAN shrinks it much more.
    """
    eps = 1e-12
    return float(
        np.mean(np.abs(np.log((synthetic.var(axis=0) + eps) / (reference.var(axis=0) + eps))))
    )


def correlation_distance(reference: np.ndarray, synthetic: np.ndarray) -> float:
    """Root mean square difference between the two feature-feature correlation matrices."""
    p = reference.shape[1]
    if p < 2:
        return 0.0
    diff = np.nan_to_num(np.corrcoef(synthetic, rowvar=False)) - np.nan_to_num(
        np.corrcoef(reference, rowvar=False)
    )
    off = ~np.eye(p, dtype=bool)
    return float(np.sqrt(np.mean(diff[off] ** 2)))


def mmd_rbf(
    reference: np.ndarray, synthetic: np.ndarray, *, max_samples: int = 1000, random_state: int = 0
) -> float:
    """Squared maximum mean discrepancy with a Gaussian kernel (bandwidth: median distance).

    An unbiased estimate: near 0 when both samples come from one distribution (can dip below 0).
    """
    rng = np.random.default_rng(random_state)
    a = reference[rng.choice(len(reference), min(len(reference), max_samples), replace=False)]
    b = synthetic[rng.choice(len(synthetic), min(len(synthetic), max_samples), replace=False)]
    both = np.vstack([a, b])
    sq = np.sum(both**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * both @ both.T, 0)
    bandwidth = np.median(d2[np.triu_indices(len(both), 1)])
    K = np.exp(-d2 / max(bandwidth, 1e-12))
    n, m = len(a), len(b)
    kaa, kbb, kab = K[:n, :n], K[n:, n:], K[:n, n:]
    return float(
        (kaa.sum() - np.trace(kaa)) / (n * (n - 1))
        + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
        - 2 * kab.mean()
    )


def train_synthetic_test_real(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    random_state: int = 0,
) -> tuple[float, float]:
    """Accuracy and macro-F1 on real held-out samples of a classifier trained on ``X_train``.

    With synthetic ``X_train`` this tells whether the class structure survived generation;
    compare with the same classifier trained on the real training samples. A multinomial logistic
    regression on standardised features: fast, and it needs no tuning to be a fair judge.
    """
    if len(np.unique(y_train)) < 2:
        return float("nan"), float("nan")
    scaler = StandardScaler().fit(X_train)
    clf = LogisticRegression(max_iter=2000, C=1.0, random_state=random_state)
    clf.fit(scaler.transform(X_train), y_train)
    pred = clf.predict(scaler.transform(X_test))
    return float(accuracy_score(y_test, pred)), float(f1_score(y_test, pred, average="macro"))
