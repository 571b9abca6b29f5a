"""Scanpy-style tools: baselines, generation and translation on top of models and metrics."""

from ._baselines import class_gaussian, copy_training, smote
from ._counts import count_gaussian
from ._evaluate_generation import evaluate_generation, evaluate_multiomics_generation
from ._oversample import oversample
from ._smote_multiomics import smote_multiomics
from ._translation import embed, evaluate_translation, impute, translate

__all__ = [
    "smote",
    "smote_multiomics",
    "count_gaussian",
    "class_gaussian",
    "copy_training",
    "evaluate_generation",
    "evaluate_multiomics_generation",
    "oversample",
    "translate",
    "impute",
    "embed",
    "evaluate_translation",
]
