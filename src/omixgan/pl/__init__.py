"""Plots (matplotlib): real vs synthetic, training history, generation and translation reports,
latent space, between-modality correlations. Scanpy's conventions: ``show``, ``ax``,
``return_fig``."""

from ._plots import (
    cross_correlation,
    generation_report,
    history,
    latent,
    real_vs_synthetic,
    translation,
)

__all__ = [
    "real_vs_synthetic",
    "history",
    "generation_report",
    "translation",
    "latent",
    "cross_correlation",
]
