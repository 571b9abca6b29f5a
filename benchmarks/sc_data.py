"""Shared data preparation of the single-cell benchmarks (``benchmarks/singlecell.py``).

Kept apart from the runner so exploratory scripts and the benchmark use the very same splits,
normalisation and evaluation space.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

DATA = Path(
    os.environ.get(
        "OMIXGAN_SC_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "singlecell"
    )
)
if not DATA.exists():
    DATA = Path("/work/shared/data/singlecell")
CITE = DATA / "pbmc10k_cite.h5mu"
PBMC4K = DATA / "pbmc4k_soupx.h5ad"
LABELS_KEY = "cell_type"


def lognorm(counts) -> np.ndarray:
    """Counts per 10,000, log1p (scanpy's normalize_total(target_sum=1e4) + log1p), dense."""
    X = counts.toarray() if sp.issparse(counts) else np.asarray(counts)
    X = X.astype(np.float64)
    lib = X.sum(axis=1, keepdims=True)
    return np.log1p(X / np.maximum(lib, 1) * 1e4)


def load_cite():
    """The labelled CITE-seq cells: rna counts (CSR), prot counts (dense), labels, the MuData."""
    import mudata as md

    mdata = md.read_h5mu(CITE)
    labels = mdata.obs[LABELS_KEY].astype(str).to_numpy()
    keep = labels != "unknown"
    rna = sp.csr_matrix(mdata["rna"].X)[keep]
    prot = np.asarray(
        mdata["prot"].X.toarray() if sp.issparse(mdata["prot"].X) else mdata["prot"].X
    )[keep]
    return rna, prot, labels[keep], mdata[keep].copy()


def split_cite(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out 25 % of the labelled cells, stratified by cell type."""
    idx = np.arange(len(labels))
    tr, te = train_test_split(idx, test_size=0.25, stratify=labels, random_state=seed)
    return np.sort(tr), np.sort(te)


def load_pbmc4k(n_top_genes: int = 2000) -> ad.AnnData:
    """pbmc4k without the unannotated cells, the ``n_top_genes`` highly variable genes of scanpy's
    seurat_v3 flavour on raw counts (needs scikit-misc), counts in ``.X`` (CSR)."""
    import scanpy as sc

    adata = ad.read_h5ad(PBMC4K)
    adata = adata[adata.obs[LABELS_KEY].astype(str) != "?"].copy()
    adata.obs[LABELS_KEY] = adata.obs[LABELS_KEY].astype(str).astype("category")
    sc.pp.highly_variable_genes(adata, n_top_genes=n_top_genes, flavor="seurat_v3")
    return adata[:, adata.var["highly_variable"].to_numpy()].copy()


def split_half(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(labels))
    tr, te = train_test_split(idx, test_size=0.5, stratify=labels, random_state=seed)
    return np.sort(tr), np.sort(te)


class EvaluationSpace:
    """Log-normalised counts projected on the 50 principal axes of ALL real cells.

    A basis fitted on the training half alone separates held-out from training cells (AUC 0.92)
    and makes every generator look bad; fitting it on all real cells is the fair reference.
    """

    def __init__(self, counts_all, n_pcs: int = 50):
        from sklearn.decomposition import PCA

        self.pca = PCA(n_components=n_pcs, random_state=0).fit(lognorm(counts_all))

    def __call__(self, counts) -> np.ndarray:
        return self.pca.transform(lognorm(counts))
