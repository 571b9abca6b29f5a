"""Scanpy-style tools: baselines, generation and translation on top of models and metrics."""

from ._baselines import class_gaussian, copy_training, smote
from ._evaluate_generation import evaluate_generation

__all__ = ["smote", "class_gaussian", "copy_training", "evaluate_generation"]
