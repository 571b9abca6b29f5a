"""Translation benchmarks: CrossModalVAE against baselines on held-out samples, 3 seeds.

Run from the repository root::

    .venv/bin/python benchmarks/translation.py            # every cohort
    .venv/bin/python benchmarks/translation.py tcga2012   # one cohort (tcga2012, tcga, course5000)
    .venv/bin/python benchmarks/translation.py --page     # only rewrite the page from the CSVs

Uses only omixgan's public API (``og.datasets``, ``og.tl.evaluate_translation``,
``og.tl.impute``). Every cohort is split once (25 % held out, stratified, ``random_state=0``);
the three seeds change the models (CrossModalVAE members, calibration samples, MOFA+), not the
split. Writes ``benchmarks/results/translation_<cohort>.csv`` (one row per seed, task and
method), ``benchmarks/results/translation.csv`` (all of them) and
``docs/benchmarks_translation.md`` (the page is generated from the CSVs). Scores are
deterministic per seed (one torch thread); ``seconds`` is wall time and varies with the load.
"""

from __future__ import annotations

import datetime
import platform
import sys
import time
import warnings
from pathlib import Path

import mudata as md
import numpy as np
import pandas as pd
import torch

import omixgan as og

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", message="Cannot join columns with the same name")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CSV = RESULTS / "translation.csv"
PAGE = ROOT / "docs" / "benchmarks_translation.md"
SEEDS = (0, 1, 2)
LEVEL = 0.9
TIE = 0.01

# The targets on TCGA-BRCA 2012 (mean per-feature r of ridge on the same split).
TARGETS = {"mrna -> meth": 0.456, "mrna -> prot": 0.402, "mrna -> mirna": 0.456}


def tcga2012() -> md.MuData:
    mdata = og.datasets.tcga_brca_2012()
    return mdata[mdata.obs["pam50"].notna()].copy()  # 343 PAM50-labelled tumours


def runs():
    """(cohort, mdata, source, targets, modalities, labels_key) per evaluate_translation call."""
    # one trained model per seed serves mrna -> each target and mrna+mirna -> meth / prot
    yield (
        "tcga2012",
        tcga2012,
        "mrna",
        ["meth", "prot", "mirna"],
        ["mrna", "meth", "mirna", "prot"],
        "pam50",
    )
    yield (
        "tcga",
        og.datasets.tcga_brca,
        "mrna",
        ["prot", "mirna"],
        ["mrna", "mirna", "prot"],
        "subtype",
    )
    yield (
        "course5000",
        lambda: og.datasets.course(5000),
        "mrna",
        ["meth", "prot"],
        ["mrna", "meth", "prot"],
        "cluster",
    )


