"""omixgan: deep generative models (GANs, VAEs) for multi-omics data in MuData."""

from importlib.metadata import PackageNotFoundError, version

from . import datasets, io, metrics, models, pl, pp, tl
from ._settings import settings
from .io import read_course, read_labels, read_table

try:
    __version__ = version("omixgan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "datasets",
    "io",
    "metrics",
    "models",
    "pl",
    "pp",
    "tl",
    "settings",
    "read_course",
    "read_table",
    "read_labels",
    "__version__",
]
