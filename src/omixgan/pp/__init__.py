"""Invertible per-modality preprocessing: scaling, logit for beta values, feature selection, NaN."""

from ._functions import (
    highly_variable,
    impute_mean,
    inverse_logit,
    inverse_transform,
    log1p,
    logit,
    minmax,
    standardize,
)
from ._transforms import (
    Log1p,
    Logit,
    MinMax,
    Pipeline,
    Standardize,
    Transform,
    declared_data_type,
    infer_data_type,
    resolve_data_type,
)

__all__ = [
    "standardize",
    "minmax",
    "log1p",
    "logit",
    "inverse_logit",
    "inverse_transform",
    "highly_variable",
    "impute_mean",
    "Transform",
    "Standardize",
    "MinMax",
    "Log1p",
    "Logit",
    "Pipeline",
    "infer_data_type",
    "resolve_data_type",
    "declared_data_type",
]
