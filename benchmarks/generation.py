"""Generation benchmarks: OmicsGAN against SMOTE and the baselines on held-out real samples.

Run from the repository root::

    .venv/bin/python benchmarks/generation.py               # every setting, 3 seeds
    .venv/bin/python benchmarks/generation.py --settings "TCGA-2012 mRNA" --seeds 0
    .venv/bin/python benchmarks/generation.py --page-only   # rewrite the page from the CSV
    .venv/bin/python benchmarks/generation.py --sdv --settings "TCGA-2012 mRNA" --seeds 0 --part sdv_tcga_mrna

Uses only omixgan's public API (``og.datasets``, ``og.models.OmicsGAN``, ``og.tl.smote``,
``og.tl.evaluate_generation``, whose baseline rows are the held-out control, the class Gaussian,
the Gaussian copula and a copy of the training samples) plus scikit-learn for the split. The
split is fixed (held-out half, stratified, random_state=0); the seed is that of the generators,
the baselines and the random forest of the two-sample test, so the spread over seeds is the
spread a user sees from run to run. Writes ``benchmarks/results/generation.csv`` (one row per
setting, seed and generator: every metric of ``evaluate_generation``, the GAN's training wall
seconds, the load average and what training chose) and ``docs/benchmarks_generation.md``.

``--sdv`` trains CTGAN and TVAE (the ``ctgan`` package, ``pip install "omixgan[benchmarks]"``)
instead, scored by the same ``evaluate_generation`` call on the same halves (without its baseline
rows, which the main run already has). They are slow (a Bayesian Gaussian mixture per column),
so they run separately and write their own part CSV (``--part``); the page merges every part
and marks rows measured on fewer seeds than the rest of their setting.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import sys
import time
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

import omixgan as og

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "benchmarks" / "results" / "generation.csv"
PAGE = ROOT / "docs" / "benchmarks_generation.md"
SPLIT_STATE = 0
SEEDS = (0, 1, 2)
GAN = "OmicsGAN (default)"
SDV = ("CTGAN", "TVAE")
ORDER = [
    "held-out real (control)",
    GAN,
    "class Gaussian",
    "Gaussian copula",
    "SMOTE",
    *SDV,
    "copy of train",
]
METRICS = [
    "two_sample_auc",
    "dcr_ratio",
    "mean_difference",
    "log_variance_ratio",
    "correlation_distance",
    "mmd",
    "tstr_accuracy",
    "tstr_macro_f1",
]
SETTINGS = [
    "course 2000 mRNA",
    "course 2000 meth",
    "course 2000 prot",
    "TCGA-2012 mRNA",
    "TCGA-2012 meth",
    # not used to tune anything: the defaults on a cohort of other preprocessing and size
    "TCGA-BRCA mixOmics mRNA",
    "TCGA-BRCA mixOmics miRNA",
]


def modality(mdata, name: str, labels_key: str) -> ad.AnnData:
    labels = mdata.obs[labels_key]
    names = mdata.obs_names[labels.notna().to_numpy()]
    adata = mdata.mod[name][names].copy()
    adata.obs = pd.DataFrame(
        {labels_key: pd.Categorical(labels.loc[names].astype(str).to_numpy())}, index=names
    )
    return adata


def split(adata: ad.AnnData, labels_key: str) -> tuple[ad.AnnData, ad.AnnData]:
    train_idx, test_idx = train_test_split(
        np.arange(adata.n_obs),
        test_size=0.5,
        stratify=adata.obs[labels_key].to_numpy(),
        random_state=SPLIT_STATE,
    )
    return adata[np.sort(train_idx)].copy(), adata[np.sort(test_idx)].copy()


def data(setting: str) -> tuple[ad.AnnData, str]:
    source, mod = setting.rsplit(" ", 1)
    mod = {"mRNA": "mrna", "miRNA": "mirna", "meth": "meth", "prot": "prot"}[mod]
    if source == "course 2000":
        return modality(og.datasets.course(2000), mod, "cluster"), "cluster"
    if source == "TCGA-BRCA mixOmics":  # 220 tumours with mRNA and miRNA, 3 subtypes
        return modality(og.datasets.tcga_brca(), mod, "subtype"), "subtype"
    return modality(og.datasets.tcga_brca_2012(), mod, "pam50"), "pam50"


def gan_and_smote(
    train: ad.AnnData, labels_key: str, counts: dict[str, int], smallest: int, seed: int
) -> tuple[dict[str, ad.AnnData], dict[str, float], dict[str, str]]:
    """OmicsGAN with every default, and SMOTE; samples, training seconds, what training chose."""
    og.models.OmicsGAN.setup_anndata(train, labels_key=labels_key)
    gan = og.models.OmicsGAN(train)
    started = time.perf_counter()
    gan.train(seed=seed, progress_bar=False)
    seconds = time.perf_counter() - started
    h = gan.history
    kept = "start" if h is None or not h.loc[h["kept"], "step"].gt(0).any() else "residual"
    chose = (
        f"{gan.marginals_} start, {'per class' if gan.per_class else 'conditional'}, {kept} kept"
    )
    synthetic = {
        GAN: gan.sample(counts, seed=seed),
        # imbalanced-learn's default k=5 unless a class is smaller (TCGA's Normal: 4 or 5)
        "SMOTE": og.tl.smote(
            train,
            labels_key=labels_key,
            n_per_class=counts,
            k_neighbors=min(5, smallest - 1),
            random_state=seed,
        ),
    }
    return synthetic, {GAN: seconds}, {GAN: chose}


def sdv_generators(
    train: ad.AnnData,
    labels_key: str,
    counts: dict[str, int],
    seed: int,
    models: tuple[str, ...] = SDV,
) -> tuple[dict[str, ad.AnnData], dict[str, float], dict[str, str]]:
    """CTGAN and TVAE with ctgan's defaults (300 epochs, batch 500), the class a discrete column.

    One model each on the whole training half, features and label side by side, as a user of
    the package would train it. Methylation beta values go in as logits and come back through
    the inverse (as for the class Gaussian and OmicsGAN), so draws stay in (0, 1). Samples per
    class: CTGAN draws with ``condition_column``/``condition_value`` (its conditional vector);
    TVAE has no conditional sampling and draws unconditionally. Both then keep only the rows
    whose *generated* label is the class asked for (a conditioned CTGAN can still emit another
    label; relabelling those rows would flatter it), drawing again until the class is full or
    after 20 draws of 500 rows, when the shortfall is recorded. Returns samples, training
    seconds and a note per model (``models``: which of the two to train).
    """
    import ctgan
    from ctgan import CTGAN, TVAE

    X = np.asarray(train.X, dtype=np.float64)
    # the rule og.tl.class_gaussian uses: beta values declared by the reader, never the range alone
    beta = og.pp.resolve_data_type(X, og.pp.declared_data_type(train)) == "beta"
    logit = og.pp.Logit() if beta else None
    Z = logit.transform(X) if logit else X
    columns = [f"f{j}" for j in range(Z.shape[1])]
    df = pd.DataFrame(Z, columns=columns)
    df["label"] = train.obs[labels_key].astype(str).to_numpy()
    out, seconds, notes = {}, {}, {}
    for name in models:
        cls = {"CTGAN": CTGAN, "TVAE": TVAE}[name]
        model = cls(enable_gpu=False)
        model.set_random_state(seed)  # ctgan seeds numpy's and torch's global state in fit / sample
        started = time.perf_counter()
        model.fit(df, discrete_columns=["label"])
        seconds[name] = time.perf_counter() - started
        kept, drawn, short = {}, 0, {}
        for c, n in counts.items():
            rows = []
            for _ in range(20):
                draw = (
                    model.sample(500, condition_column="label", condition_value=c)
                    if name == "CTGAN"
                    else model.sample(500)
                )
                drawn += len(draw)
                rows.append(draw[draw["label"] == c])
                if sum(len(r) for r in rows) >= n:
                    break
            got = pd.concat(rows).iloc[:n]
            if len(got) < n:
                short[c] = n - len(got)
            kept[c] = got
        samples = pd.concat(kept.values())
        values = samples[columns].to_numpy(dtype=np.float64)
        values = logit.inverse(values) if logit else values
        obs = pd.DataFrame(
            {labels_key: pd.Categorical(samples["label"].to_numpy())},
            index=[f"{name}_{i}" for i in range(len(samples))],
        )
        out[name] = ad.AnnData(values.astype(np.float32), obs=obs, var=train.var[[]].copy())
        how = "conditioned on the class" if name == "CTGAN" else "unconditional"
        notes[name] = (
            f"ctgan {ctgan.__version__}, {how}, {sum(counts.values()) - sum(short.values())} of {drawn} draws kept"
            + (f"; short of {short}" if short else "")
            + (" (logit space)" if logit else "")
        )
    return out, seconds, notes


def run(
    settings: list[str],
    seeds: tuple[int, ...],
    csv: Path = CSV,
    sdv: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Score OmicsGAN and SMOTE with the baselines, or (``sdv``: model names) CTGAN / TVAE."""
    old = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    rows = []
    for setting in settings:
        adata, labels_key = data(setting)
        train, reference = split(adata, labels_key)
        counts = {str(k): int(v) for k, v in reference.obs[labels_key].value_counts().items()}
        smallest = int(train.obs[labels_key].value_counts().min())
        print(
            f"\n== {setting}: {adata.n_obs} samples x {adata.n_vars}; train {train.obs[labels_key].value_counts().to_dict()}",
            flush=True,
        )
        for seed in seeds:
            load = os.getloadavg()[0]
            if sdv:
                synthetic, seconds, chose = sdv_generators(train, labels_key, counts, seed, sdv)
            else:
                synthetic, seconds, chose = gan_and_smote(train, labels_key, counts, smallest, seed)
            # sdv: the baseline rows are the main run's (same halves, same seed); not twice
            table = og.tl.evaluate_generation(
                train,
                synthetic,
                reference=reference,
                labels_key=labels_key,
                baselines=not sdv,
                random_state=seed,
            )
            print(
                f"   seed {seed}: train() seconds { {k: round(v) for k, v in seconds.items()} } "
                f"(load {load:.1f}); {chose}\n"
                + table[["two_sample_auc", "dcr_ratio"]].round(3).to_string(),
                flush=True,
            )
            for generator, row in table.iterrows():
                rows.append(
                    {
                        "setting": setting,
                        "seed": seed,
                        "generator": generator,
                        **{k: float(row[k]) for k in METRICS},
                        "train_seconds": seconds.get(generator, np.nan),
                        "load": load if generator in seconds else np.nan,
                        "chose": chose.get(generator, ""),
                        "n_train": train.n_obs,
                        "n_features": train.n_vars,
                    }
                )
            new = pd.DataFrame(rows)
            keep = (
                old[
                    ~old.set_index(["setting", "seed"]).index.isin(
                        new.set_index(["setting", "seed"]).index
                    )
                ]
                if len(old)
                else old
            )
            pd.concat([keep, new], ignore_index=True).to_csv(csv, index=False)  # after every run
    return pd.read_csv(csv)


