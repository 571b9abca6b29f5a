"""Training loops: Lightning Fabric for devices and strategies, data resident as tensors."""

from ._loop import (
    IndexBatches,
    check_seed,
    isolated_rng,
    make_fabric,
    progress_bar,
    seed_everything,
)

__all__ = [
    "IndexBatches",
    "check_seed",
    "isolated_rng",
    "make_fabric",
    "progress_bar",
    "seed_everything",
]
