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

from ._translation import (
    conformal_quantile,
    conformal_scores,
    interval_scores,
    per_feature_pearson,
    per_sample_pearson,
    predict_class_mean,
    predict_feature_mean,
    predict_interval_ridge,
    predict_knn,
    predict_mofa,
    predict_ridge,
    rmse,
    translation_scores,
)

__all__ += [
    "conformal_scores",
    "conformal_quantile",
    "interval_scores",
    "predict_interval_ridge",
    "per_feature_pearson",
    "per_sample_pearson",
    "rmse",
    "translation_scores",
    "predict_feature_mean",
    "predict_class_mean",
    "predict_ridge",
    "predict_knn",
    "predict_mofa",
]
