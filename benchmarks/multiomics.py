"""Multi-omics generation: MultiOmicsGAN against SMOTE and the baselines, on held-out samples.

Run from the repository root::

    .venv/bin/python benchmarks/multiomics.py                 # every data set, seeds 0, 1, 2
    .venv/bin/python benchmarks/multiomics.py --settings tcga2012 --seeds 0 --part tcga2012
    .venv/bin/python benchmarks/multiomics.py --page-only     # rewrite the page from the CSVs

Generators: ``MultiOmicsGAN`` with every default (all modalities jointly, class-conditional),
SMOTE on the standardised modalities side by side, and the baselines that
``og.tl.evaluate_multiomics_generation`` adds (held-out control, class Gaussians and Gaussian
copulas per modality, copy of train; with the translator-consistency columns). Data: course 2000
(mrna, meth, prot) and TCGA-BRCA 2012 (mrna, meth, prot; the 343 tumours with a PAM50 call).
The split is fixed (held-out half, stratified, random_state=0); the seed is that of the
generators, the baselines and the random forest of the two-sample test, as in
``benchmarks/generation.py``. Writes ``benchmarks/results/multiomics.csv`` (or
``multiomics_<part>.csv`` with ``--part``; one row per setting, seed and generator, saved after
every seed) and ``docs/benchmarks_multiomics.md`` from every such CSV.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

import omixgan as og
from omixgan._utils import make_mudata

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CSV = RESULTS / "multiomics.csv"
PAGE = ROOT / "docs" / "benchmarks_multiomics.md"
SPLIT_STATE = 0
SEEDS = (0, 1, 2)
GAN = "MultiOmicsGAN"
SMOTE = "SMOTE (modalities side by side)"
CONTROL = "held-out real (control)"
GAUSSIAN = "class Gaussian per modality"
COPULA = "Gaussian copula per modality"
ORDER = [CONTROL, GAN, GAUSSIAN, COPULA, SMOTE, "copy of train"]


def _split(mdata, labels_key):
    names = mdata.obs_names
    for mod in mdata.mod:
        names = names[names.isin(mdata[mod].obs_names)]
    labels = mdata.obs.loc[names, labels_key].astype(str)
    train, test = train_test_split(
        np.asarray(names), test_size=0.5, stratify=labels, random_state=SPLIT_STATE
    )
    return mdata[train].copy(), mdata[test].copy()


def _smote_joint(train, labels_key, counts, modalities, seed):
    """SMOTE on the modalities side by side (each standardised), split back per modality."""
    blocks = [train[m].X for m in modalities]
    mean = [b.mean(axis=0) for b in blocks]
    sd = [np.where(b.std(axis=0) > 0, b.std(axis=0), 1.0) for b in blocks]
    joint = ad.AnnData(
        np.hstack([(b - m) / s for b, m, s in zip(blocks, mean, sd)]).astype(np.float32)
    )
    joint.obs[labels_key] = train.obs[labels_key].astype(str).to_numpy()
    k = min(5, int(pd.Series(joint.obs[labels_key]).value_counts().min()) - 1)  # TCGA's Normal: 4
    new = og.tl.smote(
        joint, labels_key=labels_key, n_per_class=counts, k_neighbors=k, random_state=seed
    )
    mods, start = {}, 0
    for m, mu, s in zip(modalities, mean, sd):
        width = len(mu)
        mods[m] = ad.AnnData(
            new.X[:, start : start + width] * s + mu,
            obs=new.obs.copy(),
            var=train[m].var[[]].copy(),
        )
        start += width
    out = make_mudata(mods)
    out.obs = new.obs.copy()
    return out


def run_seed(name: str, train, held_out, labels_key: str, seed: int) -> pd.DataFrame:
    """Train MultiOmicsGAN and SMOTE on the train half and score them (with the baselines)."""
    modalities = list(train.mod)
    counts = held_out.obs[labels_key].astype(str).value_counts().to_dict()
    og.models.MultiOmicsGAN.setup_mudata(train, modalities=modalities, labels_key=labels_key)
    gan = og.models.MultiOmicsGAN(train)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    gan.train(seed=seed, progress_bar=False)
    seconds = {GAN: time.perf_counter() - start}
    h = gan.history
    kept = "start" if h is None or not h.loc[h["kept"], "step"].gt(0).any() else "residual"
    chose = (
        f"{gan.marginals_} start, {'per class' if gan.per_class else 'conditional'}, {kept} kept"
    )
    synthetic = {GAN: gan.sample(counts, seed=seed)}
    start = time.perf_counter()
    synthetic[SMOTE] = _smote_joint(train, labels_key, counts, modalities, seed)
    seconds[SMOTE] = time.perf_counter() - start
    start = time.perf_counter()
    table = og.tl.evaluate_multiomics_generation(
        train, synthetic, reference=held_out, labels_key=labels_key, random_state=seed
    )
    print(
        f"   seed {seed}: MultiOmicsGAN train() {seconds[GAN]:.0f} s (load {load:.1f}); {chose}; "
        f"scoring {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    table["train_seconds"] = pd.Series(seconds)
    table["load"] = pd.Series({GAN: load})
    table["chose"] = pd.Series({GAN: chose})
    table.index.name = "generator"
    table = table.reset_index()
    table.insert(1, "setting", name)
    table.insert(2, "seed", seed)
    print(
        table.set_index("generator")[["joint_two_sample_auc", "joint_dcr_ratio"]]
        .round(3)
        .to_string(),
        flush=True,
    )
    return table


#: key -> (page title, labels key)
SETTINGS = {
    "course2000": ("course 2000 (mrna, meth, prot)", "cluster"),
    "tcga2012": ("TCGA-BRCA 2012 (mrna, meth, prot; 343 labelled)", "pam50"),
    # a smaller cohort of other preprocessing; it showed the start choice failing there, and the
    # copula margin of marginals="auto" was then set with it in view (not an independent check)
    "tcga_brca": ("TCGA-BRCA mixOmics (mrna, mirna, prot; 150 with protein)", "subtype"),
}


def _load(key: str):
    if key == "tcga2012":  # the 343 tumours with a PAM50 call; mirna left out (the setting)
        b = og.datasets.tcga_brca_2012()
        b = b[b.obs["pam50"].notna().to_numpy()].copy()
        b.obs["pam50"] = b.obs["pam50"].astype(str)
        out = md.MuData({m: b.mod[m] for m in b.mod if m != "mirna"})
        out.obs = b.obs.loc[out.obs_names].copy()
        return out
    if key == "tcga_brca":  # the 150 samples with protein (the split keeps those with all three)
        return og.datasets.tcga_brca()
    return og.datasets.course(int(key.removeprefix("course")))


def run(keys: list[str], seeds: tuple[int, ...], csv: Path, commit: str) -> None:
    old = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    new = []
    for key in keys:
        name, labels_key = SETTINGS[key]
        train, held_out = _split(_load(key), labels_key)
        print(
            f"\n== {name}: {train.n_obs} train / {held_out.n_obs} held-out samples, "
            f"modalities {list(train.mod)}",
            flush=True,
        )
        for seed in seeds:
            table = run_seed(name, train.copy(), held_out, labels_key, seed)
            table["commit"] = commit
            new.append(table)
            done = pd.concat(new, ignore_index=True)
            replaced = (
                old.set_index(["setting", "seed"]).index.isin(
                    done.set_index(["setting", "seed"]).index
                )
                if len(old)
                else []
            )
            keep = old[~replaced] if len(old) else old
            pd.concat([keep, done], ignore_index=True).to_csv(csv, index=False)  # every seed


# --- the page -----------------------------------------------------------------------------------
def _ms(values: pd.Series, digits: int = 3) -> str:
    v = values.dropna()
    if not len(v):
        return "–"
    if len(v) == 1:  # one seed: no spread to show
        return f"{v.mean():.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=0):.{digits}f}"


def _rows(r: pd.DataFrame) -> list[str]:
    present = set(r["generator"])
    return [g for g in ORDER if g in present] + sorted(present - set(ORDER))


def _label(r: pd.DataFrame, gen: str) -> str:
    """The generator's name, marked when it was measured on fewer seeds than its setting."""
    seeds = sorted(r.loc[r["generator"] == gen, "seed"].unique())
    if len(seeds) < r["seed"].nunique():
        return f"{gen} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} only)"
    return gen


