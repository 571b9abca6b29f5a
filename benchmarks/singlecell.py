"""Single-cell count benchmarks: CITE-seq RNA -> protein and per-cell-type count generation.

Run from the repository root (data in ``../shared/data/singlecell`` or ``$OMIXGAN_SC_DATA``)::

    python benchmarks/singlecell.py translation [--methods ridge knn ...] [--seeds 0 1 2] [--no-rare]
    python benchmarks/singlecell.py generation  [--methods smote scvi ...] [--seeds 0 1 2]
    python benchmarks/singlecell.py rare        [--seeds 0 1 2]
    python benchmarks/singlecell.py subset      [--seeds 0 1 2]
    python benchmarks/singlecell.py page        # rewrite docs/benchmarks_singlecell.md from CSVs

Every run appends (or replaces) its rows in ``benchmarks/results/singlecell_*.csv``, one row per
task, method and seed, with wall seconds and the load average at the time (the machine is shared:
timings are inflated by other processes). Scores are deterministic for a seed (one torch thread).
Rows of methods not named in ``--methods`` are kept as they are: after a change to omixgan alone,
``translation --methods omixgan`` reruns only its rows (minutes a seed; ridge took 8-33 minutes a
seed and totalVI 86 minutes under load, and the split and their code are unchanged), plus the
rare-type rows of that seed, which use the same trained model (``--no-rare`` keeps those rows as
they are).

Protocols
---------
Translation: labelled cells of pbmc10k CITE-seq (5,994; "unknown" left out), held-out 25 %
stratified by cell type (``random_state`` = seed); inputs: RNA counts; score: per-protein Pearson r
on log1p counts of the held-out cells.

Generation: pbmc4k (2,150 annotated cells), 2,000 HVGs (scanpy seurat_v3 on counts), train on a
stratified half, as many synthetic cells per type as held-out cells; scored in log-normalised
PCA-50 space fitted on ALL real cells: random-forest two-sample AUC against the held-out cells and
DCR ratio (synthetic-to-train over held-out-to-train median distance).

Subset (defaults on data they were not chosen on): 1,500 random CITE-seq cells (generator seeded
by 100 + seed), every other protein (7), the 2,000 genes of highest variance of log-normalised
RNA over those cells (cell types with fewer than 4 of them left out, so the split can be
stratified: none were, for seeds 0-2); held-out 25 % stratified by cell type; class mean, kNN, CountVAE with its
defaults, with ``boosted_trees=False`` and with its VAE trained for 2 epochs only.

Rare types: CITE-seq RNA (4,000 genes, labelled cells), held-out 25 %, a logistic regression on
the PCA-50 of log-normalised RNA predicts the cell type; the rare types (DC, CD16+ monocytes) are
oversampled to 200 training cells; score: macro-F1 on the real held-out cells.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
torch.set_num_threads(1)

from sc_baselines import (  # noqa: E402
    gen_class_gaussian,
    gen_copy,
    gen_scvi,
    gen_smote,
    translate_class_mean,
    translate_knn,
    translate_knn_unscaled,
    translate_ridge,
    translate_totalvi,
)
from sc_data import EvaluationSpace, load_cite, load_pbmc4k, lognorm, split_cite, split_half  # noqa: E402
from sc_page import GENERATION_ORDER, TRANSLATION_ORDER  # noqa: E402

from omixgan.metrics import (  # noqa: E402
    dcr_ratio,
    per_feature_pearson,
    two_sample_auc,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "benchmarks_singlecell.md"
RARE = ("Dendritic cells", "CD16+ monocytes")


def _load() -> float:
    return os.getloadavg()[0]


def _save(csv: Path, rows: list[dict], keys=("method", "seed")) -> None:
    new = pd.DataFrame(rows)
    if csv.exists():
        old = pd.read_csv(csv)
        merged = old.merge(new[list(keys)], on=list(keys), how="left", indicator=True)
        old = old[(merged["_merge"] == "left_only").to_numpy()]
        new = pd.concat([old, new], ignore_index=True)
    csv.parent.mkdir(parents=True, exist_ok=True)
    new.to_csv(csv, index=False)


# --------------------------------------------------------------------------- translation


def ours_translate(mdata, tr, te, seed, max_epochs=None):
    """CountVAE (rna -> prot, NB likelihoods) trained on the training cells only; returns log1p
    of the expected protein counts of the held-out cells, and those of other blends (the fixed
    0.5 / 0.5 blend of earlier versions, each predictor alone) from the same model.
    ``max_epochs=2``: the ablation of a VAE that has barely trained (everything after training,
    the neighbours, ridge map, trees and blend weights, as usual)."""
    import omixgan as og

    train = mdata[tr].copy()
    og.models.CountVAE.setup_mudata(train, modalities=["rna", "prot"], labels_key="cell_type")
    model = og.models.CountVAE(train)
    model.train(max_epochs=max_epochs, seed=seed, progress_bar=False)
    test = mdata[te].copy()
    pred = model.translate(test["rna"])
    parts = {
        "fixed_blend": model.translate(test["rna"], neighbor_blend=0.5, linear_blend=0.5),
        "decoder_only": model.translate(test["rna"], neighbor_blend=0.0, linear_blend=0.0),
        "neighbors_only": model.translate(test["rna"], neighbor_blend=1.0, linear_blend=0.0),
        "linear_only": model.translate(test["rna"], neighbor_blend=0.0, linear_blend=1.0),
    }
    return (
        np.log1p(pred),
        {k: np.log1p(v) for k, v in parts.items()},
        len(model.history_["epoch"]),
        model,
    )


def run_translation(methods, seeds, rare=True):
    rna, prot, labels, mdata = load_cite()
    rows, rare_rows = [], []
    for seed in seeds:
        tr, te = split_cite(labels, seed)
        truth = np.log1p(prot[te])
        for method in methods:
            t0, load0 = time.time(), _load()
            extra = {}
            if method == "ridge":
                pred = translate_ridge(rna, prot, tr, te)
            elif method == "kNN":
                pred = translate_knn(rna, prot, tr, te)
            elif method == "kNN, unscaled, k=30":
                pred = translate_knn_unscaled(rna, prot, tr, te)
            elif method == "class mean":
                pred = translate_class_mean(prot, labels, tr, te)
            elif method == "totalVI":
                pred, epochs = translate_totalvi(mdata, tr, te, seed=seed)
                extra["epochs"] = epochs
            elif method in ("omixgan", "omixgan, 2 epochs"):
                max_epochs = 2 if method == "omixgan, 2 epochs" else None
                pred, parts, epochs, model = ours_translate(mdata, tr, te, seed, max_epochs)
                extra["epochs"] = epochs
                for k, v in parts.items():
                    extra[f"pearson_{k}"] = float(np.mean(per_feature_pearson(truth, v)))
            else:
                raise ValueError(method)
            r = per_feature_pearson(truth, pred)
            row = {
                "method": method,
                "seed": seed,
                "pearson_mean": float(np.mean(r)),
                "seconds": time.time() - t0,
                "load_avg": (load0 + _load()) / 2,
                **extra,
            }
            row.update({f"r_{p}": float(v) for p, v in zip(mdata["prot"].var_names, r)})
            print(
                f"translation seed={seed} {method}: r={row['pearson_mean']:.3f} {row['seconds']:.0f}s",
                flush=True,
            )
            rows.append(row)
            _save(RESULTS / "singlecell_translation.csv", rows)
            if method == "omixgan" and rare:
                # the same model (trained on this split's training cells, with their cell types)
                # generates the rare types' RNA counts for the rare-type experiment
                rare_rows.extend(rare_scores(RARE_METHODS, seed, rna, labels, tr, te, model))
                _save(RESULTS / "singlecell_rare.csv", rare_rows)


# --------------------------------------------------------------------------- generation


def ours_generate(adata_train, counts, seed):
    """CountVAE on the training cells' counts; per cell type, codes from the type's latent
    Gaussian, library sizes from the type's real cells, counts from the NB decoder."""
    import omixgan as og

    og.models.CountVAE.setup_anndata(adata_train, labels_key="cell_type")
    model = og.models.CountVAE(adata_train)
    model.train(seed=seed, progress_bar=False)
    syn = model.sample(n_per_class=counts, seed=seed)
    return syn.X, syn.obs["cell_type"].astype(str).to_numpy()


