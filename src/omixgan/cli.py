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
        lines.append(
            f"  {mod:<6} {adata.n_obs:>6} samples x {adata.n_vars:>5} features, {n_missing} "
            "missing values"
        )
    if labels_key in mdata.obs:
        counts = mdata.obs[labels_key].value_counts().sort_index()
        lines.append(
            f"  classes ({labels_key}): " + ", ".join(f"{k}: {v}" for k, v in counts.items())
        )
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
        return "; ".join(
            f"{name} {end - start:.0f} s" for (name, start), end in zip(self.starts, ends)
        )

    def text(self, text: str) -> None:
        print(text)
        self.parts.append(text + "\n")

    def table(self, name: str, table, caption: str) -> None:
        table.to_csv(self.out / f"{name}.csv")
        print(table.round(3).to_string())
        self.parts.append(
            f"{caption} ([{name}.csv]({name}.csv))\n\n{table.round(3).to_markdown()}\n"
        )

    def figure(self, name: str, fig, caption: str) -> None:
        import matplotlib.pyplot as plt

        fig.savefig(self.out / f"{name}.png", dpi=150, bbox_inches="tight")
        plt.close(fig)
        self.parts.append(f"![{caption}]({name}.png)\n")

    def write(self, header: str) -> Path:
        path = self.out / "report.md"
        path.write_text(header + "\n".join(self.parts))
        return path


def _prepare_out(out: Path) -> Path:
    """Create ``out`` and make sure files can be written there, before any training starts."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(
            f"--out '{out}' is an existing file, not a folder: choose another path."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".omixgan-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise OSError(
            f"--out '{out}': cannot write there ({err.strerror or err}); choose another folder."
        ) from None
    if (out / "report.md").exists():
        print(
            f"omixgan: note: replacing the results of an earlier run in '{out}'.", file=sys.stderr
        )
    return out


class _Settings:
    """Steps and sample counts of a full run, or of a --quick one."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.gan_steps = 150 if quick else 1200
        self.multi_gan_steps = 150 if quick else 1200
        self.n_eval_mrna = 300  # --quick: held-out samples scored in the mRNA generation section
        self.n_eval = 200 if quick else 500  # held-out samples scored in the multi-omics section
        self.vae_train = {"max_epochs": 20 if quick else 300, "progress_bar": True}
        self.vae_model = {"n_models": 1} if quick else {}


def _split(data, labels_key: str, seed: int, names=None):
    """A stratified 50 / 50 split of ``names`` (default every sample) into two arrays."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    names = np.asarray(data.obs_names if names is None else names)
    labels = data.obs.loc[names, labels_key].astype(str).to_numpy()
    first, second = train_test_split(names, test_size=0.5, stratify=labels, random_state=seed)
    return first, second


def _what_training_chose(gan) -> str:
    """One sentence per class on what :meth:`OmicsGAN.train` kept: the start or a residual
    (its step and validation distance), so a reader can weigh the held-out table against it."""
    scores = ", ".join(f"{k} {v:.3f}" for k, v in (gan.start_scores_ or {}).items())
    lines = [
        f"What training chose on its validation samples: the {gan.marginals_} start"
        + (f" (validation distances of the starts: {scores}; lower is closer)." if scores else ".")
    ]
    h = gan.history
    if h is not None:
        for label, rows in h.groupby("gan", sort=False):
            start, kept = rows[rows["step"] == 0].iloc[0], rows[rows["kept"]].iloc[0]
            who = "The conditional GAN" if label == "all" else f"Class {label}"
            if kept["step"] == 0:
                lines.append(f"{who}: the start kept (distance {start['score']:.3f}).")
            else:
                lines.append(
                    f"{who}: the residual of step {int(kept['step'])} kept (distance "
                    f"{kept['score']:.3f} against the start's {start['score']:.3f})."
                )
    lines.append(
        "A residual is kept only when it beats the start on the validation samples, which are "
        "few: the held-out table below is the judge (the class Gaussian row is the start's "
        "family, fitted on every training sample)."
    )
    return " ".join(lines)


def _generation_mrna(report: _Report, mdata, labels_key: str, s: _Settings, seed: int) -> None:
    """Per-class OmicsGAN vs SMOTE on a stratified half of the mRNA, judged on the other half."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from . import models, pl, tl
    from ._utils import stratified_subset

    report.section("Generation (mRNA): per-class GAN vs SMOTE, held-out half as reference")
    rna = mdata["mrna"].copy()
    rna.obs[labels_key] = mdata.obs.loc[rna.obs_names, labels_key].astype(str).to_numpy()
    train_idx, test_idx = train_test_split(
        np.arange(rna.n_obs), test_size=0.5, stratify=rna.obs[labels_key], random_state=seed
    )
    train, reference = rna[train_idx].copy(), rna[test_idx].copy()
    if s.quick:  # the random-forest scores dominate the cost: score a stratified subset
        n_held_out = reference.n_obs
        reference = reference[
            stratified_subset(reference.obs_names, reference.obs[labels_key], s.n_eval_mrna, seed)
        ].copy()
        report.text(
            f"--quick: {s.gan_steps} generator steps per class (default 1200); scored on "
            f"{reference.n_obs} of the "
            f"{n_held_out} held-out samples (stratified), with as many synthetic samples per class."
        )
    counts = reference.obs[labels_key].value_counts().to_dict()
    models.OmicsGAN.setup_anndata(train, labels_key=labels_key)
    gan = models.OmicsGAN(train, per_class=True)
    t0 = time.perf_counter()
    gan.train(max_steps=s.gan_steps, seed=seed)
    gan_seconds = time.perf_counter() - t0
    report.text(_what_training_chose(gan))
    synthetic = {
        "OmicsGAN (per class)": gan.sample(counts, seed=seed),
        "SMOTE": tl.smote(train, labels_key=labels_key, n_per_class=counts, random_state=seed),
    }
    table = tl.evaluate_generation(
        train, synthetic, reference=reference, labels_key=labels_key, random_state=seed
    )
    report.table(
        "generation_mrna",
        table,
        f"GAN trained in {gan_seconds:.0f} s. Two-sample AUC 0.5 and DCR ratio 1 are ideal.",
    )
    gan_samples = synthetic["OmicsGAN (per class)"]
    report.figure(
        "generation_pca",
        pl.real_vs_synthetic(reference, gan_samples, labels_key=labels_key, show=False),
        "held-out real vs GAN samples",
    )
    report.figure(
        "generation_report", pl.generation_report(table, show=False), "generation metrics"
    )
    report.figure("gan_history", pl.history(gan, return_fig=True, show=False), "GAN training")
    for name, adata in synthetic.items():
        adata.write_h5ad(report.out / f"synthetic_{'gan' if 'GAN' in name else 'smote'}.h5ad")


