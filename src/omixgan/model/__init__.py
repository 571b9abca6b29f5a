"""User-facing model classes (scvi-tools style).

setup_mudata, train, sample / translate, save / load.
"""

from ._counts import CountVAE
from ._multiomicsgan import MultiOmicsGAN
from ._omicsgan import OmicsGAN
from ._vae import CrossModalVAE, OmicsVAE

__all__ = ["OmicsGAN", "MultiOmicsGAN", "OmicsVAE", "CrossModalVAE", "CountVAE"]
