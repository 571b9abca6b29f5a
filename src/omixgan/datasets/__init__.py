"""Data sets bundled with omixgan (no download needed)."""

from ._bundled import course, tcga_brca

__all__ = ["course", "tcga_brca"]