# --- the page -----------------------------------------------------------------------------------
def _ms(values: pd.Series, digits: int) -> str:
    if len(values) == 1:  # one seed: no spread to show
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=0):.{digits}f}"


def summary(results: pd.DataFrame, setting: str) -> pd.DataFrame:
    r = results[results["setting"] == setting]
    out = {}
    n_seeds = r["seed"].nunique()
    for gen in [g for g in ORDER if g in set(r["generator"])]:
        g = r[r["generator"] == gen]
        ran = sorted(g["seed"].unique())
        if len(ran) < n_seeds:  # e.g. CTGAN, too slow for every seed: no spread, not comparable
            gen = f"{gen} (seed{'s' if len(ran) > 1 else ''} {', '.join(map(str, ran))} only)"
        out[gen] = {
            "AUC": _ms(g["two_sample_auc"], 3),
            "DCR ratio": _ms(g["dcr_ratio"], 2),
            "log var ratio": f"{g['log_variance_ratio'].mean():.2f}",
            "corr. distance": f"{g['correlation_distance'].mean():.3f}",
            "TSTR macro-F1": f"{g['tstr_macro_f1'].mean():.2f}",
            "train s": f"{g['train_seconds'].mean():.0f}"
            if g["train_seconds"].notna().any()
            else "–",
        }
    return pd.DataFrame(out).T


