"""Package-wide settings, ``omixgan.settings`` (as ``scvi.settings``): CPU threads of training and
sampling."""

from __future__ import annotations

import contextlib
import os

import numpy as np
import torch

#: Models with at most this many parameters train on one CPU thread by default. Their matrix
#: products take microseconds; splitting them over threads gains little when the machine is
#: quiet and collapses when it is not: measured on 2 cores, the default CrossModalVAE (about
#: 1.2 million parameters) trained 57x slower next to one other CPU-bound process with torch's
#: default threads, against a fair share of 2x (``benchmarks/speed.py --load``).
SMALL_MODEL_PARAMETERS = 20_000_000


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a container's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


class Settings:
    """omixgan's settings; change them on ``omixgan.settings``.

    Attributes
    ----------
    num_threads
        CPU threads torch (and NumPy's BLAS) use while an omixgan model trains, samples,
        translates or encodes.
        None (default): one thread for models of at most
        :data:`SMALL_MODEL_PARAMETERS` parameters (every default model on omics tables), else
        every core this process may use. Why one: on small models more threads barely help on a
        quiet machine and, on a shared one, threads that wait for each other multiply the time
        (see :data:`SMALL_MODEL_PARAMETERS`). An int fixes the count for every model. The setting
        applies only during omixgan's calls: torch's own global setting
        (``torch.get_num_threads()``) is restored afterwards, so the rest of a session is not
        affected.
    """

    def __init__(self):
        self._num_threads: int | None = None

    @property
    def num_threads(self) -> int | None:
        """CPU threads of omixgan's calls (None for the default policy, see the class)."""
        return self._num_threads

    @num_threads.setter
    def num_threads(self, value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
        ):
            raise ValueError(
                f"settings.num_threads must be a positive integer or None, got {value!r}."
            )
        self._num_threads = None if value is None else int(value)

    def threads_for(self, n_parameters: int) -> int:
        """Threads a model of ``n_parameters`` parameters runs on (see ``num_threads``)."""
        if self._num_threads is not None:
            return self._num_threads
        return 1 if n_parameters <= SMALL_MODEL_PARAMETERS else available_cores()

    def __repr__(self) -> str:
        return f"omixgan.settings(num_threads={self._num_threads!r})"


settings = Settings()


@contextlib.contextmanager
def thread_limit(n_threads: int):
    """Run the block on ``n_threads`` torch CPU threads and as many BLAS/OpenMP threads (NumPy's
    and scikit-learn's, through threadpoolctl: the ridge maps and metrics use them), then restore
    the caller's settings."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    if n_threads != before:
        torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
