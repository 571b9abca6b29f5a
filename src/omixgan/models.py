"""User-facing model classes, importable as ``omixgan.models`` (``og.models.OmicsGAN``).

The classes live in :mod:`omixgan.model` (scvi-tools' layout: ``module`` holds torch modules,
``model`` the classes users train); this module re-exports every one of them under the plural
name used throughout the documentation, so ``import omixgan.models`` works as well as
``og.models``.
"""

from .model import *  # noqa: F403
from .model import __all__  # noqa: F401
