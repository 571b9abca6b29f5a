"""OmicsGAN's path for count data (scGAN-style): the GAN works in the calibrated log-normalised
PCA space of :class:`~omixgan._countspace.CountSpace` and its samples are decoded to whole,
non-negative counts with library sizes drawn from each class's real cells.

Kept apart from ``_omicsgan.py``: the GAN itself (start, residual, validation) is the same for
every data type; only what goes in (coordinates instead of a transformed matrix) and what comes
out (counts) differ.
"""

from __future__ import annotations

import numpy as np

from .._countspace import CountSpace
from .._utils import check_counts


def check_count_data(
    X: np.ndarray, source, *, name: str = "the data", declare: str = "data_type='gaussian'"
) -> None:
    """Refuse what is not a count matrix (negative or non-integer values, cells without any
    count), naming the cell, the gene and the argument to change (``declare``: how the caller
    models the values as continuous instead)."""
    check_counts(
        X,
        obs_names=source.obs_names,
        var_names=source.var_names,
        name=name,
        alternative=f"{declare} models the values as continuous",
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


# --- MultiOmicsGAN: several count modalities of the same cells ---------------------------------


def class_libraries(libraries: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per class, the library sizes of its cells, one column per count modality (``libraries``:
    ``{modality: per-cell library}``), kept in pairs: a cell's RNA and protein depths go together
    (a large cell has more of both), so a new cell takes all of them from one real cell."""
    labels = np.asarray(labels).astype(str)
    table = np.column_stack(list(libraries.values()))
    return {c: table[labels == c] for c in np.unique(labels)}


def draw_class_libraries(
    per_class: dict[str, np.ndarray], labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One real cell's library sizes (all count modalities) for every row of ``labels``."""
    labels = np.asarray(labels).astype(str)
    first = next(iter(per_class.values()))
    out = np.zeros((len(labels), first.shape[1]))
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        out[rows] = per_class[c][rng.integers(0, len(per_class[c]), size=len(rows))]
    return out


def decode_with_libraries(
    state: dict, Z: np.ndarray, library: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Whole counts of generated coordinates ``Z`` with the given library sizes."""
    return CountSpace.from_state(state).decode(Z.astype(np.float64), library, rng)