def _joint_table(r: pd.DataFrame) -> str:
    out = {}
    for gen in _rows(r):
        g = r[r["generator"] == gen]
        out[_label(r, gen)] = {
            "joint AUC": _ms(g["joint_two_sample_auc"]),
            "joint DCR": _ms(g["joint_dcr_ratio"], 2),
            "cross-corr. distance": _ms(g["cross_correlation_distance"]),
            "translator consistency": _ms(g["translator_consistency"], 2),
            "train s": f"{g['train_seconds'].mean():.0f}"
            if g["train_seconds"].notna().any()
            else "–",
            "n_seeds": g["seed"].nunique(),
        }
    return pd.DataFrame(out).T.to_markdown()


def _modality_table(r: pd.DataFrame) -> str:
    mods = [c.removesuffix("_two_sample_auc") for c in r.columns if c.endswith("_two_sample_auc")]
    mods = [m for m in mods if m != "joint" and r[f"{m}_two_sample_auc"].notna().any()]
    out = {}
    for gen in _rows(r):
        g = r[r["generator"] == gen]
        out[_label(r, gen)] = {
            **{f"{m} AUC": _ms(g[f"{m}_two_sample_auc"]) for m in mods},
            **{f"{m} DCR": f"{g[f'{m}_dcr_ratio'].mean():.2f}" for m in mods},
        }
    return pd.DataFrame(out).T.to_markdown()


