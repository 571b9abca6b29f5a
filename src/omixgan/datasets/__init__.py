"""Data sets bundled with omixgan (no download needed)."""

from ._bundled import course, tcga_brca, tcga_brca_2012

__all__ = ["course", "tcga_brca", "tcga_brca_2012"]