def _translation(report: _Report, mdata, labels_key: str, s: _Settings, seed: int) -> list[str]:
    """CrossModalVAE vs baselines, mRNA to every other course modality, on held-out samples."""
    from . import pl, tl

    report.section("Translation: CrossModalVAE vs baselines on held-out samples")
    report.text(
        "On the course data the modalities are coupled only through the class, so the class-mean "
        "oracle is the best possible translation: no method can beat it here."
    )
    if s.quick:
        report.text(
            "--quick: the CrossModalVAE is one model (default: an ensemble of 3) trained for at "
            "most 20 epochs "
            "(default 300), and MOFA+ (an existing multi-omics factor model, a baseline of the "
            "full run) is left out."
        )
    targets = [m for m in ("meth", "prot") if m in mdata.mod]
    for target in targets:
        table = tl.evaluate_translation(
            mdata, "mrna", target, labels_key=labels_key, random_state=seed,
            model_kwargs=s.vae_model, train_kwargs=s.vae_train, mofa=not s.quick,
        )  # fmt: skip
        report.table(
            f"translation_mrna_{target}",
            table,
            f"mRNA -> {target}, mean per-feature Pearson r is the headline.",
        )
        report.figure(
            f"translation_mrna_{target}",
            pl.translation(table, show=False),
            f"per-feature r, mRNA -> {target}",
        )
    return targets


_MULTIOMICS_TEXT = (
    "{eval_n} of the {held_out_n} held-out samples (stratified) and as many synthetic ones per "
    "class "
    "(scoring took {eval_seconds:.0f} s). A two-sample AUC grows with the number of samples "
    "scored, so compare "
    "rows of this table with each other, not with tables scored on more samples (docs: benchmarks, "
    "multi-omics generation).\n\n"
    "Columns: per modality and `joint` (all modalities side by side), two-sample AUC (0.5 ideal) "
    "and "
    "DCR ratio (about 1 ideal, well below 1 = copying); `cross_correlation_distance`: RMS "
    "difference of "
    "the correlations *between* modalities, real vs synthetic (0 ideal; the control row shows its "
    "noise); "
    "`translator_r_*`: a ridge translator fit on the real training samples, applied to each row's "
    "samples; `translator_consistency`: that r over the r on held-out real samples (about 1 ideal; "
    "well below 1 = the modalities of a synthetic sample do not fit together; well above 1 = they "
    "are more "
    "tightly coupled than in real samples, or copied: the translator was fit on the training "
    "samples).\n\n"
    "On the course data the modalities are coupled only through the class, so `class Gaussian per "
    "modality` is the true model here: it is the bar to reach, not a weak baseline."
)


