"""Multi-omics generation: MultiOmicsGAN against per-modality GANs and baselines, held-out samples.

Run from the repository root::

    .venv/bin/python benchmarks/multiomics.py              # train, score, write CSV and page
    .venv/bin/python benchmarks/multiomics.py --page-only  # rewrite the page from the CSV

Writes ``benchmarks/results/multiomics.csv`` and ``docs/benchmarks_multiomics.md``. Generators:
``MultiOmicsGAN`` (all modalities jointly, class-conditional); one ``OmicsGAN`` per modality
trained independently (per class), whose samples are paired by class only; SMOTE on the
modalities side by side; the baselines that ``evaluate_multiomics_generation`` adds. Not yet
here: CTGAN / TVAE (the ``ctgan`` package), see the docs page.
"""

from __future__ import annotations

import datetime
import platform
import time
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

import omixgan as og

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "benchmarks_multiomics.md"
SEED = 0


def _split(mdata, labels_key):
    names = mdata.obs_names
    for mod in mdata.mod:
        names = names[names.isin(mdata[mod].obs_names)]
    labels = mdata.obs.loc[names, labels_key].astype(str)
    train, test = train_test_split(np.asarray(names), test_size=0.5, stratify=labels, random_state=SEED)
    return mdata[train].copy(), mdata[test].copy()


def _smote_joint(train, labels_key, counts, modalities):
    """SMOTE on the modalities side by side (each standardised), split back per modality."""
    blocks = [train[m].X for m in modalities]
    mean = [b.mean(axis=0) for b in blocks]
    sd = [np.where(b.std(axis=0) > 0, b.std(axis=0), 1.0) for b in blocks]
    joint = ad.AnnData(np.hstack([(b - m) / s for b, m, s in zip(blocks, mean, sd)]).astype(np.float32))
    joint.obs[labels_key] = train.obs[labels_key].astype(str).to_numpy()
    new = og.tl.smote(joint, labels_key=labels_key, n_per_class=counts, random_state=SEED)
    mods, start = {}, 0
    for m, mu, s in zip(modalities, mean, sd):
        width = len(mu)
        mods[m] = ad.AnnData(new.X[:, start : start + width] * s + mu, obs=new.obs.copy(), var=train[m].var[[]].copy())
        start += width
    out = og.io._course.make_mudata(mods)
    out.obs = new.obs.copy()
    return out


def _independent_gans(train, labels_key, counts, modalities, seconds):
    """One per-class OmicsGAN per modality; samples of the same class are paired at random."""
    mods = {}
    for m in modalities:
        adata = train[m].copy()
        adata.obs[labels_key] = train.obs.loc[adata.obs_names, labels_key].astype(str).to_numpy()
        og.models.OmicsGAN.setup_anndata(adata, labels_key=labels_key)
        per_class = bool(adata.obs[labels_key].value_counts().min() >= 10)
        gan = og.models.OmicsGAN(adata, per_class=per_class)
        start = time.perf_counter()
        gan.train(seed=SEED, progress_bar=False)
        seconds[m] = time.perf_counter() - start
        mods[m] = gan.sample(counts, seed=SEED)
    out = og.io._course.make_mudata(mods)
    out.obs = mods[modalities[0]].obs.copy()
    return out


def run(name: str, mdata, labels_key: str) -> pd.DataFrame:
    modalities = list(mdata.mod)
    train, held_out = _split(mdata, labels_key)
    counts = held_out.obs[labels_key].astype(str).value_counts().to_dict()
    print(f"\n== {name}: {train.n_obs} train / {held_out.n_obs} held-out samples, modalities {modalities}")
    og.models.MultiOmicsGAN.setup_mudata(train, modalities=modalities, labels_key=labels_key)
    gan = og.models.MultiOmicsGAN(train)
    start = time.perf_counter()
    gan.train(seed=SEED, progress_bar=False)
    joint_seconds = time.perf_counter() - start
    per_modality_seconds = {}
    synthetic = {
        "MultiOmicsGAN": gan.sample(counts, seed=SEED),
        "OmicsGAN per modality (independent)": _independent_gans(train, labels_key, counts, modalities, per_modality_seconds),
        "SMOTE (modalities side by side)": _smote_joint(train, labels_key, counts, modalities),
    }
    table = og.tl.evaluate_multiomics_generation(train, synthetic, reference=held_out, labels_key=labels_key, random_state=SEED)
    table["train_seconds"] = np.nan
    table.loc["MultiOmicsGAN", "train_seconds"] = joint_seconds
    table.loc["OmicsGAN per modality (independent)", "train_seconds"] = sum(per_modality_seconds.values())
    table.insert(0, "setting", name)
    print(table.round(3).to_string())
    return table


