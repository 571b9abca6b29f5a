"""Evaluation metrics: generation (two-sample AUC, DCR, MMD, ...) and translation scores."""

from ._generation import (
    correlation_distance,
    dcr_ratio,
    distance_to_closest_record,
    log_variance_ratio,
    mean_difference,
    mmd_rbf,
    train_synthetic_test_real,
    two_sample_auc,
)

__all__ = [
    "two_sample_auc",
    "dcr_ratio",
    "distance_to_closest_record",
    "mean_difference",
    "log_variance_ratio",
    "correlation_distance",
    "mmd_rbf",
    "train_synthetic_test_real",
]