def _generation_multiomics(
    report: _Report, mdata, labels_key: str, s: _Settings, seed: int
) -> list[str]:
    """MultiOmicsGAN vs baselines on every modality at once; returns the synthetic files written."""
    import numpy as np

    from . import models, pl, tl
    from ._utils import first_per_class, stratified_subset

    modalities = list(mdata.mod)
    if len(modalities) < 2:
        report.section("Multi-omics generation")
        report.text(
            f"Skipped: the data have one modality ({', '.join(modalities)}); a multi-omics GAN "
            "needs two or more."
        )
        return []
    report.section(
        f"Multi-omics generation ({', '.join(modalities)}): MultiOmicsGAN vs baselines, held-out "
        "half as reference"
    )
    complete = mdata.obs_names
    for mod in modalities:
        complete = complete[complete.isin(mdata[mod].obs_names)]
    train_names, test_names = _split(mdata, labels_key, seed, names=complete)
    train, reference = mdata[np.sort(train_names)].copy(), mdata[np.sort(test_names)].copy()
    for obj in (train, reference):
        obj.obs[labels_key] = obj.obs[labels_key].astype(str)
    models.MultiOmicsGAN.setup_mudata(train, modalities=modalities, labels_key=labels_key)
    gan = models.MultiOmicsGAN(train)
    t0 = time.perf_counter()
    gan.train(max_steps=s.multi_gan_steps, seed=seed)
    gan_seconds = time.perf_counter() - t0
    synthetic = gan.sample(reference.obs[labels_key].value_counts().to_dict(), seed=seed)
    # the random-forest two-sample AUCs dominate the cost: score a stratified subset of the
    # held-out half (and as many synthetic samples per class)
    eval_reference = reference[
        stratified_subset(reference.obs_names, reference.obs[labels_key], s.n_eval, seed)
    ].copy()
    eval_counts = eval_reference.obs[labels_key].value_counts().to_dict()
    generators = {"MultiOmicsGAN": first_per_class(synthetic, labels_key, eval_counts)}
    if not s.quick:  # SMOTE's interpolation is shown by the mRNA section of a quick run
        generators["SMOTE (modalities side by side)"] = tl.smote_multiomics(
            train,
            labels_key=labels_key,
            n_per_class=eval_counts,
            modalities=modalities,
            random_state=seed,
        )
    t0 = time.perf_counter()
    table = tl.evaluate_multiomics_generation(
        train,
        generators,
        reference=eval_reference,
        modalities=modalities,
        labels_key=labels_key,
        random_state=seed,
    )
    eval_seconds = time.perf_counter() - t0
    steps_note = (
        f"--quick: the MultiOmicsGAN had only {s.multi_gan_steps} generator steps (default 1200), "
        "SMOTE on the "
        "modalities side by side (a row of the full run) is left out, and the scores use "
        if s.quick
        else f"MultiOmicsGAN with its default {s.multi_gan_steps} generator steps; the scores use "
    )
    report.text(
        f"One class-conditional WGAN-GP generates all {len(modalities)} modalities of a sample "
        "together "
        f"(trained on {train.n_obs} samples in {gan_seconds:.0f} s). {steps_note}"
        + _MULTIOMICS_TEXT.format(
            eval_n=eval_reference.n_obs, held_out_n=reference.n_obs, eval_seconds=eval_seconds
        )
    )
    report.table(
        "generation_multiomics", table, "Multi-omics generation, scored on held-out real samples."
    )
    report.figure(
        "generation_multiomics_crosscorr",
        pl.cross_correlation(
            eval_reference, generators, modalities=modalities, random_state=seed, show=False
        ),
        "between-modality correlations, held-out real vs synthetic (on the diagonal = kept)",
    )
    worst = max(modalities, key=lambda m: table.loc["MultiOmicsGAN", f"{m}_two_sample_auc"])
    real_mod, syn_mod = eval_reference[worst].copy(), generators["MultiOmicsGAN"][worst].copy()
    real_mod.obs[labels_key] = eval_reference.obs.loc[real_mod.obs_names, labels_key].to_numpy()
    syn_mod.obs[labels_key] = (
        generators["MultiOmicsGAN"].obs.loc[syn_mod.obs_names, labels_key].astype(str).to_numpy()
    )
    report.figure(
        "generation_multiomics_pca",
        pl.real_vs_synthetic(real_mod, syn_mod, labels_key=labels_key, show=False),
        f"held-out real vs MultiOmicsGAN samples, {worst} (its hardest modality)",
    )
    report.figure(
        "multiomics_gan_history",
        pl.history(gan, return_fig=True, show=False),
        "MultiOmicsGAN training",
    )
    synthetic.write(report.out / "synthetic_multiomics.h5mu")
    report.text(
        f"`synthetic_multiomics.h5mu`: {synthetic.n_obs} MultiOmicsGAN samples (as many per class "
        "as the "
        f"held-out half), every modality in its original units, `obs['{labels_key}']`, "
        "`obs['synthetic'] = True`."
    )
    return ["`synthetic_multiomics.h5mu`"]


