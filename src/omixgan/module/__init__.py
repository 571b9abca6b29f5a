"""Torch modules (no AnnData here): GAN generators/critics and losses, VAE encoders/decoders."""

from ._base import OmixModule

__all__ = ["OmixModule"]