def _means(r: pd.DataFrame) -> pd.DataFrame:
    cols = ["joint_two_sample_auc", "joint_dcr_ratio", "translator_consistency"]
    mean = r.groupby("generator")[cols].mean()
    sd = r.groupby("generator")[cols].std(ddof=0).add_suffix("_sd")
    return mean.join(sd)


def _target(name: str, m: pd.DataFrame) -> tuple[str, float]:
    if name.startswith("course"):
        bar = m.loc[GAUSSIAN, "joint_two_sample_auc"] + 0.03
        return f"AUC <= class Gaussians per modality + 0.03 = {bar:.3f}", bar
    best = m.loc[[GAUSSIAN, COPULA, SMOTE], "joint_two_sample_auc"]
    bar = best.min() - 0.03
    return (
        f"AUC <= best of Gaussians / copulas / SMOTE ({best.idxmin()}, {best.min():.3f}) - 0.03 "
        f"= {bar:.3f}",
        bar,
    )


def _targets(results: pd.DataFrame) -> list[str]:
    lines = []
    for name, r in results.groupby("setting", sort=False):
        m = _means(r)
        text, bar = _target(name, m)
        auc, dcr = m.loc[GAN, "joint_two_sample_auc"], m.loc[GAN, "joint_dcr_ratio"]
        n = r.loc[r["generator"] == GAN, "seed"].nunique()
        verdict = ("met" if auc <= bar and dcr >= 0.95 else "missed") + (
            "" if n > 1 else " (one seed)"
        )
        if name == SETTINGS["tcga_brca"][0]:  # see the Data bullet
            verdict += " (post hoc: the copula margin was set on this cohort)"
        lines.append(
            f"| {name} | {_ms(r.loc[r['generator'] == GAN, 'joint_two_sample_auc'])} | "
            f"{dcr:.2f} | {n} | {text}, DCR >= 0.95 | {verdict} |"
        )
    return lines


def _reading(name: str, r: pd.DataFrame) -> str:
    """What the numbers of one setting say, computed from them (no number typed by hand)."""
    m = _means(r)
    gens = [g for g in _rows(r) if g not in (CONTROL, "copy of train")]
    best = m.loc[gens, "joint_two_sample_auc"].idxmin()
    others = [g for g in (GAUSSIAN, COPULA, SMOTE) if g in m.index]
    rival = m.loc[others, "joint_two_sample_auc"].idxmin()
    gap = m.loc[GAN, "joint_two_sample_auc"] - m.loc[rival, "joint_two_sample_auc"]
    spread = max(m.loc[GAN, "joint_two_sample_auc_sd"], m.loc[rival, "joint_two_sample_auc_sd"])
    if r["seed"].nunique() < 2:
        versus = f"{gap:+.3f} from {rival}, the best baseline (one seed: no spread to judge a tie)"
    elif abs(gap) <= spread:
        versus = f"a tie with {rival} (difference {gap:+.3f}, within the spread {spread:.3f})"
    else:
        versus = f"{'below' if gap < 0 else 'above'} {rival}, the best baseline, by {abs(gap):.3f}"
    copying = [g for g in gens if m.loc[g, "joint_dcr_ratio"] < 0.5]
    tc = m["translator_consistency"]

    def coupling(g):
        v = tc[g]
        word = (
            "about real"
            if abs(v - 1) <= 0.15
            else ("stronger than real" if v > 1 else "weaker than real")
        )
        return f"{g} {v:.2f} ({word})"

    lines = [
        f"- **{name}**: lowest joint AUC {best} ({m.loc[best, 'joint_two_sample_auc']:.3f}; "
        f"control {m.loc[CONTROL, 'joint_two_sample_auc']:.3f}). MultiOmicsGAN "
        f"{m.loc[GAN, 'joint_two_sample_auc']:.3f} is {versus}.",
    ]
    if copying:
        lines.append(
            "  Near-copies (joint DCR below 0.5): "
            + ", ".join(f"{g} {m.loc[g, 'joint_dcr_ratio']:.2f}" for g in copying)
            + "."
        )
    lines.append(
        "  Translator consistency (1 = modalities as predictable from mRNA as in real samples): "
        + ", ".join(coupling(g) for g in gens if g in tc.index)
        + f"; a copy of train scores {tc.get('copy of train', float('nan')):.2f}."
    )
    return "\n".join(lines)


