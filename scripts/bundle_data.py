"""Rebuild the data bundled in src/omixgan/datasets/data from the shared text files.

    python scripts/bundle_data.py ../shared/data

Uses omixgan's own readers, so the bundle holds exactly what read_course / read_table give.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

import omixgan as og

OUT = Path(__file__).resolve().parents[1] / "src" / "omixgan" / "datasets" / "data"


def _arrays(mdata: md.MuData, labels: pd.Series) -> dict[str, np.ndarray]:
    out = {"modalities": np.array(list(mdata.mod), dtype=str)}
    for mod, adata in mdata.mod.items():
        out[f"{mod}/X"] = np.asarray(adata.X, dtype=np.float32)
        out[f"{mod}/obs_names"] = adata.obs_names.to_numpy(dtype=str)
        out[f"{mod}/var_names"] = adata.var_names.to_numpy(dtype=str)
    out["labels"] = labels.to_numpy(dtype=str)
    out["label_obs_names"] = labels.index.to_numpy(dtype=str)
    out["label_categories"] = np.array(sorted(labels.unique()), dtype=str)
    return out


def main(shared: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for n in (2000, 5000):
        mdata = og.read_course(shared / "course" / f"dataset_{n}samples")
        np.savez_compressed(
            OUT / f"course_{n}.npz", **_arrays(mdata, mdata.obs["cluster"].astype(str))
        )

    tcga = shared / "tcga_brca"

    def read(name):
        return og.read_table(tcga / f"{name}.csv", orientation="samples_in_rows")

    mods = {
        "mrna": _stack(read("train_mrna"), read("test_mrna")),
        "mirna": _stack(read("train_mirna"), read("test_mirna")),
        "prot": read("train_protein"),
    }
    mdata = md.MuData(mods)
    train_labels = og.read_labels(tcga / "train_subtype.csv")
    test_labels = og.read_labels(tcga / "test_subtype.csv")
    labels = pd.concat([train_labels.astype(str), test_labels.astype(str)])
    split = np.array(["train"] * len(train_labels) + ["test"] * len(test_labels))
    arrays = _arrays(mdata, labels.astype(str))
    arrays["split"] = split
    np.savez_compressed(OUT / "tcga_brca.npz", **arrays)

    np.savez_compressed(OUT / "tcga_brca_2012.npz", **_tcga_2012_arrays(shared / "tcga_brca_2012"))


def _tcga_2012_arrays(folder: Path) -> dict[str, np.ndarray]:
    """The four platforms of the 2012 freeze; an unknown PAM50 call is stored as "" (NaN on
    load)."""
    mods = {}
    for mod in ("mrna", "meth", "mirna", "prot"):
        table = pd.read_csv(folder / f"{mod}.csv.gz", index_col="sample_id")
        mods[mod] = ad.AnnData(
            X=table.to_numpy(dtype=np.float32),
            obs=pd.DataFrame(index=table.index.astype(str)),
            var=pd.DataFrame(index=table.columns.astype(str)),
        )
    labels = pd.read_csv(
        folder / "labels.csv.gz", index_col="sample_id", keep_default_na=False, dtype=str
    )
    arrays = _arrays(md.MuData(mods), labels["label"])
    arrays["label_categories"] = np.array(sorted(set(labels["label"]) - {""}), dtype=str)
    arrays["bcc_cluster"] = labels["bcc_cluster"].to_numpy(dtype=str)
    return arrays


def _stack(train: ad.AnnData, test: ad.AnnData) -> ad.AnnData:
    return ad.concat([train, test])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