def verdicts(results: pd.DataFrame) -> list[str]:
    lines = []
    for setting in [s for s in SETTINGS if s in set(results["setting"])]:
        r = (
            results[results["setting"] == setting]
            .groupby("generator")[["two_sample_auc", "dcr_ratio"]]
            .mean()
        )
        auc, dcr = r.loc[GAN, "two_sample_auc"], r.loc[GAN, "dcr_ratio"]
        if setting.startswith("course"):
            bar = r.loc["class Gaussian", "two_sample_auc"] + 0.02
            target = f"AUC <= class Gaussian + 0.02 = {bar:.3f}"
        else:
            best = r.loc[["class Gaussian", "Gaussian copula", "SMOTE"], "two_sample_auc"]
            bar = best.min() - 0.03
            target = f"AUC <= best of Gaussian / copula / SMOTE ({best.idxmin()}, {best.min():.3f}) - 0.03 = {bar:.3f}"
        met = auc <= bar and dcr >= 0.95
        n_seeds = results.loc[results["setting"] == setting, "seed"].nunique()
        verdict = ("met" if met else "missed") + ("" if n_seeds > 1 else " (one seed)")
        lines.append(f"| {setting} | {auc:.3f} | {dcr:.2f} | {target}, DCR >= 0.95 | {verdict} |")
    return lines


