"""Writes docs/benchmarks_singlecell.md from the CSVs of benchmarks/singlecell.py."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd

TRANSLATION_ORDER = [
    "class mean",
    "ridge",
    "kNN",
    "kNN, unscaled, k=30",
    "totalVI",
    "omixgan",
    "omixgan, 2 epochs",
]
GENERATION_ORDER = [
    "held-out real (control)",
    "SMOTE",
    "class Gaussian (PCA space)",
    "copy of train",
    "scVI posterior samples",
    "omixgan",
    "omixgan count Gaussian",
    "omixgan OmicsGAN",
]


def _ms(series: pd.Series, digits: int = 3) -> str:
    s = series.dropna()
    if s.empty:
        return "n/a"
    if len(s) == 1:
        return f"{s.iloc[0]:.{digits}f} (1 seed)"
    return f"{s.mean():.{digits}f} ± {s.std(ddof=0):.{digits}f}"


NAMES = {
    "omixgan": "omixgan `CountVAE`",
    "omixgan count Gaussian": "omixgan `tl.count_gaussian`",
    "omixgan OmicsGAN": "omixgan `OmicsGAN` (counts)",
    "omixgan, boosted_trees=False": "omixgan `CountVAE.translate`, `boosted_trees=False`",
    "omixgan, 2 epochs": "omixgan `CountVAE.translate`, VAE trained 2 epochs (`max_epochs=2`)",
}


def _name(method: str, part: str) -> str:
    if part == "translation" and method == "omixgan":
        return "omixgan `CountVAE.translate`"
    if part == "generation" and method == "omixgan":
        return "omixgan `CountVAE.sample`"
    return NAMES.get(method, method)


def _seeds(df: pd.DataFrame) -> str:
    return ", ".join(str(int(s)) for s in sorted(df["seed"].unique()))


def translation_table(df: pd.DataFrame) -> str:
    lines = ["| method | per-protein r (held-out) | seconds | seeds |", "| --- | --- | --- | --- |"]
    for m in [m for m in TRANSLATION_ORDER if m in set(df["method"])]:
        d = df[df["method"] == m]
        lines.append(
            f"| {_name(m, 'translation')} | {_ms(d['pearson_mean'])} | {_ms(d['seconds'], 0)} | {_seeds(d)} |"
        )
    parts = {
        "fixed_blend": "fixed blend of earlier versions (`neighbor_blend=0.5, linear_blend=0.5`)",
        "decoder_only": "decoder alone (`neighbor_blend=0, linear_blend=0`)",
        "neighbors_only": "latent-space neighbours alone (`neighbor_blend=1`)",
        "linear_only": "linear map alone (`linear_blend=1`)",
    }
    d = df[df["method"] == "omixgan"]
    for key, label in parts.items():
        col = f"pearson_{key}"
        if col in d and d[col].notna().any():
            lines.append(
                f"| omixgan, {label} | {_ms(d[col])} | (same run) | {_seeds(d[d[col].notna()])} |"
            )
    return "\n".join(lines)


def ours_summary(df: pd.DataFrame) -> str:
    """``CountVAE.translate``'s per-protein r for the prose: mean ± sd and per seed."""
    d = df[df["method"] == "omixgan"].sort_values("seed")
    if d.empty:
        return "n/a"
    seeds = ", ".join(f"{r:.4f}" for r in d["pearson_mean"])
    return f"{_ms(d['pearson_mean'], 4)} (seeds {_seeds(d)}: {seeds})"


def knn_margin(df: pd.DataFrame, knn_method: str = "kNN") -> str:
    """``CountVAE.translate``'s lead over a kNN row per seed and on the means, against issue
    13's +0.02 bar, for the prose."""
    ours = df[df["method"] == "omixgan"].set_index("seed")["pearson_mean"]
    knn = df[df["method"] == knn_method].set_index("seed")["pearson_mean"]
    seeds = sorted(set(ours.index) & set(knn.index))
    if not seeds:
        return f"not comparable with {knn_method} (no common seed)"
    gaps = [ours[s] - knn[s] for s in seeds]
    mean_gap = ours[seeds].mean() - knn[seeds].mean()
    met = sum(g >= 0.02 for g in gaps)
    return (
        f"ahead of `{knn_method}` by {', '.join(f'{g:.4f}' for g in gaps)} on seeds "
        f"{', '.join(map(str, seeds))} ({mean_gap:.4f} on the means): the +0.02 margin is met on "
        f"{met} of {len(seeds)} seeds and {'' if mean_gap >= 0.02 else 'not '}on the means"
    )