def page(results: pd.DataFrame) -> str:
    today = datetime.date.today().isoformat()
    commits = ", ".join(f"`{c}`" for c in sorted(results["commit"].dropna().astype(str).unique()))
    gan = results[results["generator"] == GAN]
    lines = [
        "# Multi-omics generation benchmarks",
        "",
        "Can one model generate all modalities of a sample so that each looks real *and* they fit",
        "together? All numbers come from `benchmarks/results/multiomics*.csv`, written with this page",
        "by `benchmarks/multiomics.py`.",
        "",
        "## How it was measured",
        "",
        "- **Data**: course 2000 (InterSIM; mrna, meth, prot; modalities coupled only through the",
        "  class) and TCGA-BRCA 2012 (real tumours; mrna, meth, prot, the 343 with a PAM50 call;",
        "  modalities coupled sample by sample). TCGA-BRCA mixOmics: `og.datasets.tcga_brca()`",
        "  (breast.TCGA: other preprocessing, 3 subtypes, the 150 tumours with protein, so 75 to",
        "  train on), added to see the defaults on a cohort they were not chosen on; it showed the",
        "  start choice failing, and the 1 % copula margin was then set with it in view, so its",
        "  verdict below is not an independent check.",
        "- **Split**: the samples with every modality are split 50 / 50, stratified by class,",
        "  `random_state=0`, the same split for every seed; generators see the train half only and",
        "  generate as many samples per class as the held-out half has.",
        f"- **Seeds**: {', '.join(map(str, sorted(results['seed'].unique())))}: the seed of the",
        "  generators, the baselines and the random forest of the two-sample test. Cells are mean ±",
        "  standard deviation over the seeds (`n_seeds`); a difference smaller than the spread is a tie.",
        "- **Generators**: `MultiOmicsGAN(train)` and `train(seed=seed)` with every default (a joint",
        "  shrinkage-Gaussian or Gaussian-copula start over all modalities, its between-modality",
        "  correlations shrunk by each pair of modalities' own Ledoit-Wolf intensity, a residual trained",
        "  adversarially from zero, the start kept unless a snapshot beats it on validation samples);",
        "  SMOTE on the standardised modalities side by side (k = 5, k = 3 on TCGA-BRCA 2012 whose",
        "  Normal class has 4 training samples). `evaluate_multiomics_generation` adds the held-out",
        "  control, class-conditional Gaussians per modality (Ledoit-Wolf; logit space for beta",
        "  values), Gaussian copulas per modality (empirical marginals) and copies of training samples.",
        "  CTGAN and TVAE were not run on the modalities jointly (1390 columns on TCGA-BRCA 2012); see",
        "  [the generation benchmarks](benchmarks_generation.md) for them on mRNA and methylation alone.",
        "- **Scores** (`og.tl.evaluate_multiomics_generation`): per modality and for all modalities side",
        "  by side, the random-forest two-sample AUC (300 trees, 5 folds; 0.5 ideal) and the DCR ratio",
        "  (about 1 ideal, well below 1 = copying); `cross-corr. distance`: RMS difference between the",
        "  real and synthetic correlations *between* modalities (0 ideal); **translator consistency**: a",
        "  ridge regression fitted on the real training samples predicts every other modality from",
        "  mRNA; its mean per-feature Pearson r on the generator's samples divided by the same on the",
        "  held-out real samples (1 = the modalities fit together as in real samples; well below 1 =",
        "  the coupling is lost; above 1 = more predictable than real, as copies are: the translator",
        "  learnt the training samples' between-modality correlations, chance ones included, and a",
        "  generator that reproduces them, e.g. through a joint covariance estimated on the training",
        "  half, scores above the held-out real samples even where its DCR says it does not copy).",
        f"- **Machine**: 2-core CPU shared with other jobs, no GPU, torch {torch.__version__}, one torch",
        f"  thread, Python {platform.python_version()}; page written {today}; omixgan at commit(s)",
        f"  {commits}. MultiOmicsGAN `train()` took {gan['train_seconds'].min():.0f}–"
        f"{gan['train_seconds'].max():.0f} s while the 1-minute load average was "
        f"{gan['load'].min():.1f}–{gan['load'].max():.1f}: upper bounds, not quiet-machine timings.",
        "",
        "## Targets (issue 11)",
        "",
        "| setting | MultiOmicsGAN joint AUC | DCR | seeds | target | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        *_targets(results),
        "",
    ]
    for name, r in results.groupby("setting", sort=False):
        chose = "; ".join(sorted(set(r.loc[r["generator"] == GAN, "chose"].dropna())))
        lines += [
            f"## {name}",
            "",
            f"What MultiOmicsGAN's training chose: {chose or '–'}.",
            "",
            "All modalities jointly, their coupling and the cost:",
            "",
            _joint_table(r),
            "",
            "Per modality (AUC mean ± sd; DCR mean):",
            "",
            _modality_table(r),
            "",
        ]
    lines += ["## Reading", ""]
    lines += [_reading(name, r) for name, r in results.groupby("setting", sort=False)]
    lines += [
        "- **Before the per-pair shrinkage** (one Ledoit-Wolf intensity for the whole joint",
        "  correlation, commits `db35e94` and `f51c8d8`, same split and seeds): joint AUC 0.622 ± 0.006 and",
        "  translator consistency 1.49 on course 2000, 0.852 ± 0.017 and 1.33 on TCGA-BRCA 2012. The",
        "  start reproduced the training half's chance between-modality correlations; shrinking each",
        "  pair by its own intensity removes them where the modalities are coupled only through the",
        "  class (course data) and keeps most of the real coupling of tumours.",
        "- **Untuned cohort, start choice**: on `tcga_brca()` the validation distance put the",
        "  copula start 0.1-0.5 % ahead of the Gaussian (in 98-100 % of bootstrap resamples of the",
        '  validation samples), and `marginals="auto"` used to take it: joint AUC 0.845, 0.835,',
        '  0.871 (seeds 0, 1, 2; runs with `marginals="empirical"`, not in the CSV) against',
        "  0.746, 0.774, 0.771 with the Gaussian start. `auto` now takes the copula only when it is",
        "  at least 1 % closer (TCGA-BRCA 2012: 2.7-4.3 %), so it chooses the Gaussian here and as",
        "  before on the other sets. Its translator consistency (1.31) shows the joint start still",
        "  over-couples the modalities on 75 samples.",
    ]
    return "\n".join(lines) + "\n"