def _written_back(
    report: _Report,
    mdata,
    labels_key: str,
    targets: list[str],
    synthetic_files: list[str],
    s: _Settings,
    seed: int,
) -> None:
    """Translations and the joint latent space of one CrossModalVAE on every sample, into
    ``mdata``."""
    from . import models, pl, tl

    report.section("Everything written back into the MuData")
    models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", *targets], labels_key=labels_key)
    vae = models.CrossModalVAE(mdata, **s.vae_model)
    vae.train(seed=seed, **s.vae_train)
    for target in targets:
        tl.translate(mdata, "mrna", target, model=vae)
    tl.embed(mdata, vae)
    report.figure(
        "latent",
        pl.latent(mdata, color=labels_key, return_fig=True, show=False),
        "joint latent space",
    )
    report.text(
        "`data.h5mu`: `obsm['X_omixgan']` (joint latent space), "
        + ", ".join(
            f"`{t}_from_mrna` (translated {t}), `mdata['{t}'].layers['translated_from_mrna']`"
            for t in targets
        )
        + f". Synthetic samples are kept apart in {', '.join(synthetic_files)} "
        "(`obs['synthetic']`)."
    )


def demo(data: Path | None, out: Path, quick: bool, seed: int = 0) -> int:
    """Generation (mRNA and multi-omics) and translation on the course data, with every baseline;
    results (report.md, CSV tables, PNG figures, .h5ad / .h5mu data) to ``out``."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    # mudata's notices about its future defaults concern columns the demo never pulls
    warnings.filterwarnings("ignore", category=FutureWarning, module="mudata")
    warnings.filterwarnings("ignore", message="Cannot join columns with the same name")
    from . import datasets, read_course

    started = time.perf_counter()
    labels_key = "cluster"
    mdata = read_course(data) if data is not None else datasets.course(n_samples=2000)
    source = f"course folder '{data}'" if data is not None else "bundled course data (2000 samples)"
    if labels_key not in mdata.obs:
        raise ValueError(f"the demo needs class labels: '{data}' has no clusters.txt.")
    if "mrna" not in mdata.mod:
        raise ValueError("the demo needs an mRNA modality (mRNA.txt).")
    report = _Report(_prepare_out(out))
    settings = _Settings(quick)
    report.section("Data")
    report.text(
        "omixgan demo on the "
        f"{source}{' (--quick)' if quick else ''}\n\n```\n{_summary(mdata, labels_key)}\n```"
    )

    _generation_mrna(report, mdata, labels_key, settings, seed)
    targets = _translation(report, mdata, labels_key, settings, seed)
    synthetic_files = ["`synthetic_gan.h5ad`", "`synthetic_smote.h5ad`"]
    synthetic_files += _generation_multiomics(report, mdata, labels_key, settings, seed)
    if targets:
        _written_back(report, mdata, labels_key, targets, synthetic_files, settings, seed)

    mdata.write(out / "data.h5mu")
    elapsed = time.perf_counter() - started
    path = report.write(
        f"# omixgan demo\n\nRun took {elapsed:.0f} s ({report.timings()}). Every table is also a "
        "CSV beside this file.\n"
    )
    print(f"\nwrote {path} and the tables, figures and data.h5mu in {out}/ ({elapsed:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="omixgan", description="Deep generative models for multi-omics data."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser(
        "demo",
        help="generation (mRNA, multi-omics) and translation on the bundled data "
        "(or a course-format folder), with baselines",
    )
    p_demo.add_argument(
        "--data",
        type=Path,
        default=None,
        help="a course-format folder (default: bundled 2000-sample data)",
    )
    p_demo.add_argument(
        "--out",
        type=Path,
        default=Path("omixgan_demo"),
        help="output folder (default: ./omixgan_demo)",
    )
    p_demo.add_argument(
        "--quick",
        action="store_true",
        help="far fewer training steps: a first look in about two minutes",
    )
    p_demo.add_argument("--seed", type=int, default=0, help="seed of splits and models (default 0)")
    args = parser.parse_args(argv)
    try:
        return demo(args.data, args.out, args.quick, args.seed)
    except (OSError, ValueError, KeyError) as err:  # bad input or output path: one clear line
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"omixgan: error: {message}", file=sys.stderr)
        return 2
