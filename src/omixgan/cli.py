"""The ``omixgan`` command line: ``omixgan demo`` runs the whole story on the bundled data."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _summary(mdata, labels_key: str) -> str:
    lines = [f"{mdata.n_obs} samples, {len(mdata.mod)} modalities"]
    for mod, adata in mdata.mod.items():
        n_missing = adata.uns.get("n_missing", 0)
        lines.append(f"  {mod:<6} {adata.n_obs:>6} samples x {adata.n_vars:>5} features, {n_missing} missing values")
    if labels_key in mdata.obs:
        counts = mdata.obs[labels_key].value_counts().sort_index()
        lines.append(f"  classes ({labels_key}): " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return "\n".join(lines)


class _Report:
    """Collects sections of the Markdown report and prints progress."""

    def __init__(self, out: Path):
        self.out = out
        self.parts: list[str] = []

    def section(self, title: str) -> None:
        print(f"\n== {title}")
        self.parts.append(f"\n## {title}\n")

    def text(self, text: str) -> None:
        print(text)
        self.parts.append(text + "\n")

    def table(self, name: str, table, caption: str) -> None:
        table.to_csv(self.out / f"{name}.csv")
        print(table.round(3).to_string())
        self.parts.append(f"{caption} ([{name}.csv]({name}.csv))\n\n{table.round(3).to_markdown()}\n")

    def figure(self, name: str, fig, caption: str) -> None:
        import matplotlib.pyplot as plt

        fig.savefig(self.out / f"{name}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.parts.append(f"![{caption}]({name}.png)\n")

    def write(self, header: str) -> Path:
        path = self.out / "report.md"
        path.write_text(header + "\n".join(self.parts))
        return path


def demo(data: Path | None, out: Path, quick: bool, seed: int = 0) -> int:
    """Generation and translation on the course data, with every baseline; results to ``out``."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    # mudata's notices about its future defaults concern columns the demo never pulls
    warnings.filterwarnings("ignore", category=FutureWarning, module="mudata")
    warnings.filterwarnings("ignore", message="Cannot join columns with the same name")
    import numpy as np
    from sklearn.model_selection import train_test_split

    from . import datasets, models, pl, read_course, tl

    started = time.perf_counter()
    labels_key = "cluster"
    mdata = read_course(data) if data is not None else datasets.course(n_samples=2000)
    source = f"course folder '{data}'" if data is not None else "bundled course data (2000 samples)"
    out.mkdir(parents=True, exist_ok=True)
    report = _Report(out)
    report.section("Data")
    report.text(f"omixgan demo on the {source}{' (--quick)' if quick else ''}\n\n```\n{_summary(mdata, labels_key)}\n```")
    if labels_key not in mdata.obs:
        raise ValueError(f"the demo needs class labels: '{data}' has no clusters.txt.")
    if "mrna" not in mdata.mod:
        raise ValueError("the demo needs an mRNA modality (mRNA.txt).")

    gan_steps = 150 if quick else 1200
    vae_train = {"max_epochs": 20 if quick else 300, "progress_bar": True}
    vae_model = {"n_models": 1} if quick else {}

    # --- generation: per-class GAN vs SMOTE on a stratified half, judged on the other half
    report.section("Generation (mRNA): per-class GAN vs SMOTE, held-out half as reference")
    rna = mdata["mrna"].copy()
    rna.obs[labels_key] = mdata.obs.loc[rna.obs_names, labels_key].astype(str).to_numpy()
    train_idx, test_idx = train_test_split(np.arange(rna.n_obs), test_size=0.5, stratify=rna.obs[labels_key], random_state=seed)
    train, reference = rna[train_idx].copy(), rna[test_idx].copy()
    counts = reference.obs[labels_key].value_counts().to_dict()
    models.OmicsGAN.setup_anndata(train, labels_key=labels_key)
    gan = models.OmicsGAN(train, per_class=True)
    t0 = time.perf_counter()
    gan.train(max_steps=gan_steps, seed=seed)
    gan_seconds = time.perf_counter() - t0
    synthetic = {"OmicsGAN (per class)": gan.sample(counts, seed=seed), "SMOTE": tl.smote(train, labels_key=labels_key, n_per_class=counts, random_state=seed)}
    table = tl.evaluate_generation(train, synthetic, reference=reference, labels_key=labels_key, random_state=seed)
    report.table("generation_mrna", table, f"GAN trained in {gan_seconds:.0f} s. Two-sample AUC 0.5 and DCR ratio 1 are ideal.")
    report.figure("generation_pca", pl.real_vs_synthetic(reference, synthetic["OmicsGAN (per class)"], labels_key=labels_key, show=False), "held-out real vs GAN samples")
    report.figure("generation_report", pl.generation_report(table, show=False), "generation metrics")
    report.figure("gan_history", pl.history(gan, show=False).figure, "GAN training")
    for name, adata in synthetic.items():
        adata.write_h5ad(out / f"synthetic_{'gan' if 'GAN' in name else 'smote'}.h5ad")

    # --- translation: held-out evaluation against baselines, then translation of every sample
    report.section("Translation: CrossModalVAE vs baselines on held-out samples")
    report.text(
        "On the course data the modalities are coupled only through the class, so the class-mean "
        "oracle is the best possible translation: no method can beat it here."
    )
    targets = [m for m in ("meth", "prot") if m in mdata.mod]
    for target in targets:
        table = tl.evaluate_translation(mdata, "mrna", target, labels_key=labels_key, random_state=seed, model_kwargs=vae_model, train_kwargs=vae_train)
        report.table(f"translation_mrna_{target}", table, f"mRNA -> {target}, mean per-feature Pearson r is the headline.")
        report.figure(f"translation_mrna_{target}", pl.translation(table, show=False), f"per-feature r, mRNA -> {target}")

    if targets:
        report.section("Everything written back into the MuData")
        modalities = ["mrna", *targets]
        models.CrossModalVAE.setup_mudata(mdata, modalities=modalities, labels_key=labels_key)
        vae = models.CrossModalVAE(mdata, **vae_model)
        vae.train(seed=seed, **vae_train)
        for target in targets:
            tl.translate(mdata, "mrna", target, model=vae)
        tl.embed(mdata, vae)
        report.figure("latent", pl.latent(mdata, color=labels_key, show=False).figure, "joint latent space")
        report.text(
            "`data.h5mu`: `obsm['X_omixgan']` (joint latent space), "
            + ", ".join(f"`{t}_from_mrna` (translated {t}), `mdata['{t}'].layers['translated_from_mrna']`" for t in targets)
            + ". Synthetic samples are kept apart in `synthetic_gan.h5ad` and `synthetic_smote.h5ad` (`obs['synthetic']`)."
        )
    mdata.write(out / "data.h5mu")
    elapsed = time.perf_counter() - started
    path = report.write(f"# omixgan demo\n\nRun took {elapsed:.0f} s. Every table is also a CSV beside this file.\n")
    print(f"\nwrote {path} and the tables, figures and data.h5mu in {out}/ ({elapsed:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omixgan", description="Deep generative models for multi-omics data.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="generation and translation on the bundled data (or a course-format folder), with baselines")
    p_demo.add_argument("--data", type=Path, default=None, help="a course-format folder (default: bundled 2000-sample data)")
    p_demo.add_argument("--out", type=Path, default=Path("omixgan_demo"), help="output folder (default: ./omixgan_demo)")
    p_demo.add_argument("--quick", action="store_true", help="far fewer training steps: a first look in about two minutes")
    p_demo.add_argument("--seed", type=int, default=0, help="seed of splits and models (default 0)")
    args = parser.parse_args(argv)
    try:
        return demo(args.data, args.out, args.quick, args.seed)
    except (FileNotFoundError, NotADirectoryError, ValueError, KeyError) as err:
        print(f"omixgan: error: {err}", file=sys.stderr)
        return 2