def page(results: pd.DataFrame) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        "# Multi-omics generation benchmarks",
        "",
        "Can one model generate all modalities of a sample so that each looks real *and* they fit",
        "together? All numbers come from `benchmarks/results/multiomics.csv`, written with this page by",
        "`benchmarks/multiomics.py`.",
        "",
        "## How it was measured",
        "",
        "- **Split**: the samples with every modality are split 50 / 50, stratified by class,",
        "  `random_state=0`; generators see the train half only and generate as many samples per class",
        "  as the held-out half has.",
        "- **Generators**: `MultiOmicsGAN` (default settings: one class-conditional WGAN-GP over all",
        "  modalities, 1200 steps); one per-class `OmicsGAN` per modality trained independently (samples",
        "  of a class paired at random: they share only the class); SMOTE on the standardised modalities",
        "  side by side. `evaluate_multiomics_generation` adds the held-out control, independent",
        "  class-conditional Gaussians per modality and copies of training samples.",
        "- **Scores** (`og.tl.evaluate_multiomics_generation`): per modality and for all modalities side",
        "  by side, the random-forest two-sample AUC (0.5 ideal) and the DCR ratio (about 1 ideal, well",
        "  below 1 = copying); `cross_correlation_distance`: RMS difference between the real and",
        "  synthetic correlations *between* modalities (0 ideal).",
        f"- **Machine**: 2-core CPU, no GPU, torch {torch.__version__}, one torch thread, Python",
        f"  {platform.python_version()}; {today}. Seconds are wall-clock and indicative only.",
        "- **Not here yet**: CTGAN and TVAE from the `ctgan` package, and the course 5000 data (time).",
        "",
    ]
    cols_main = [c for c in results.columns if c.endswith("two_sample_auc") or c.endswith("dcr_ratio")]
    for setting, part in results.groupby("setting", sort=False):
        lines += [f"## {setting}", ""]
        show = part.drop(columns="setting")[[*cols_main, "cross_correlation_distance", "train_seconds"]]
        lines += [show.round(3).to_markdown(), ""]
    lines += [
        "## Reading",
        "",
        "On the course data the modalities are coupled only through the class (InterSIM), so",
        "independent per-modality generators lose nothing there and the independent class Gaussians",
        "are the true model: the `cross_correlation_distance` column shows whether a generator keeps the",
        "between-modality structure that the class induces. On TCGA-BRCA the modalities are linked",
        "sample by sample, which independent generators cannot reproduce.",
        "",
    ]
    for setting, part in results.groupby("setting", sort=False):
        r = part.set_index(part.index)
        joint = "MultiOmicsGAN", "OmicsGAN per modality (independent)"
        lines.append(
            f"- **{setting}**: joint two-sample AUC MultiOmicsGAN {r.loc[joint[0], 'joint_two_sample_auc']:.3f}, "
            f"independent per-modality GANs {r.loc[joint[1], 'joint_two_sample_auc']:.3f}, SMOTE "
            f"{r.loc['SMOTE (modalities side by side)', 'joint_two_sample_auc']:.3f}, class Gaussians "
            f"{r.loc['class Gaussian per modality', 'joint_two_sample_auc']:.3f} (control "
            f"{r.loc['held-out real (control)', 'joint_two_sample_auc']:.3f}); cross-correlation distance "
            f"{r.loc[joint[0], 'cross_correlation_distance']:.3f} vs {r.loc[joint[1], 'cross_correlation_distance']:.3f} "
            f"(control {r.loc['held-out real (control)', 'cross_correlation_distance']:.3f}); training "
            f"{r.loc[joint[0], 'train_seconds']:.0f} s vs {r.loc[joint[1], 'train_seconds']:.0f} s."
        )
    lines += [
        "",
        "In this first measurement the joint model is cheaper (one model instead of one per class and",
        "modality) but not better: per modality and jointly it is at or behind the independent GANs, and",
        "on the course data both stay behind the true model (independent class Gaussians). On the 75",
        "TCGA training samples both GANs' per-modality DCR ratios lie between 0.8 and 0.85 (partial",
        "copying; see the table), and the control's own cross-correlation distance shows how noisy",
        "that score is at this size.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    import sys

    if "--page-only" in sys.argv:  # rewrite the page from the CSV, no training
        PAGE.write_text(page(pd.read_csv(RESULTS / "multiomics.csv", index_col=0)))
        return
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    tcga = og.datasets.tcga_brca()
    tcga = tcga[tcga.obs["split"] == "train"].copy()
    results = pd.concat(
        [
            run("course 2000 (mrna, meth, prot)", og.datasets.course(2000), "cluster"),
            run("TCGA-BRCA (mrna, mirna, prot; 150 samples)", tcga, "subtype"),
        ]
    )
    results.to_csv(RESULTS / "multiomics.csv")
    PAGE.write_text(page(results))
    print(f"wrote {RESULTS / 'multiomics.csv'} and {PAGE}")


if __name__ == "__main__":
    main()