def ours_gan(adata_train, counts, seed):
    """OmicsGAN with its defaults on the training cells' counts (data type detected: counts);
    returns the samples and whether a trained residual replaced any class's calibrated start."""
    import omixgan as og

    og.models.OmicsGAN.setup_anndata(adata_train, labels_key="cell_type")
    gan = og.models.OmicsGAN(adata_train)
    assert gan.data_type_ == "counts", gan.data_type_
    gan.train(seed=seed, progress_bar=False)
    history = gan.history
    kept = bool(history is not None and history.loc[history["kept"], "step"].gt(0).any())
    return gan.sample(n_per_class=counts, seed=seed).X, kept, gan.marginals_


def run_generation(methods, seeds):
    adata = load_pbmc4k()
    labels = adata.obs["cell_type"].astype(str).to_numpy()
    space = EvaluationSpace(adata.X)
    rows = []
    for seed in seeds:
        tr, te = split_half(labels, seed)
        P_tr, P_te = space(adata.X[tr]), space(adata.X[te])
        classes, n = np.unique(labels[te], return_counts=True)
        counts = dict(zip(classes, n.tolist()))
        for method in methods:
            t0, load0 = time.time(), _load()
            whole, extra = None, {}
            if method == "held-out real (control)":
                rng = np.random.default_rng(seed)
                half = np.zeros(len(te), bool)
                for c in classes:
                    idx = np.flatnonzero(labels[te] == c)
                    half[rng.choice(idx, len(idx) // 2, replace=False)] = True
                auc = two_sample_auc(P_te[half], P_te[~half], random_state=seed)
                dcr = dcr_ratio(P_tr, P_te[~half], P_te[half])
                rows.append(
                    {
                        "method": method,
                        "seed": seed,
                        "two_sample_auc": auc,
                        "dcr_ratio": dcr,
                        "seconds": 0.0,
                        "load_avg": load0,
                        "whole_nonneg_counts": True,
                    }
                )
                print(f"generation seed={seed} {method}: AUC={auc:.3f} DCR={dcr:.2f}", flush=True)
                continue
            if method == "SMOTE":
                S, _ = gen_smote(lognorm(adata.X[tr]), labels[tr], counts, seed)
                P = space.pca.transform(S)
                whole = False
            elif method == "class Gaussian (PCA space)":
                P, _ = gen_class_gaussian(P_tr, labels[tr], counts, seed)
                whole = False
            elif method == "copy of train":
                X, _ = gen_copy(adata.X[tr], labels[tr], counts, seed)
            elif method == "scVI posterior samples":
                X, _ = gen_scvi(adata[tr], labels[tr], counts, seed)
            elif method == "omixgan":
                X, _ = ours_generate(adata[tr].copy(), counts, seed)
            elif method == "omixgan OmicsGAN":
                X, kept, marginals = ours_gan(adata[tr].copy(), counts, seed)
                extra = {"residual_kept": kept, "marginals": marginals}
            elif method == "omixgan count Gaussian":
                import omixgan as og

                X = og.tl.count_gaussian(
                    adata[tr].copy(), labels_key="cell_type", n_per_class=counts, random_state=seed
                ).X
            else:
                raise ValueError(method)
            if whole is None:
                Xd = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
                whole = bool((Xd >= 0).all() and np.array_equal(Xd, np.round(Xd)))
                P = space(Xd)
            auc = two_sample_auc(P_te, P, random_state=seed)
            dcr = dcr_ratio(P_tr, P, P_te)
            row = {
                "method": method,
                "seed": seed,
                "two_sample_auc": auc,
                "dcr_ratio": dcr,
                "seconds": time.time() - t0,
                "load_avg": (load0 + _load()) / 2,
                "whole_nonneg_counts": whole,
                **extra,
            }
            print(
                f"generation seed={seed} {method}: AUC={auc:.3f} DCR={dcr:.2f} whole={whole} {row['seconds']:.0f}s {extra}",
                flush=True,
            )
            rows.append(row)
            _save(RESULTS / "singlecell_generation.csv", rows)
    _save(RESULTS / "singlecell_generation.csv", rows)


# --------------------------------------------------------------------------- rare cell types


def rare_scores(methods, seed, rna, labels, tr, te, model=None):
    """Macro-F1 on the real held-out cells of a classifier trained on the training cells plus the
    rare types oversampled to 200 training cells each (``model``: a trained CountVAE)."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import StandardScaler

    X_tr = rna[tr]
    L_tr = lognorm(X_tr)
    target = {c: max(0, 200 - int((labels[tr] == c).sum())) for c in RARE}
    rows = []
    for method in methods:
        t0 = time.time()
        if method == "none":
            add, add_lab = np.empty((0, rna.shape[1])), np.empty(0, dtype=str)
        elif method == "SMOTE":
            # SMOTE in log-normalised space: its samples are not counts
            add, add_lab = gen_smote(L_tr, labels[tr], target, seed)
        elif method == "omixgan":
            syn = model.sample(n_per_class=target, seed=seed)
            add, add_lab = lognorm(syn.X), syn.obs["cell_type"].astype(str).to_numpy()
        elif method == "omixgan count Gaussian":
            import anndata as ad

            import omixgan as og

            a = ad.AnnData(
                X=X_tr, obs=pd.DataFrame({"cell_type": labels[tr]}, index=[f"c{i}" for i in tr])
            )
            syn = og.tl.count_gaussian(
                a, labels_key="cell_type", n_per_class=target, random_state=seed
            )
            add, add_lab = lognorm(syn.X), syn.obs["cell_type"].astype(str).to_numpy()
        else:
            raise ValueError(method)
        pca = PCA(n_components=50, random_state=0).fit(L_tr)
        Z = pca.transform(np.vstack([L_tr, add]) if len(add) else L_tr)
        y = np.r_[labels[tr], add_lab]
        scaler = StandardScaler().fit(Z)
        clf = LogisticRegression(max_iter=3000, random_state=seed).fit(scaler.transform(Z), y)
        pred = clf.predict(scaler.transform(pca.transform(lognorm(rna[te]))))
        f1 = f1_score(labels[te], pred, average="macro")
        per = f1_score(labels[te], pred, average=None, labels=list(RARE))
        rows.append(
            {
                "method": method,
                "seed": seed,
                "macro_f1": float(f1),
                "f1_DC": float(per[0]),
                "f1_CD16_mono": float(per[1]),
                "seconds": time.time() - t0,
            }
        )
        print(
            f"rare seed={seed} {method}: macro-F1={f1:.3f} DC={per[0]:.2f} CD16={per[1]:.2f}",
            flush=True,
        )
    return rows


def run_rare(methods, seeds):
    """The rare-type experiment alone (the translation run with omixgan does it too)."""
    rna, prot, labels, mdata = load_cite()
    rows = []
    for seed in seeds:
        tr, te = split_cite(labels, seed)
        model = ours_translate(mdata, tr, te, seed)[3] if "omixgan" in methods else None
        # the rows of the other methods of this seed (from the translation run) are kept
        rows.extend(rare_scores(methods, seed, rna, labels, tr, te, model))
        _save(RESULTS / "singlecell_rare.csv", rows)


def cite_subset(seed):
    """The subset of the CITE-seq data described in the module docstring: counts of RNA and
    proteins, labels, protein names, and the stratified train / held-out rows."""
    from sklearn.model_selection import train_test_split

    rna, prot, labels, mdata = load_cite()
    cells = np.sort(np.random.default_rng(100 + seed).choice(len(labels), 1500, replace=False))
    genes = np.sort(np.argsort(-lognorm(rna[cells]).var(axis=0))[:2000])
    prots = np.arange(0, prot.shape[1], 2)
    R, P, lab = rna[cells][:, genes], prot[cells][:, prots], labels[cells]
    keep = np.isin(lab, [c for c in np.unique(lab) if (lab == c).sum() >= 4])  # stratifiable
    R, P, lab = R[keep], P[keep], lab[keep]
    tr, te = train_test_split(np.arange(len(lab)), test_size=0.25, stratify=lab, random_state=seed)
    return R, P, lab, mdata["prot"].var_names[prots], np.sort(tr), np.sort(te)


def _subset_mudata(R, P, lab, prot_names, idx):
    import anndata as ad
    import mudata as md

    names = [f"cell{i}" for i in idx]
    rna = ad.AnnData(R[idx].astype(np.float32), obs=pd.DataFrame(index=names))
    prot = ad.AnnData(P[idx].astype(np.float32), obs=pd.DataFrame(index=names))
    prot.var_names = list(prot_names)
    m = md.MuData({"rna": rna, "prot": prot})
    m.obs["cell_type"] = lab[idx]
    return m


def run_subset(seeds, methods=None):
    import omixgan as og

    rows = []
    for seed in seeds:
        R, P, lab, prot_names, tr, te = cite_subset(seed)
        truth = np.log1p(P[te])
        for method in methods or SUBSET:
            t0 = time.time()
            if method == "class mean":
                pred = translate_class_mean(P, lab, tr, te)
            elif method == "kNN":
                pred = translate_knn(R, P, tr, te)
            else:
                train = _subset_mudata(R, P, lab, prot_names, tr)
                og.models.CountVAE.setup_mudata(train, modalities=["rna", "prot"])
                model = og.models.CountVAE(
                    train, boosted_trees=method != "omixgan, boosted_trees=False"
                )
                max_epochs = 2 if method == "omixgan, 2 epochs" else None
                model.train(max_epochs=max_epochs, seed=seed, progress_bar=False)
                pred = np.log1p(model.translate(_subset_mudata(R, P, lab, prot_names, te)["rna"]))
            r = float(np.mean(per_feature_pearson(truth, pred)))
            rows.append(
                {
                    "method": method,
                    "seed": seed,
                    "pearson_mean": r,
                    "cells": len(lab),
                    "seconds": time.time() - t0,
                    "load_avg": _load(),
                }
            )
            print(f"subset seed={seed} {method}: r={r:.4f}", flush=True)
            _save(RESULTS / "singlecell_subset.csv", rows)


# every method, in the page's order (one list for both)
TRANSLATION, GENERATION = list(TRANSLATION_ORDER), list(GENERATION_ORDER)
RARE_METHODS = ["none", "SMOTE", "omixgan", "omixgan count Gaussian"]
SUBSET = ["class mean", "kNN", "omixgan", "omixgan, boosted_trees=False", "omixgan, 2 epochs"]


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("part", choices=["translation", "generation", "rare", "subset", "page"])
    p.add_argument("--methods", nargs="*")
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument(
        "--no-rare",
        action="store_true",
        help="translation: do not rerun the rare-type rows with the omixgan model (kept as is)",
    )
    a = p.parse_args(argv)
    if a.part == "translation":
        run_translation(a.methods or TRANSLATION, a.seeds, rare=not a.no_rare)
    elif a.part == "generation":
        run_generation(a.methods or GENERATION, a.seeds)
    elif a.part == "rare":
        run_rare(a.methods or RARE_METHODS, a.seeds)
    elif a.part == "subset":
        run_subset(a.seeds, a.methods)
    else:
        from sc_page import write_page

        write_page(RESULTS, PAGE)


if __name__ == "__main__":
    main()
