from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

# Tiny test models run fastest on one thread, and results do not depend on thread scheduling.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def write_course(
    folder: Path,
    *,
    n_samples: int = 12,
    seed: int = 0,
    files=("mRNA.txt", "meth.txt", "prot.txt"),
    labels=True,
):
    """Write a small course-format folder (features in rows, short header) and return its values."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    samples = [f"s{i}" for i in range(n_samples)]
    values = {}
    for name, n_features in zip(("mRNA.txt", "meth.txt", "prot.txt"), (5, 4, 3)):
        if name not in files:
            continue
        X = (
            rng.uniform(0.05, 0.95, size=(n_features, n_samples))
            if name == "meth.txt"
            else rng.normal(size=(n_features, n_samples))
        )
        features = [f"{name[:4]}_{j}" for j in range(n_features)]
        lines = ["\t".join(samples)] + [
            "\t".join([f, *(f"{v:.6g}" for v in row)]) for f, row in zip(features, X)
        ]
        (folder / name).write_text("\n".join(lines) + "\n")
        values[name] = (features, X.T.astype(np.float32))
    if labels:
        labs = [str(1 + i % 2) for i in range(n_samples)]
        (folder / "clusters.txt").write_text("\t".join(samples) + "\n" + "\t".join(labs) + "\n")
        values["labels"] = labs
    return samples, values


@pytest.fixture
def course_dir(tmp_path):
    folder = tmp_path / "course"
    write_course(folder)
    return folder
