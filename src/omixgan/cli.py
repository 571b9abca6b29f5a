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
        self.started = time.perf_counter()
        self.starts: list[tuple[str, float]] = []

    def section(self, title: str) -> None:
        now = time.perf_counter()
        self.starts.append((title.split(":")[0], now))
        print(f"\n== {title}  [{now - self.started:.0f} s]")
        self.parts.append(f"\n## {title}\n")

    def timings(self) -> str:
        """Wall seconds of every section so far."""
        ends = [t for _, t in self.starts[1:]] + [time.perf_counter()]
        return "; ".join(f"{name} {end - start:.0f} s" for (name, start), end in zip(self.starts, ends))

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


def _per_class_subset(names, labels, n: int, seed: int):
    """At most ``n`` of ``names``, stratified by ``labels`` (all of them when there are fewer)."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    names = np.asarray(names)
    if len(names) <= n:
        return names
    keep, _ = train_test_split(names, train_size=n, stratify=np.asarray(labels), random_state=seed)
    return np.sort(keep)


def _first_per_class(mdata, labels_key: str, counts: dict):
    """The first ``counts[c]`` samples of every class ``c`` (generated samples are i.i.d.)."""
    import numpy as np

    labels = mdata.obs[labels_key].astype(str).to_numpy()
    keep = np.concatenate([np.flatnonzero(labels == str(c))[:n] for c, n in counts.items()])
    return mdata[mdata.obs_names[np.sort(keep)]].copy()


def _smote_side_by_side(train, labels_key: str, counts: dict, modalities: list[str], seed: int):
    """SMOTE on the modalities side by side (each standardised with ``train``), split back per modality."""
    import anndata as ad
    import numpy as np

    from . import tl
    from .io._course import make_mudata

    blocks = [np.asarray(train[m].X, dtype=np.float64) for m in modalities]
    stats = [(b.mean(axis=0), np.where(b.std(axis=0) > 0, b.std(axis=0), 1.0)) for b in blocks]
    joint = ad.AnnData(np.hstack([(b - mu) / sd for b, (mu, sd) in zip(blocks, stats)]).astype(np.float32))
    joint.obs[labels_key] = train.obs[labels_key].astype(str).to_numpy()
    new = tl.smote(joint, labels_key=labels_key, n_per_class=counts, random_state=seed)
    new.obs_names = [f"smote_{i}" for i in range(new.n_obs)]
    mods, start = {}, 0
    for m, (mu, sd) in zip(modalities, stats):
        width = len(mu)
        X = (new.X[:, start : start + width] * sd + mu).astype(np.float32)
        mods[m] = ad.AnnData(X, obs=new.obs.copy(), var=train[m].var[[]].copy())
        start += width
    out = make_mudata(mods)
    out.obs = new.obs.copy()
    return out


def _cross_correlation_figure(reference, synthetic: dict, modalities: list[str], max_points: int = 4000, seed: int = 0):
    """Between-modality correlations, held-out real (x) vs synthetic (y), one panel per modality pair."""
    import matplotlib.pyplot as plt
    import numpy as np

    def block(mdata, a, b):
        Xa, Xb = np.asarray(mdata[a].X, dtype=np.float64), np.asarray(mdata[b].X, dtype=np.float64)
        return np.nan_to_num(np.corrcoef(Xa, Xb, rowvar=False)[: Xa.shape[1], Xa.shape[1] :]).ravel()

    pairs = [(a, b) for i, a in enumerate(modalities) for b in modalities[i + 1 :]]
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 4.0), squeeze=False)
    rng = np.random.default_rng(seed)
    for ax, (a, b) in zip(axes[0], pairs):
        real = block(reference, a, b)
        pick = rng.choice(len(real), min(max_points, len(real)), replace=False)
        for (name, obj), color in zip(synthetic.items(), ("#dd8452", "#55a868", "#c44e52")):
            syn = block(obj, a, b)
            rms = float(np.sqrt(np.mean((syn - real) ** 2)))
            ax.scatter(real[pick], syn[pick], s=3, alpha=0.4, color=color, label=f"{name}: RMS diff {rms:.3f}", rasterized=True)
        lim = max(1e-3, float(np.abs(real).max()))
        ax.plot([-lim, lim], [-lim, lim], color="0.3", lw=0.8)
        ax.set_xlabel(f"corr({a}, {b}), held-out real")
        ax.set_ylabel("same, synthetic")
        ax.set_title(f"{a} x {b}")
        ax.legend(frameon=False, fontsize=7, markerscale=3)
    fig.tight_layout()
    return fig


def demo(data: Path | None, out: Path, quick: bool, seed: int = 0) -> int:
    """Generation (mRNA and multi-omics) and translation on the course data, with every baseline; results to ``out``."""
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
    multi_gan_steps = 150 if quick else 1200
    n_eval_mrna = 300  # --quick: held-out samples scored in the mRNA generation section
    n_eval = 200 if quick else 500  # held-out samples scored in the multi-omics section
    vae_train = {"max_epochs": 20 if quick else 300, "progress_bar": True}
    vae_model = {"n_models": 1} if quick else {}

    # --- generation: per-class GAN vs SMOTE on a stratified half, judged on the other half
    report.section("Generation (mRNA): per-class GAN vs SMOTE, held-out half as reference")
    rna = mdata["mrna"].copy()
    rna.obs[labels_key] = mdata.obs.loc[rna.obs_names, labels_key].astype(str).to_numpy()
    train_idx, test_idx = train_test_split(np.arange(rna.n_obs), test_size=0.5, stratify=rna.obs[labels_key], random_state=seed)
    train, reference = rna[train_idx].copy(), rna[test_idx].copy()
    if quick:  # the random-forest scores dominate the cost: score a stratified subset of the held-out half
        n_held_out = reference.n_obs
        reference = reference[_per_class_subset(reference.obs_names, reference.obs[labels_key], n_eval_mrna, seed)].copy()
        report.text(
            f"--quick: {gan_steps} generator steps per class (default 1200); scored on {reference.n_obs} of the "
            f"{n_held_out} held-out samples (stratified), with as many synthetic samples per class."
        )
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
    if quick:
        report.text(
            "--quick: the CrossModalVAE is one model (default: an ensemble of 3) trained for at most 20 epochs "
            "(default 300), and MOFA+ (an existing multi-omics factor model, a baseline of the full run) is left out."
        )
    targets = [m for m in ("meth", "prot") if m in mdata.mod]
    for target in targets:
        table = tl.evaluate_translation(
            mdata, "mrna", target, labels_key=labels_key, random_state=seed, model_kwargs=vae_model, train_kwargs=vae_train, mofa=not quick
        )
        report.table(f"translation_mrna_{target}", table, f"mRNA -> {target}, mean per-feature Pearson r is the headline.")
        report.figure(f"translation_mrna_{target}", pl.translation(table, show=False), f"per-feature r, mRNA -> {target}")

    # --- multi-omics generation: every modality of a sample at once, class-conditional
    modalities = list(mdata.mod)
    synthetic_written = ["`synthetic_gan.h5ad`", "`synthetic_smote.h5ad`"]
    if len(modalities) >= 2:
        report.section(f"Multi-omics generation ({', '.join(modalities)}): MultiOmicsGAN vs baselines, held-out half as reference")
        complete = mdata.obs_names
        for mod in modalities:
            complete = complete[complete.isin(mdata[mod].obs_names)]
        labels = mdata.obs.loc[complete, labels_key].astype(str).to_numpy()
        mo_train_names, mo_test_names = train_test_split(np.asarray(complete), test_size=0.5, stratify=labels, random_state=seed)
        mo_train, mo_reference = mdata[np.sort(mo_train_names)].copy(), mdata[np.sort(mo_test_names)].copy()
        for obj in (mo_train, mo_reference):
            obj.obs[labels_key] = obj.obs[labels_key].astype(str)
        mo_counts = mo_reference.obs[labels_key].value_counts().to_dict()
        models.MultiOmicsGAN.setup_mudata(mo_train, modalities=modalities, labels_key=labels_key)
        mgan = models.MultiOmicsGAN(mo_train)
        t0 = time.perf_counter()
        mgan.train(max_steps=multi_gan_steps, seed=seed)
        mgan_seconds = time.perf_counter() - t0
        mo_synthetic = mgan.sample(mo_counts, seed=seed)
        # the random-forest two-sample AUCs dominate the cost: score a stratified subset of the
        # held-out half (and as many synthetic samples per class)
        eval_names = _per_class_subset(mo_reference.obs_names, mo_reference.obs[labels_key], n_eval, seed)
        eval_reference = mo_reference[eval_names].copy()
        eval_counts = eval_reference.obs[labels_key].value_counts().to_dict()
        generators = {"MultiOmicsGAN": _first_per_class(mo_synthetic, labels_key, eval_counts)}
        if not quick:  # SMOTE's interpolation is shown by the mRNA section of a quick run
            generators["SMOTE (modalities side by side)"] = _smote_side_by_side(mo_train, labels_key, eval_counts, modalities, seed)
        t0 = time.perf_counter()
        table = tl.evaluate_multiomics_generation(mo_train, generators, reference=eval_reference, modalities=modalities, labels_key=labels_key, random_state=seed)
        eval_seconds = time.perf_counter() - t0
        steps_note = (
            f"--quick: the MultiOmicsGAN had only {multi_gan_steps} generator steps (default 1200), SMOTE on the "
            "modalities side by side (a row of the full run) is left out, and the scores use "
            if quick
            else f"MultiOmicsGAN with its default {multi_gan_steps} generator steps; the scores use "
        )
        report.text(
            f"One class-conditional WGAN-GP generates all {len(modalities)} modalities of a sample together "
            f"(trained on {mo_train.n_obs} samples in {mgan_seconds:.0f} s). {steps_note}"
            f"{eval_reference.n_obs} of the {mo_reference.n_obs} held-out samples (stratified) and as many "
            f"synthetic ones per class (scoring took {eval_seconds:.0f} s). A two-sample AUC grows with the number "
            "of samples scored, so compare rows of this table with each other, not with tables scored on more "
            "samples (docs: benchmarks, multi-omics generation).\n\n"
            "Columns: per modality and `joint` (all modalities side by side), two-sample AUC (0.5 ideal) and "
            "DCR ratio (about 1 ideal, well below 1 = copying); `cross_correlation_distance`: RMS difference of "
            "the correlations *between* modalities, real vs synthetic (0 ideal; the control row shows its noise); "
            "`translator_r_*`: a ridge translator fit on the real training samples, applied to each row's "
            "samples; `translator_consistency`: that r over the r on held-out real samples (about 1 ideal; "
            "well below 1 = the modalities of a synthetic sample do not fit together; well above 1 = they are more tightly "
            "coupled than in real samples, or copied: the translator was fit on the training samples).\n\n"
            "On the course data the modalities are coupled only through the class, so `class Gaussian per "
            "modality` is the true model here: it is the bar to reach, not a weak baseline."
        )
        report.table("generation_multiomics", table, "Multi-omics generation, scored on held-out real samples.")
        report.figure(
            "generation_multiomics_crosscorr",
            _cross_correlation_figure(eval_reference, generators, modalities, seed=seed),
            "between-modality correlations, held-out real vs synthetic (on the diagonal = kept)",
        )
        worst = max(modalities, key=lambda m: table.loc["MultiOmicsGAN", f"{m}_two_sample_auc"])
        real_mod, syn_mod = eval_reference[worst].copy(), generators["MultiOmicsGAN"][worst].copy()
        real_mod.obs[labels_key] = eval_reference.obs.loc[real_mod.obs_names, labels_key].to_numpy()
        syn_mod.obs[labels_key] = generators["MultiOmicsGAN"].obs.loc[syn_mod.obs_names, labels_key].astype(str).to_numpy()
        report.figure(
            "generation_multiomics_pca",
            pl.real_vs_synthetic(real_mod, syn_mod, labels_key=labels_key, show=False),
            f"held-out real vs MultiOmicsGAN samples, {worst} (its hardest modality)",
        )
        report.figure("multiomics_gan_history", pl.history(mgan, show=False).figure, "MultiOmicsGAN training")
        mo_synthetic.write(out / "synthetic_multiomics.h5mu")
        synthetic_written.append("`synthetic_multiomics.h5mu`")
        report.text(
            f"`synthetic_multiomics.h5mu`: {mo_synthetic.n_obs} MultiOmicsGAN samples (as many per class as the "
            f"held-out half), every modality in its original units, `obs['{labels_key}']`, `obs['synthetic'] = True`."
        )
    else:
        report.section("Multi-omics generation")
        report.text(f"Skipped: the data have one modality ({', '.join(modalities)}); a multi-omics GAN needs two or more.")

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
            + f". Synthetic samples are kept apart in {', '.join(synthetic_written)} (`obs['synthetic']`)."
        )
    mdata.write(out / "data.h5mu")
    elapsed = time.perf_counter() - started
    path = report.write(
        f"# omixgan demo\n\nRun took {elapsed:.0f} s ({report.timings()}). Every table is also a CSV beside this file.\n"
    )
    print(f"\nwrote {path} and the tables, figures and data.h5mu in {out}/ ({elapsed:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omixgan", description="Deep generative models for multi-omics data.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="generation (mRNA, multi-omics) and translation on the bundled data (or a course-format folder), with baselines")
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
