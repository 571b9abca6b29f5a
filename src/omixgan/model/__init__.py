"""User-facing model classes (scvi-tools style): setup_mudata, train, sample/translate, save/load."""

from ._omicsgan import OmicsGAN

__all__ = ["OmicsGAN"]