def load_range(parts: dict) -> str:
    """The 1-minute load averages recorded next to the rows of every CSV, as a range."""
    loads = pd.concat([p["load_avg"] for p in parts.values() if p is not None and "load_avg" in p])
    return f"{loads.min():.1f}-{loads.max():.1f}" if len(loads) else "n/a"


def per_protein_table(df: pd.DataFrame) -> str:
    cols = [c for c in df.columns if c.startswith("r_")]
    methods = [m for m in TRANSLATION_ORDER if m in set(df["method"])]
    lines = ["| protein | " + " | ".join(methods) + " |", "| --- |" + " --- |" * len(methods)]
    for c in cols:
        cells = [f"{df[df['method'] == m][c].mean():.3f}" for m in methods]
        lines.append(f"| {c[2:].replace('_TotalSeqB', '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def generation_table(df: pd.DataFrame) -> str:
    lines = [
        "| generator | two-sample AUC | DCR ratio | whole non-negative counts | seconds | seeds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in [m for m in GENERATION_ORDER if m in set(df["method"])]:
        d = df[df["method"] == m]
        whole = "yes" if d["whole_nonneg_counts"].astype(bool).all() else "no"
        lines.append(
            f"| {_name(m, 'generation')} | {_ms(d['two_sample_auc'])} | {_ms(d['dcr_ratio'], 2)} | {whole} | {_ms(d['seconds'], 0)} | {_seeds(d)} |"
        )
    return "\n".join(lines)


def rare_table(df: pd.DataFrame) -> str:
    lines = [
        "| training set | macro-F1 (held-out real) | F1 DC | F1 CD16+ mono | seeds |",
        "| --- | --- | --- | --- | --- |",
    ]
    names = {
        "none": "real cells only",
        "SMOTE": "+ SMOTE (log-normalised)",
        "omixgan": "+ CountVAE counts",
        "omixgan count Gaussian": "+ count Gaussian counts",
    }
    for m in [m for m in names if m in set(df["method"])]:
        d = df[df["method"] == m]
        lines.append(
            f"| {names[m]} | {_ms(d['macro_f1'])} | {_ms(d['f1_DC'], 2)} | {_ms(d['f1_CD16_mono'], 2)} | {_seeds(d)} |"
        )
    return "\n".join(lines)


def subset_table(df: pd.DataFrame) -> str:
    lines = ["| method | per-protein r (held-out) | seeds |", "| --- | --- | --- |"]
    for m in df["method"].unique():  # in the order they were run
        d = df[df["method"] == m]
        lines.append(f"| {_name(m, 'translation')} | {_ms(d['pearson_mean'])} | {_seeds(d)} |")
    return "\n".join(lines)


def write_page(results: Path, page: Path) -> None:
    parts = {}
    for name in ("translation", "generation", "rare", "subset"):
        csv = results / f"singlecell_{name}.csv"
        parts[name] = pd.read_csv(csv) if csv.exists() else None
    template = (Path(__file__).resolve().parent / "sc_page_template.md").read_text()

    def filled(write, part):
        return write(parts[part]) if parts[part] is not None else "(not run)"

    fields = {
        "date": datetime.date.today().isoformat(),
        "translation": filled(translation_table, "translation"),
        "translation_ours": filled(ours_summary, "translation"),
        "knn_margin": filled(knn_margin, "translation"),
        "knn_unscaled_margin": filled(
            lambda df: knn_margin(df, "kNN, unscaled, k=30"), "translation"
        ),
        "loads": load_range(parts),
        "per_protein": filled(per_protein_table, "translation"),
        "subset": filled(subset_table, "subset"),
        "generation": filled(generation_table, "generation"),
        "rare": filled(rare_table, "rare"),
    }
    # plain replacement: the page's MyST roles ({class}, {doc}) are braces too
    text = template
    for key, value in fields.items():
        text = text.replace("{" + key + "}", value)
    page.write_text(text)
    print(f"wrote {page}")