def load_results() -> pd.DataFrame:
    """Every multiomics CSV (the main one and the parts), a later part replacing a row it repeats."""
    parts = [CSV] + sorted(RESULTS.glob("multiomics_*.csv"))
    results = pd.concat([pd.read_csv(p) for p in parts if p.exists()], ignore_index=True)
    return results.drop_duplicates(["setting", "seed", "generator"], keep="last")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--page-only", action="store_true")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument(
        "--part",
        default="",
        help="write multiomics_<part>.csv (runs in parallel); the page reads all",
    )
    args = parser.parse_args()
    if not args.page_only:
        warnings.filterwarnings("ignore")
        torch.set_num_threads(1)
        RESULTS.mkdir(parents=True, exist_ok=True)
        print(f"omixgan from {og.__file__}", flush=True)
        git = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
        # OMIXGAN_COMMIT: the commit of the omixgan imported, when it is not this checkout's HEAD
        commit = (
            os.environ.get("OMIXGAN_COMMIT")
            or subprocess.run(git, check=False, capture_output=True, text=True).stdout.strip()
        )
        csv = CSV.with_name(f"multiomics_{args.part}.csv") if args.part else CSV
        run(args.settings, tuple(args.seeds), csv, commit)
    PAGE.write_text(page(load_results()))
    print(f"wrote {PAGE}", file=sys.stderr)


if __name__ == "__main__":
    main()
