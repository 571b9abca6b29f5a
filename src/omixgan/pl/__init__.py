"""Plots (matplotlib): real vs synthetic, training history, generation and translation reports, latent."""

from ._plots import generation_report, history, latent, real_vs_synthetic, translation

__all__ = ["real_vs_synthetic", "history", "generation_report", "translation", "latent"]
