"""OmicsGAN's path for count data (scGAN-style): the GAN works in the calibrated log-normalised
PCA space of :class:`~omixgan.pp._countspace.CountSpace` and its samples are decoded to whole,
non-negative counts with library sizes drawn from each class's real cells.

Kept apart from ``_omicsgan.py``: the GAN itself (start, residual, validation) is the same for
every data type; only what goes in (coordinates instead of a transformed matrix) and what comes
out (counts) differ.
"""

from __future__ import annotations

import numpy as np

from ..pp._counts import check_counts
from ..pp._countspace import CountSpace


def check_count_data(X: np.ndarray, source) -> None:
    """Refuse what is not a count matrix (negative or non-integer values, cells without any
    count), naming the cell, the gene and the argument to change."""
    check_counts(
        X,
        obs_names=source.obs_names,
        var_names=source.var_names,
        name="the data",
        argument="data_type",
    )


def fit_count_space(X: np.ndarray, labels: np.ndarray, n_pcs: int) -> tuple[np.ndarray, dict]:
    """The GAN's training matrix (each class's coordinates mapped onto its calibrated Gaussian)
    and the fitted count space's state (saved with the model)."""
    space = CountSpace(n_pcs).fit(X, labels)
    return space.coordinates(X, labels), space.state()


def decode_counts(state: dict, Z: np.ndarray, labels: np.ndarray, seed: int | None) -> np.ndarray:
    """Whole counts of generated coordinates ``Z`` of classes ``labels`` (library sizes and the
    rounding drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    return CountSpace.from_state(state).decode_classes(Z.astype(np.float64), labels, rng)