def sdv_text(results: pd.DataFrame) -> str:
    sdv = results[results["generator"].isin(SDV)]
    if not len(sdv):
        return "CTGAN and TVAE (the `ctgan` package) have not been run yet (`--sdv`)."
    lines = []
    for setting in SETTINGS:
        for gen in SDV:
            g = sdv[(sdv["setting"] == setting) & (sdv["generator"] == gen)].sort_values("seed")
            if not len(g):
                continue
            # the package version is stated once, above the list
            notes = [re.sub(r"^ctgan [^,]+, ", "", str(c)) for c in g["chose"]]
            lines.append(
                f"- {gen}, {setting}: {g['train_seconds'].min():.0f}–{g['train_seconds'].max():.0f} s "
                f"to train (load {g['load'].min():.1f}–{g['load'].max():.1f}); "
                + "; ".join(f"seed {seed}: {note}" for seed, note in zip(g["seed"], notes))
            )
    versions = sorted(set(re.findall(r"ctgan ([^,]+),", " ".join(sdv["chose"].astype(str)))))
    where = "\n".join(lines)
    return f"""**CTGAN and TVAE** (the `ctgan` package{" " + ", ".join(versions) if versions else ""}, `--sdv`): one model on the whole
training half with the class as a discrete column, ctgan's defaults throughout (300 epochs, batch
500, CPU), features as they are (methylation as logits, mapped back). Samples per class: CTGAN
draws conditioned on the class (`sample(500, condition_column=..., condition_value=...)`), TVAE,
which has no conditional sampling, draws unconditionally; both keep only rows whose *generated*
label is the class asked for (relabelling a conditioned draw would flatter CTGAN), until the class
has as many as the held-out half. Scored by the same `evaluate_generation` call as every other
row. They are slow (a Bayesian Gaussian mixture per column, then training), so they ran only on
the settings below; a row measured on fewer seeds than the rest of its setting would be marked.
Training seconds (one torch thread, a 2-core machine shared with other jobs: upper bounds) and
the rows drawn per seed (a class left short is named):

{where}"""


