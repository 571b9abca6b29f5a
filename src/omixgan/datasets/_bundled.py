"""Loaders for the data bundled inside the package.

Each data set is stored as one compressed ``.npz`` of float32 matrices plus names (about 3x
smaller than the text files and independent of the HDF5 library's version); the loaders build the
MuData on the fly.
"""

from __future__ import annotations

from importlib import resources

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from .._utils import DATA_TYPE_KEY, make_mudata

_COURSE_SIZES = (2000, 5000)


def _load_npz(name: str) -> dict[str, np.ndarray]:
    with resources.files(__package__).joinpath("data", name).open("rb") as fh:
        with np.load(fh, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}


def _modality(arrays: dict[str, np.ndarray], mod: str) -> ad.AnnData:
    adata = ad.AnnData(
        X=arrays[f"{mod}/X"],
        obs=pd.DataFrame(index=pd.Index(arrays[f"{mod}/obs_names"].astype(str))),
        var=pd.DataFrame(index=pd.Index(arrays[f"{mod}/var_names"].astype(str))),
    )
    if mod == "meth":  # every bundled "meth" holds beta values: declared for the baselines
        adata.uns[DATA_TYPE_KEY] = "beta"
    return adata


def _build(arrays: dict[str, np.ndarray], labels_key: str) -> md.MuData:
    mods = [str(m) for m in arrays["modalities"]]
    mdata = make_mudata({mod: _modality(arrays, mod) for mod in mods})
    labels = pd.Series(arrays["labels"].astype(str), index=arrays["label_obs_names"].astype(str))
    categories = [str(c) for c in arrays["label_categories"]]
    # a label outside the categories (stored as "") is unknown and loads as NaN
    mdata.obs[labels_key] = pd.Categorical(labels.loc[mdata.obs_names], categories=categories)
    for adata in mdata.mod.values():
        adata.obs[labels_key] = mdata.obs.loc[adata.obs_names, labels_key]
        adata.uns["n_missing"] = 0
    return mdata


def course(n_samples: int = 2000) -> md.MuData:
    """The course data sets: synthetic multi-omics generated from TCGA ovarian cancer parameters.

    The same values as :func:`omixgan.read_course` gives on the course folders
    ``dataset_2000samples`` / ``dataset_5000samples``.

    Generated with InterSIM (Chalise et al. 2016) from means, covariances and cross-omics
    correlations estimated on TCGA ovarian cancer. Within a class, each modality is drawn
    independently from a multivariate normal (methylation in logit space): **modalities are
    coupled only through the class**. Hence the class-conditional mean is the best possible
    translation of one modality into another, and a class-conditional Gaussian is the true
    generating model.

    Parameters
    ----------
    n_samples
        ``2000`` (2 classes, 1200 / 800) or ``5000`` (5 classes, 1500 / 1250 / 1000 / 750 / 500).

    Returns
    -------
    MuData with modalities ``mrna`` (131 genes), ``meth`` (367 CpG beta values in (0, 1)) and
    ``prot`` (160 proteins), and ``obs["cluster"]`` (categorical class label "1".."K") on the
    MuData and on every modality.
    """
    if n_samples not in _COURSE_SIZES:
        raise ValueError(f"n_samples must be one of {_COURSE_SIZES}, got {n_samples!r}.")
    return _build(_load_npz(f"course_{n_samples}.npz"), labels_key="cluster")


def tcga_brca() -> md.MuData:
    """Real TCGA breast cancer multi-omics (mixOmics ``breast.TCGA``), 220 samples.

    Normalised, log-scale values. Modalities: ``mrna`` (200 genes) and ``mirna`` (184 miRNAs) for
    all 220 samples; ``prot`` (142 RPPA antibodies) for 150 samples only: the 70 samples of the
    original test split have no protein and are **absent from** ``mdata["prot"]`` (a real case of a
    missing modality, the one imputation is for). ``obs["subtype"]``: PAM50 subtype
    (Basal, Her2, LumA). ``obs["split"]``: ``"train"`` or ``"test"`` as distributed.
    Unlike the course data, the modalities are linked sample by sample.
    """
    arrays = _load_npz("tcga_brca.npz")
    mdata = _build(arrays, labels_key="subtype")
    mdata.obs["split"] = pd.Categorical(
        pd.Series(arrays["split"].astype(str), index=arrays["label_obs_names"].astype(str)).loc[
            mdata.obs_names
        ],
        categories=["train", "test"],
    )
    return mdata


def tcga_brca_2012() -> md.MuData:
    """Real TCGA breast cancer tumours (2012 freeze), four platforms on the same 348 samples.

    As assembled for Bayesian consensus clustering (Lock & Dunson 2013; the matrices of the
    r.jive R package). Modalities, all on every tumour:

    - ``mrna``: 645 genes, Agilent log2 ratios, median-centred (the most variable genes);
    - ``meth``: 574 CpG probes (Illumina HM27), DNA methylation **beta values** in (0, 1);
    - ``mirna``: 423 miRNA precursors, ln(1 + RPM);
    - ``prot``: 171 RPPA antibodies, as released (not scaled).

    ``obs["pam50"]``: PAM50 subtype (LumA 170, Basal 66, LumB 63, Her2 35, Normal 9); NaN for
    the 5 tumours without a call, so drop them before anything that needs a label
    (``mdata[mdata.obs["pam50"].notna()]``). ``obs["bcc_cluster"]``: the paper's 3 consensus
    clusters. Classes are small and unbalanced, as in real studies; modalities are linked sample
    by sample. 132 of these tumours are also in :func:`tcga_brca`.
    """
    arrays = _load_npz("tcga_brca_2012.npz")
    mdata = _build(arrays, labels_key="pam50")
    bcc = pd.Series(arrays["bcc_cluster"].astype(str), index=arrays["label_obs_names"].astype(str))
    mdata.obs["bcc_cluster"] = pd.Categorical(bcc.loc[mdata.obs_names])
    for adata in mdata.mod.values():
        adata.obs["bcc_cluster"] = mdata.obs.loc[adata.obs_names, "bcc_cluster"]
    return mdata