def run_cohort(cohort: str, seeds=SEEDS) -> pd.DataFrame:
    rows = []
    for name, load, source, targets, modalities, labels_key in runs():
        if name != cohort:
            continue
        mdata = load()
        src = source if isinstance(source, str) else "+".join(source)
        for seed in seeds:
            started = time.perf_counter()
            table = og.tl.evaluate_translation(
                mdata,
                source,
                targets,
                modalities=modalities,
                labels_key=labels_key,
                test_size=0.25,
                random_state=0,
                also_from=[["mrna", "mirna"]] if cohort == "tcga2012" else None,
                seed=seed,
                interval=LEVEL,
                naive=False,
                mofa=True,
            )
            split = table.attrs["split"]
            print(
                f"== {cohort} {src} -> {targets} seed {seed}: {len(split['train'])} train ({len(split['calibration'])} calibration), "
                f"{len(split['test'])} held out, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            print(table.round(3).to_string(), flush=True)
            for (target, method), row in table.iterrows():
                task = f"{src} -> {target}"
                if method.startswith(("CrossModalVAE, from mrna+mirna", "ridge, from mrna+mirna")):
                    # the multi-source task, scored from the same model: its own rows
                    task, method = (
                        f"mrna+mirna -> {target}",
                        method.replace(", from mrna+mirna", ""),
                    )
                    rows.append(_task_row(cohort, task, seed, method, split, row))
                    continue
                if (
                    cohort == "tcga2012"
                    and target != "mirna"
                    and method in ("CrossModalVAE", "ridge")
                ):
                    # the single-source scores appear in the multi-source task's table too
                    rows.append(
                        _task_row(
                            cohort,
                            f"mrna+mirna -> {target}",
                            seed,
                            f"{method}, from mrna only",
                            split,
                            row,
                        )
                    )
                rows.append(
                    {
                        "cohort": cohort,
                        "task": task,
                        "seed": seed,
                        "method": method,
                        "n_train": len(split["train"]),
                        "n_calibration": len(split["calibration"]),
                        "n_test": len(split["test"]),
                        **{
                            k: float(row[k])
                            for k in (
                                "per_feature_pearson",
                                "per_sample_pearson",
                                "rmse",
                                "coverage",
                                "width",
                                "seconds",
                            )
                        },
                    }
                )
    if cohort == "impute":
        rows += impute_demo()
    return pd.DataFrame(rows)


def _task_row(cohort, task, seed, method, split, row) -> dict:
    return {
        "cohort": cohort,
        "task": task,
        "seed": seed,
        "method": method,
        "n_train": len(split["train"]),
        "n_calibration": len(split["calibration"]),
        "n_test": len(split["test"]),
        **{
            k: float(row[k])
            for k in (
                "per_feature_pearson",
                "per_sample_pearson",
                "rmse",
                "coverage",
                "width",
                "seconds",
            )
        },
    }


def impute_demo() -> list[dict]:
    """The tutorial section's numbers: train the default CrossModalVAE on the 257 training
    tumours of the split (4 modalities), hide one to three modalities of each of the 86 held-out
    tumours, impute them with ``og.tl.impute`` and score the imputations and their 90 % intervals
    against the hidden truth; then time ``og.tl.impute`` on 1,000 samples (held-out tumours drawn
    with replacement, each lacking one to three modalities)."""
    from sklearn.model_selection import train_test_split

    full = tcga2012()
    mods = ["mrna", "meth", "mirna", "prot"]
    train_names, test_names = train_test_split(
        np.asarray(full.obs_names),
        test_size=0.25,
        stratify=full.obs["pam50"].astype(str),
        random_state=0,
    )
    train = md.MuData({m: full[m][train_names].copy() for m in mods})
    og.models.CrossModalVAE.setup_mudata(train, modalities=mods)
    model = og.models.CrossModalVAE(train)
    wall, cpu = time.perf_counter(), time.process_time()
    model.train(seed=0, progress_bar=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = [
        {
            "cohort": "impute",
            "task": "train 4 modalities",
            "seed": 0,
            "method": "CrossModalVAE.train",
            "seconds": wall,
            "cpu_seconds": cpu,
            "n_train": len(train_names),
        }
    ]

    def masked(names: np.ndarray, rng) -> tuple[md.MuData, np.ndarray]:
        keep = rng.random((len(names), 4)) < 0.5
        keep[np.arange(len(names)), rng.integers(0, 4, len(names))] = True  # every sample keeps one
        full_rows = keep.all(axis=1)
        keep[full_rows, rng.integers(0, 4, int(full_rows.sum()))] = False  # and lacks one
        new = np.array([f"sample{i}" for i in range(len(names))])
        original.update(zip(new, names))
        parts = {}
        for j, m in enumerate(mods):
            adata = full[m][names[keep[:, j]]].copy()
            adata.obs_names = new[keep[:, j]]
            parts[m] = adata
        return md.MuData(parts), keep

    rng = np.random.default_rng(0)
    original = {}
    test_names = np.asarray(test_names)
    cohort, keep = masked(test_names, rng)
    og.tl.impute(cohort, model, interval=LEVEL)
    for j, m in enumerate(mods):
        out = cohort[f"{m}_imputed"]
        assert sorted(out.obs_names) == sorted(f"sample{i}" for i in np.flatnonzero(~keep[:, j]))
        truth = np.asarray(full[m][[original[n] for n in out.obs_names]].X, dtype=np.float64)
        r = og.metrics.per_feature_pearson(truth, out.X).mean()
        cover = og.metrics.interval_scores(truth, out.layers["lower"], out.layers["upper"])
        rows.append(
            {
                "cohort": "impute",
                "task": f"impute {m}",
                "seed": 0,
                "method": "og.tl.impute",
                "n_test": int(out.n_obs),
                "per_feature_pearson": r,
                **cover,
                "sources": "; ".join(
                    f"{k}: {v}" for k, v in out.obs["imputed_from"].value_counts().items()
                ),
            }
        )
    big, _ = masked(rng.choice(test_names, 1000), rng)
    started = time.perf_counter()
    og.tl.impute(big, model, interval=LEVEL)
    seconds = time.perf_counter() - started
    n_values = int(sum(big[f"{m}_imputed"].n_obs for m in mods))
    rows.append(
        {
            "cohort": "impute",
            "task": "impute 1000 samples",
            "seed": 0,
            "method": "og.tl.impute",
            "seconds": seconds,
            "n_test": n_values,
        }
    )
    for row in rows:
        print(row, flush=True)
    return rows


# Written for the run of 2026-12-02 (the tables above it are regenerated from the CSVs; this
# reading is not: rerunning with other numbers needs it reread).
READING = """
## Reading

- **Where the CrossModalVAE earns its place: mRNA -> methylation on real tumours.** 0.476 ± 0.006
  against ridge's 0.456 (+0.020, three times the seed spread), with the VAE part alone also ahead
  (0.469); the blend chosen on the calibration samples is worth a little more than either part.
- **mRNA -> protein and mRNA -> miRNA on TCGA-BRCA 2012: a tie with ridge, not the +0.01 asked
  for** (0.410 vs 0.410, 0.457 vs 0.456). The VAE part alone is behind ridge (0.365, 0.431); the
  calibration samples see it and give ridge (almost) all the weight (the blend equals ridge to
  three decimals in every seed), so the blend falls back to ridge instead of going below it. On
  these two tasks 257 tumours do not let a non-linear model add anything to a linear map:
  reduced-rank ridge, kernel ridge (RBF) and ridge + kNN blends, tried on the same split before,
  did not either (all within ±0.01 of ridge), nor did a ridge penalty per feature (no gain) or a
  blend weight per feature (worse than one pooled weight). On the older `tcga_brca` cohort (112
  training tumours, other platforms) the same defaults beat ridge on both: protein +0.012, miRNA
  +0.020. **Is the +0.01 in these data at all?** `benchmarks/translation_ceiling.py` (table
  below) scores other translators on the same split and an *oracle* blend of the VAE part, the
  ridge map and kNN whose weights are fitted on the held-out tumours themselves: ridge with a
  penalty per protein, kernel ridge and partial least squares all stay within ridge + 0.001, and
  even the oracle reaches only ridge + 0.004 (protein, 0.414) and ridge + 0.0001 (miRNA, 0.456).
  With these 257 training tumours the margin is not within reach of any blend of these
  predictors; we report the tie instead of tuning towards it.
- **Several sources: stacking the subsets.** mRNA + miRNA -> methylation 0.478 ± 0.002 against
  ridge on both sources 0.454 (+0.025, met) and the model's own mRNA-only translation
  0.476 ± 0.006 (met on average). Per seed it is 0.478 / 0.480 / 0.476 against mRNA alone
  0.469 / 0.481 / 0.478: +0.009 in one seed, -0.001 and -0.002 in the others, so "at least as
  good as the best single source" holds on average, not in every seed. The previous version,
  which chose one subset of the sources on the 51 calibration tumours, had 0.470 ± 0.003 (0.469,
  0.473, 0.468 on the same seeds): the weighted sum of the VAE translations and ridge maps of
  every subset (`source_combination="stack"`, weights non-negative, summing to 1, fitted on the
  calibration tumours) is better than that choice in every seed (+0.008 on average). For
  mRNA + miRNA -> protein stacking gives 0.396 ± 0.011 (0.407, 0.394, 0.386), up from
  0.383 ± 0.031, but still below ridge on both sources (0.400) and below mRNA alone (0.410):
  there the translations from miRNA alone get weight on the 51 calibration tumours (0.03, 0.24,
  0.60 in seeds 0, 1, 2) that does not carry over to new ones.
- **Intervals: calibrated on every set.** Coverage of the 90 % intervals on held-out samples
  between 0.89 and 0.92 on every task and cohort (mean of 3 seeds), within the target's
  [0.87, 0.93]. Against ridge + the same calibration at about the same coverage they are
  narrower where the point prediction is better (TCGA-BRCA 2012 methylation: 0.462 vs 0.479 beta
  units, coverage 0.902 for both; `tcga_brca` miRNA 3.15 vs 3.38) and equal where the model falls
  back to ridge or ties it (protein and miRNA on TCGA-BRCA 2012, `tcga_brca` protein, course
  protein). **Course 5000 methylation** was 5 % wider than ridge (0.223 vs 0.213): calibrated in
  logit space and mapped back, the intervals there are wider in beta units than ridge's, which
  are calibrated in beta units. `predict_interval(space="auto")` now calibrates both ways on the
  calibration samples and keeps the narrower: beta units on course 5000 (0.211 vs ridge 0.213,
  coverage 0.897 for both; narrower in each seed, by 0.8-1.2 %), logit space on TCGA-BRCA 2012
  (unchanged: beta units would be up to 3 % wider there). On course 5000 methylation the two are
  thus equal within 1 %, not narrower: "narrower than ridge on every set" is still missed.
- **Course data: everything meets at the oracle**, as it must (modalities coupled only through the
  class): the CrossModalVAE, ridge and the class-mean oracle within 0.01 of each other.
- **MOFA+ on all modalities** stays well below ridge on real tumours (0.24-0.38 against
  0.41-0.46 on TCGA-BRCA 2012) even though it sees all four modalities and the held-out samples'
  sources: an unsupervised factorisation is not a translator.
- **Cost**: the CrossModalVAE trains twice (calibration run, then refit) and takes minutes where
  ridge takes a second. Its CPU time for four modalities was 72 s in this run and 113 s in the
  previous one with the same training (CPU time under a load of 8-12 on 2 cores is itself
  noisy); the stacking weights and the second interval calibration add well under a second.
"""


# --- the page ----------------------------------------------------------------------------------
def pm(values: pd.Series, digits: int = 3) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    return (
        f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"
        if len(values) > 1
        else f"{values.mean():.{digits}f}"
    )


def table(results: pd.DataFrame, metric: str, methods: list[str], digits: int = 3) -> str:
    tasks = list(dict.fromkeys(results["task"]))
    head = "| task | " + " | ".join(methods) + " |\n| --- |" + " ---: |" * len(methods)
    body = []
    for task in tasks:
        sub = results[results["task"] == task]
        body.append(
            f"| {task} | "
            + " | ".join(pm(sub.loc[sub["method"] == m, metric], digits) for m in methods)
            + " |"
        )
    return head + "\n" + "\n".join(body)


def mean(results, task, method, metric="per_feature_pearson") -> float:
    sel = results[(results["task"] == task) & (results["method"] == method)]
    return float(sel[metric].mean())


def sd(results, task, method, metric="per_feature_pearson") -> float:
    sel = results[(results["task"] == task) & (results["method"] == method)]
    return float(sel[metric].std(ddof=1))


def page(all_results: pd.DataFrame) -> str:
    point = [
        "CrossModalVAE",
        "CrossModalVAE, VAE part only",
        "ridge",
        "kNN (PCA 50)",
        "MOFA+ (10 factors)",
        "class-mean oracle",
        "feature mean",
    ]
    multi = [
        "CrossModalVAE",
        "CrossModalVAE, from mrna only",
        "CrossModalVAE, VAE part only",
        "ridge",
        "ridge, from mrna only",
        "ridge, from mirna only",
        "kNN (PCA 50)",
        "MOFA+ (10 factors)",
        "class-mean oracle",
    ]
    sections = []
    titles = {
        "tcga2012": "TCGA-BRCA 2012 (343 PAM50-labelled tumours, 4 modalities)",
        "tcga": "TCGA-BRCA (`og.datasets.tcga_brca()`, 3 modalities)",
        "course5000": "Course data, 5000 samples (3 modalities)",
    }
    checks = []
    for cohort in ("tcga2012", "tcga", "course5000"):
        res = all_results[
            (all_results["cohort"] == cohort) & all_results["per_feature_pearson"].notna()
        ]
        if res.empty:
            continue
        n = res.iloc[0]
        single = res[~res["task"].str.contains(r"\+")]
        several = res[res["task"].str.contains(r"\+")]
        part = [
            f"## {titles[cohort]}\n",
            f"{int(n['n_train'])} training samples ({int(n['n_calibration'])} of them calibration samples of the CrossModalVAE), "
            f"{int(n['n_test'])} held out; mean ± standard deviation over seeds {', '.join(map(str, sorted(res['seed'].unique())))}.\n",
            "### Mean per-feature Pearson r (higher is better)\n",
            table(single, "per_feature_pearson", point),
        ]
        if not several.empty:
            part += [
                "\nSeveral sources (same split, same seeds):\n",
                table(
                    several,
                    "per_feature_pearson",
                    [m for m in multi if m in set(several["method"])],
                ),
            ]
        part += [
            "\n### 90 % prediction intervals on the held-out samples\n",
            "Coverage (fraction of held-out values inside their interval; target 0.87-0.93) and mean width "
            "(target's original units: beta values for methylation). Ridge + calibration = ridge fitted without "
            "the CrossModalVAE's calibration samples, calibrated on them the same way, then refitted on all training samples.\n",
            table(res, "coverage", ["CrossModalVAE", "ridge"]),
            "",
            table(res, "width", ["CrossModalVAE", "ridge"]),
            "\n### RMSE (target's units, lower is better)\n",
            table(single, "rmse", point),
            "\n### Seconds (fit + predict; the CrossModalVAE's training, with its refit, counts for every target of one call)\n",
            table(
                res,
                "seconds",
                ["CrossModalVAE", "ridge", "kNN (PCA 50)", "MOFA+ (10 factors)"],
                digits=1,
            ),
        ]
        sections.append("\n".join(part))
        for task in dict.fromkeys(res["task"]):
            cov = mean(res, task, "CrossModalVAE", "coverage")
            checks.append(
                (
                    cohort,
                    task,
                    cov,
                    mean(res, task, "CrossModalVAE", "width"),
                    mean(res, task, "ridge", "width"),
                    mean(res, task, "ridge", "coverage"),
                )
            )

    r12 = all_results[all_results["cohort"] == "tcga2012"]
    target_rows = []
    for task in TARGETS:
        if task in set(r12["task"]):
            vae, ridge = mean(r12, task, "CrossModalVAE"), mean(r12, task, "ridge")
            target_rows.append(
                f"| {task} | {vae:.3f} ± {sd(r12, task, 'CrossModalVAE'):.3f} | {ridge:.3f} | {vae - ridge:+.3f} | "
                f"{'met' if vae >= ridge + 0.01 else 'missed'} |"
            )
    task = "mrna+mirna -> meth"
    if task in set(r12["task"]):
        vae, ridge = mean(r12, task, "CrossModalVAE"), mean(r12, task, "ridge")
        single_vae = mean(r12, task, "CrossModalVAE, from mrna only")
        target_rows.append(
            f"| {task} | {vae:.3f} ± {sd(r12, task, 'CrossModalVAE'):.3f} | {ridge:.3f} (both sources) | {vae - ridge:+.3f} | "
            f"{'met' if vae >= ridge + 0.01 else 'missed'}; vs the mRNA-only model {single_vae:.3f}: "
            f"{'met' if vae >= single_vae else 'missed'} |"
        )

    def width_verdict(w: float, rw: float) -> str:
        if np.isnan(rw):
            return "(no ridge interval for several sources)"
        if abs(w - rw) <= 0.01 * rw:
            return "equal (within 1 %)"
        return f"{'narrower' if w < rw else 'wider'} by {abs(w - rw) / rw:.0%}"

    cover_rows = [
        f"| {c} | {t} | {cov:.3f} | {'met' if 0.87 <= cov <= 0.93 else 'missed'} | "
        + (f"{w:.3f} vs {rw:.3f} (ridge coverage {rc:.3f})" if not np.isnan(rw) else f"{w:.3f}")
        + f" | {width_verdict(w, rw)} |"
        for c, t, cov, w, rw, rc in checks
    ]
    demo = all_results[all_results["cohort"] == "impute"]
    timing, tutorial = "", ""
    if not demo.empty:
        imp = demo[demo["task"] == "impute 1000 samples"].iloc[0]
        trn = demo[demo["task"] == "train 4 modalities"].iloc[0]
        timing = (
            f"- `og.tl.impute` on a cohort of 1,000 samples (each lacking one to three of the four modalities; "
            f"{int(imp['n_test'])} sample-modalities imputed, with 90 % intervals), model given: "
            f"**{imp['seconds']:.1f} s** wall time on the busy machine (target <= 10 s): met.\n"
            f"- Training the default CrossModalVAE on 257 tumours, 4 modalities (calibration run + refit, 3 members): "
            f"**{trn['seconds']:.0f} s** wall time on the shared machine (load average 8-12 on 2 cores), "
            f"**{trn['cpu_seconds']:.0f} s** of CPU time on one thread, the better estimate of the wall time on a "
            f"quiet machine (target <= 120 s): {'met' if trn['cpu_seconds'] <= 120 else 'missed'}."
        )
        per_mod = demo[
            demo["task"].str.startswith("impute ") & (demo["task"] != "impute 1000 samples")
        ]
        lines = "\n".join(
            f"| {row['task'].split()[1]} | {int(row['n_test'])} | {row['sources']} | {row['per_feature_pearson']:.3f} | "
            f"{row['coverage']:.3f} | {row['width']:.3f} |"
            for _, row in per_mod.iterrows()
        )
        tutorial = f"""
## Tutorial: impute every missing modality of a cohort

A cohort where each sample lacks some modalities: here the 86 held-out tumours of the split, each
with one to three of its four modalities hidden at random. A CrossModalVAE trained on the other 257
tumours predicts every missing modality from all the modalities each sample has, with 90 %
intervals:

```python
import omixgan as og

train = ...   # MuData: mrna, meth, mirna, prot of the training tumours
cohort = ...  # MuData: the same modalities, each sample lacking some of them

og.models.CrossModalVAE.setup_mudata(train, modalities=["mrna", "meth", "mirna", "prot"])
vae = og.models.CrossModalVAE(train)
vae.train()                             # 20 % calibration samples, then a refit on all
og.tl.impute(cohort, vae, interval=0.9)

cohort["meth_imputed"]                  # one row per sample lacking meth: beta values, in (0, 1)
cohort["meth_imputed"].obs["imputed_from"]        # e.g. "mrna+prot": what each prediction used
cohort["meth_imputed"].layers["lower"], cohort["meth_imputed"].layers["upper"]   # 90 % intervals
cohort.obs["imputed_meth"]              # True where meth was imputed
cohort.obs["imputed"]                   # per sample, the imputed modalities ("meth,prot")
cohort.uns["imputed"]                   # params and counts
```

Measured values are never touched: `cohort["meth"]` still holds only the measured samples, and
running `impute` again with the same `key_added` is an error rather than an overwrite. Scored
against the hidden truth (seed 0; the exact code is `impute_demo` in `benchmarks/translation.py`):

| imputed modality | samples | sources used (samples) | mean per-feature r | coverage of 90 % intervals | mean width |
| --- | ---: | --- | ---: | ---: | ---: |
{lines}

Which sources a prediction uses is written per sample (`imputed_from`: the modalities the sample
*has*); with `source_combination="stack"` (default) the prediction is a weighted sum of the
translations from every subset of them, the weights fitted on the calibration samples, so a
modality that only adds noise gets little or no weight.
"""
    return f"""# Translation benchmarks

How well does {{class}}`~omixgan.models.CrossModalVAE` translate omics layers into each other, next
to the baselines, and how honest are its prediction intervals? All numbers on this page come from
`benchmarks/results/translation.csv`, written together with this page by
`benchmarks/translation.py`.

## How it was measured

- **Calls**: `og.tl.evaluate_translation(mdata, source, targets, modalities=..., labels_key=...,
  test_size=0.25, random_state=0, seed=seed, interval=0.9)` with the default CrossModalVAE, one
  call per cohort and source set (one trained model per call serves every target).
- **Split**: the samples that have every source and target are split 75 / 25 once, stratified by
  class (`pam50`, `subtype`, `cluster`), `random_state=0`. Held-out samples are hidden from every
  method except for their sources. The three **seeds** (0, 1, 2) change the models (ensemble
  members, calibration samples, MOFA+'s initialisation), not the split: the spread is the
  methods' own randomness. Ridge, kNN and the class mean are deterministic.
- **The CrossModalVAE** trains on every modality listed (TCGA-BRCA 2012: all four) for the
  training samples; 20 % of the training samples with two or more modalities are held out as
  calibration samples, on which the weight of the ridge map in the blend (per source set and
  target; for several sources, the stacking weights over the VAE translations and ridge maps of
  every subset of the sources, `source_combination="stack"`) is chosen and the conformal
  intervals are calibrated (for methylation in logit space or in beta units, whichever gives
  narrower intervals on the calibration samples, `space="auto"`); then the members are trained
  again on all training samples (`refit=True`).
- **Metrics** on held-out samples, target in original units: mean per-feature Pearson r (the
  headline), RMSE, and for 90 % intervals coverage and mean width.
- **Baselines**: `ridge` (standardised, concatenated sources, penalty by leave-one-out), `kNN (PCA
  50)`, `MOFA+ (10 factors)` (mofapy2 on **all** modalities of the call: training samples with
  everything, held-out samples with their sources only), `class-mean oracle` (training mean of
  the held-out sample's *true* class), `feature mean`. The naive two-VAE swap of earlier versions
  is left out here (it failed everywhere, per-feature r between -0.05 and 0.10, and costs two
  trainings per target).
- **Machine**: 2-core CPU shared with four other jobs, no GPU, `torch.set_num_threads(1)`; Python
  {platform.python_version()}, torch {torch.__version__}; run on {datetime.date.today().isoformat()}. Times are wall-clock under that
  load (load average 8-12 on 2 cores) and only indicative. The seeds ran as separate processes
  side by side. The `tcga_brca` rows are from the run of 2026-12-01 (single sources, z-scored
  targets: nothing this run's version changed affects them); the other cohorts were run again.

## Targets (issue 12) against the measurements

| task (TCGA-BRCA 2012) | CrossModalVAE r (mean ± sd, 3 seeds) | ridge r | difference | target: >= ridge + 0.01 |
| --- | ---: | ---: | ---: | --- |
{chr(10).join(target_rows)}

| cohort | task | coverage of 90 % intervals | in [0.87, 0.93] | mean width, CrossModalVAE vs ridge + calibration | width |
| --- | --- | ---: | --- | --- | --- |
{chr(10).join(cover_rows)}

{timing}

{READING}
{ceiling_section()}
{chr(10).join(sections)}
{tutorial}"""


def ceiling_section() -> str:
    """The table of ``benchmarks/translation_ceiling.py`` (empty when it has not been run)."""
    path = RESULTS / "ceiling_translation.csv"
    if not path.exists():
        return ""
    r = pd.read_csv(path)
    lines = [
        "## How far above ridge? mRNA -> protein and miRNA on TCGA-BRCA 2012",
        "",
        "Written by `benchmarks/translation_ceiling.py` (same split and training as above, seeds "
        f"{', '.join(map(str, sorted(r['seed'].unique())))}). The oracle stack's weights minimise "
        "the squared error on the held-out tumours themselves: it sees the answers, so it is an "
        "optimistic reference for blending these predictors, not a method.",
        "",
        "| method | mRNA -> protein | mRNA -> miRNA |",
        "| --- | --- | --- |",
    ]
    for method in r["method"].drop_duplicates():
        cells = [
            pm(r.loc[(r["method"] == method) & (r["target"] == t), "per_feature_pearson"])
            for t in ("prot", "mirna")
        ]
        lines.append(f"| {method} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = sys.argv[1:]
    RESULTS.mkdir(parents=True, exist_ok=True)
    seeds = SEEDS
    if "--seed" in args:  # one seed per process: cohorts' seeds can run side by side
        seeds = (int(args[args.index("--seed") + 1]),)
        args = args[: args.index("--seed")] + args[args.index("--seed") + 2 :]
    if "--page" not in args:
        for cohort in args or ["tcga2012", "tcga", "course5000", "impute"]:
            suffix = f"_seed{seeds[0]}" if len(seeds) == 1 else ""
            run_cohort(cohort, seeds).to_csv(
                RESULTS / f"translation_{cohort}{suffix}.csv", index=False, float_format="%.4f"
            )
    parts = [pd.read_csv(p) for p in sorted(RESULTS.glob("translation_*.csv"))]
    # a cohort run with all seeds at once supersedes its one-seed files
    parts = [p for p in parts if not p.empty]
    results = pd.concat(parts, ignore_index=True)
    results.to_csv(CSV, index=False, float_format="%.4f")
    PAGE.write_text(page(results))
    print(f"wrote {CSV.relative_to(ROOT)} and {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