def page(results: pd.DataFrame) -> str:
    seeds = sorted(results["seed"].unique())
    gan = results[results["generator"] == GAN]
    chose = gan.groupby("setting", sort=False)["chose"].agg(lambda c: "; ".join(sorted(set(c))))
    sections = []
    for setting in [s for s in SETTINGS if s in set(results["setting"])]:
        first = results[results["setting"] == setting].iloc[0]
        ran = sorted(results.loc[results["setting"] == setting, "seed"].unique())
        sections.append(
            f"### {setting}\n\n{int(first['n_train'])} training samples x {int(first['n_features'])} features; "
            f"seed(s) {', '.join(map(str, ran))}"
            + (" only (no spread: one run)" if len(ran) == 1 else "")
            + ". "
            f"What OmicsGAN's training chose: {chose.get(setting, '–')}.\n\n"
            + summary(results, setting).to_markdown()
        )
    secs = gan[gan["setting"].str.startswith("course")]
    timing = (
        f"OmicsGAN `train()` on course 2000 took {secs['train_seconds'].min():.0f}–{secs['train_seconds'].max():.0f} s "
        f"per model (one torch thread) while the 1-minute load average was {secs['load'].min():.1f}–{secs['load'].max():.1f} "
        "on a 2-core machine shared with other jobs: these are upper bounds, not quiet-machine timings."
        if len(secs)
        else ""
    )
    return f"""# Benchmarks: generation

Generated by `benchmarks/generation.py` on {datetime.date.today().isoformat()} (Python {platform.python_version()},
torch {torch.__version__}). Every setting: the held-out half of the samples (stratified,
random_state=0) is the reference; generators are trained on the other half. Seeds
{", ".join(map(str, seeds))} (generator, baselines, random forest); cells are mean ± standard deviation over the
seeds, and a difference smaller than the spread is a tie.

- **AUC**: cross-validated two-sample random-forest AUC (300 trees, 5 folds, features standardised
  with the training half), synthetic vs held-out real; 0.5 = indistinguishable.
- **DCR ratio**: median distance to the closest training sample, synthetic over held-out real; about 1
  = new samples, well below 1 = copying (SMOTE interpolates, a copy is 0).
- **OmicsGAN (default)**: `OmicsGAN(train)` and `train(seed=seed)` with every default: a
  shrinkage-Gaussian or Gaussian-copula start (chosen on validation samples held out of the training
  half), a residual trained adversarially from zero, and the start kept unless a snapshot beats it on
  the validation samples.
- **class Gaussian**: class mean and Ledoit-Wolf shrunk correlation (logit space for beta values).
  **Gaussian copula**: the same in normal scores of each feature's pooled empirical distribution.
  **SMOTE**: imbalanced-learn, k = 5 (k = 3 on TCGA-2012, whose Normal class has 4 training samples).
- **Untuned**: the TCGA-BRCA mixOmics settings (`og.datasets.tcga_brca()`: other preprocessing, 3
  subtypes, 110 training tumours) were added after the defaults were set, to see how they do on a
  cohort they were not chosen on; the targets of issue 11 are applied to them as to TCGA-2012.

## Targets

| setting | OmicsGAN AUC | DCR | target | verdict |
| --- | ---: | ---: | --- | --- |
{chr(10).join(verdicts(results))}

{timing}

{sdv_text(results)}

## Results

{(chr(10) * 2).join(sections)}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--page-only", action="store_true")
    parser.add_argument("--settings", nargs="*", default=SETTINGS)
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument(
        "--sdv",
        nargs="*",
        choices=SDV,
        help="train CTGAN and TVAE (ctgan package; or the ones named) instead of OmicsGAN and "
        "SMOTE; use with --part",
    )
    parser.add_argument(
        "--part",
        default="",
        help="write generation_<part>.csv (runs in parallel); the page reads them all",
    )
    args = parser.parse_args()
    if not args.page_only:
        run(
            args.settings,
            tuple(args.seeds),
            CSV.with_name(f"generation_{args.part}.csv") if args.part else CSV,
            sdv=() if args.sdv is None else tuple(args.sdv or SDV),
        )
    parts = [CSV] + sorted(CSV.parent.glob("generation_*.csv"))
    results = pd.concat(
        [pd.read_csv(p) for p in parts if p.exists() and "augmentation" not in p.name],
        ignore_index=True,
    ).drop_duplicates(["setting", "seed", "generator"], keep="last")  # a rerun in a later part wins
    PAGE.write_text(page(results))
    print(f"wrote {PAGE}", file=sys.stderr)


if __name__ == "__main__":
    main()
