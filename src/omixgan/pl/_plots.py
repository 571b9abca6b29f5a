"""Plots: real vs synthetic, training history, metric tables, translation quality, latent space.

Scanpy's conventions: ``show=None`` shows the figure when matplotlib draws to a screen or a
notebook and returns nothing; with a file-only backend (scripts, servers, the ``omixgan`` command)
nothing is shown and the plot is returned. ``show=False`` returns the Axes of a single-panel plot
(the Figure of a multi-panel one), ``return_fig=True`` always the Figure. Single-panel plots
draw into ``ax=`` when given. Figures that omixgan creates take matplotlib's settings, as any
figure does (``rcParams["figure.dpi"]`` on screen and in notebooks); pass ``dpi=`` to
``fig.savefig`` (or set ``rcParams["savefig.dpi"]``) for print resolution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import anndata as ad
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from .._utils import get_matrix

_FILE_BACKENDS = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template"}


def _new_figure(ncols: int = 1, *, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def _axes_of(ax: Axes | None, *, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, axes = _new_figure(width=width, height=height)
    return fig, axes[0]


def _finish(fig: Figure, obj, *, show: bool | None, return_fig: bool):
    """Show and/or return, as scanpy does."""
    if show is None:
        show = matplotlib.get_backend().lower() not in _FILE_BACKENDS
    if show:
        plt.show()
    if return_fig:
        return fig
    return None if show else obj


def real_vs_synthetic(
    real: ad.AnnData,
    synthetic: ad.AnnData,
    *,
    labels_key: str | None = None,
    basis: str = "pca",
    layer: str | None = None,
    random_state: int = 0,
    show: bool | None = None,
    return_fig: bool = False,
):
    """Real and synthetic samples in one embedding, colored by origin and by class.

    The embedding is fitted on the real samples (each feature standardised with the real
    samples' mean and standard deviation) and applied to both, so synthetic samples are seen in
    the real data's coordinates: a generator that misses part of the real distribution leaves it
    uncovered.

    Parameters
    ----------
    real
        Real samples, e.g. held-out ones.
    synthetic
        Generated samples with the same features in the same order.
    labels_key
        ``.obs`` column with the class, present in both; adds a second panel colored by class.
    basis
        ``"pca"`` (axes labelled with their explained variance) or ``"umap"`` (needs umap-learn).
    layer
        Layer to read instead of ``.X``, in both objects.
    random_state
        Seed of the embedding.
    show
        Show the figure; None: when matplotlib draws to a screen or notebook.
    return_fig
        Return the Figure even when it is shown.

    Returns
    -------
    Figure or None
        The Figure (one or two panels) unless it was shown.
    """
    if not real.var_names.equals(synthetic.var_names):
        raise ValueError("real and synthetic must have the same features in the same order.")
    for name, obj in (("real", real), ("synthetic", synthetic)):
        if labels_key is not None and labels_key not in obj.obs:
            raise KeyError(f"labels_key={labels_key!r} is not a column of {name}.obs.")
    X_real = get_matrix(real, layer, dtype=np.float64, allow_nan=False, name="real")
    X_syn = get_matrix(synthetic, layer, dtype=np.float64, allow_nan=False, name="synthetic")
    mean, sd = X_real.mean(axis=0), X_real.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    X_real, X_syn = (X_real - mean) / sd, (X_syn - mean) / sd
    if basis == "pca":
        model = PCA(n_components=2, random_state=random_state).fit(X_real)
        E_real, E_syn = model.transform(X_real), model.transform(X_syn)
        axis_names = [
            f"PC{i + 1} ({v:.0%} of variance)"
            for i, v in enumerate(model.explained_variance_ratio_)
        ]
    elif basis == "umap":
        import umap

        model = umap.UMAP(random_state=random_state).fit(X_real)
        E_real, E_syn = model.transform(X_real), model.transform(X_syn)
        axis_names = ["UMAP1", "UMAP2"]
    else:
        raise ValueError(f"basis must be 'pca' or 'umap', got {basis!r}.")
    fig, axes = _new_figure(2 if labels_key else 1, width=5.2, height=4.4)
    ax = axes[0]
    ax.scatter(*E_real.T, s=6, alpha=0.5, label=f"real ({len(E_real)})", color="#4c72b0")
    ax.scatter(*E_syn.T, s=6, alpha=0.5, label=f"synthetic ({len(E_syn)})", color="#dd8452")
    ax.set_title("by origin")
    ax.legend(markerscale=3, frameon=False)
    if labels_key:
        ax = axes[1]
        real_labels = real.obs[labels_key].astype(str).to_numpy()
        syn_labels = synthetic.obs[labels_key].astype(str).to_numpy()
        colors = plt.get_cmap("tab10")
        for i, c in enumerate(sorted(set(real_labels) | set(syn_labels))):
            color = colors(i % 10)
            ax.scatter(
                *E_real[real_labels == c].T,
                s=6,
                alpha=0.4,
                color=color,
                marker="o",
                label=f"{c} real",
            )
            ax.scatter(
                *E_syn[syn_labels == c].T,
                s=10,
                alpha=0.6,
                color=color,
                marker="x",
                label=f"{c} synthetic",
            )
        ax.set_title(f"by {labels_key} (o real, x synthetic)")
        ax.legend(markerscale=2, frameon=False, fontsize=7, ncol=2)
    for ax in axes:
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel(axis_names[1])
    fig.tight_layout()
    return _finish(fig, fig, show=show, return_fig=return_fig)


def history(model, *, ax: Axes | None = None, show: bool | None = None, return_fig: bool = False):
    """Training curves of a model.

    GANs: the validation score (distance between generated samples and the class's held-out
    validation samples: mean 1-D Wasserstein distance over features plus the square root of a
    multi-bandwidth kernel MMD, lower is better; step 0 is the Gaussian start, and a later
    snapshot replaces it only when it beats it) and the absolute critic loss, per evaluation, on
    a log scale. VAEs: training loss (left
    axis) and validation error (right axis) per epoch.

    Parameters
    ----------
    model
        A trained omixgan model (its ``history`` DataFrame is plotted).
    ax
        Axes to draw into; default a new figure.
    show
        Show the figure; None: when matplotlib draws to a screen or notebook.
    return_fig
        Return the Figure instead of the Axes.

    Returns
    -------
    Axes, Figure or None
        The Axes (the Figure with ``return_fig=True``) unless the plot was shown.
    """
    hist = getattr(model, "history", None)
    if hist is None or len(hist) == 0:
        raise ValueError("the model has no training history: train it first.")
    fig, ax = _axes_of(ax, width=6, height=4)
    handles = []
    if "gan" in hist.columns:
        for name, part in hist.groupby("gan", sort=False):
            line = ax.plot(part["step"], part["score"], label=f"{name}: validation score")[0]
            ax.plot(
                part["step"],
                part["critic_loss"].abs(),
                ls=":",
                color=line.get_color(),
                label=f"{name}: |critic loss|",
            )
        ax.set_xlabel("generator step")
        ax.set_ylabel("validation score, |critic loss| (log scale)")
        ax.set_yscale("log")
        handles, labels = ax.get_legend_handles_labels()
    else:
        ax.plot(hist["epoch"], hist["loss"], label="training loss")
        ax.set_ylabel("training loss")
        ax2 = ax.twinx()
        ax2.plot(hist["epoch"], hist["validation"], color="#c44e52", label="validation error")
        ax2.set_ylabel("validation error")
        ax.set_xlabel("epoch")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = h1 + h2, l1 + l2
    ax.set_title(f"{type(model).__name__} training")
    ax.legend(handles, labels, frameon=False, fontsize=8)
    return _finish(fig, ax, show=show, return_fig=return_fig)


def generation_report(
    table: pd.DataFrame,
    *,
    metrics: Sequence[str] = ("two_sample_auc", "dcr_ratio", "tstr_macro_f1"),
    show: bool | None = None,
    return_fig: bool = False,
):
    """Bar charts of the main columns of :func:`omixgan.tl.evaluate_generation`'s table.

    One panel per metric, one bar per row of the table (generator or baseline), the ideal value
    marked (two-sample AUC 0.5, DCR ratio 1). Rows without a value (the ``real train`` row has
    no AUC or DCR ratio) get no bar and an "n/a" on their own line, so every bar stays beside
    its label.

    Parameters
    ----------
    table
        Output of :func:`omixgan.tl.evaluate_generation` (or any table with these columns).
    metrics
        Columns to plot, one panel each.
    show
        Show the figure; None: when matplotlib draws to a screen or notebook.
    return_fig
        Return the Figure even when it is shown.

    Returns
    -------
    Figure or None
        The Figure unless it was shown.
    """
    metrics = list(metrics)
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the table; it has {list(table.columns)}.")
    ideal = {"two_sample_auc": 0.5, "dcr_ratio": 1.0}
    n = len(table)
    fig, axes = _new_figure(len(metrics), width=4.2, height=0.45 * n + 1.5)
    positions = np.arange(n)
    for ax, metric in zip(axes, metrics):
        values = pd.to_numeric(table[metric], errors="coerce").to_numpy(dtype=float)
        known = ~np.isnan(values)
        ax.barh(positions[known], values[known], color="#4c72b0", height=0.7)
        for i in positions[~known]:
            ax.text(
                0.01,
                i,
                "n/a",
                va="center",
                ha="left",
                fontsize=8,
                color="0.4",
                transform=ax.get_yaxis_transform(),
            )
        for i in positions[known]:
            ax.text(values[i], i, f" {values[i]:.3f}", va="center", ha="left", fontsize=7)
        ax.set_yticks(
            positions, labels=[str(r) for r in table.index] if ax is axes[0] else [""] * n
        )
        ax.set_ylim(n - 0.5, -0.5)  # first row on top, every row at its own tick
        if metric in ideal:
            ax.axvline(ideal[metric], color="k", ls="--", lw=1, label="ideal")
        ax.set_xlabel(metric)
        ax.margins(x=0.25)
    fig.tight_layout()
    return _finish(fig, fig, show=show, return_fig=return_fig)


def translation(
    table: pd.DataFrame,
    *,
    true: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    features: Sequence[int] | None = None,
    show: bool | None = None,
    return_fig: bool = False,
):
    """Translation quality: the per-feature Pearson r of every method, and true vs predicted.

    The first panel is a histogram of the per-feature Pearson r (held-out samples) of every
    method of :func:`omixgan.tl.evaluate_translation`; the feature-mean baseline is left out (its
    r is undefined). Passing ``true`` and ``predicted`` matrices and up to four feature
    positions adds one scatter panel per feature.

    Parameters
    ----------
    table
        Output of :func:`omixgan.tl.evaluate_translation` (its ``attrs["per_feature"]`` is used).
    true, predicted
        Measured and predicted target values, samples x features, same order.
    features
        Positions of the features to scatter (at most four are drawn).
    show
        Show the figure; None: when matplotlib draws to a screen or notebook.
    return_fig
        Return the Figure even when it is shown.

    Returns
    -------
    Figure or None
        The Figure unless it was shown.
    """
    per_feature = table.attrs.get("per_feature")
    if per_feature is None:
        raise ValueError(
            "the table has no per-feature scores: pass the output of "
            "omixgan.tl.evaluate_translation."
        )
    scatter = true is not None and predicted is not None
    features = list(features or [])[:4] if scatter else []
    fig, axes = _new_figure(1 + len(features), width=5, height=4)
    ax = axes[0]
    bins = np.linspace(-0.5, 1.0, 31)
    for name in per_feature.columns:
        if name == "feature mean":
            continue
        ax.hist(
            per_feature[name],
            bins=bins,
            histtype="step",
            lw=1.5,
            label=f"{name} (mean {per_feature[name].mean():.3f})",
        )
    ax.set_xlabel("per-feature Pearson r (held-out samples)")
    ax.set_ylabel("features")
    ax.legend(frameon=False, fontsize=7)
    if features:
        true, predicted = np.asarray(true), np.asarray(predicted)
    for ax, j in zip(axes[1:], features):
        ax.scatter(true[:, j], predicted[:, j], s=8, alpha=0.6)
        lo, hi = np.nanmin(true[:, j]), np.nanmax(true[:, j])
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_title(f"{per_feature.index[j]} (r = {per_feature.iloc[j, 0]:.3f})")
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
    fig.tight_layout()
    return _finish(fig, fig, show=show, return_fig=return_fig)


def latent(
    mdata,
    *,
    key: str = "X_omixgan",
    color: str | None = None,
    ax: Axes | None = None,
    show: bool | None = None,
    return_fig: bool = False,
):
    """The joint latent space in 2-D PCA, one marker per modality.

    Draws ``mdata[mod].obsm[key]`` of every modality (written by :func:`omixgan.tl.embed`),
    colored by ``color`` or by modality. Well-aligned modalities overlap: a sample's codes from
    different modalities land in the same place.

    Parameters
    ----------
    mdata
        MuData after :func:`omixgan.tl.embed`.
    key
        The ``.obsm`` key of the codes (``key_added`` of :func:`omixgan.tl.embed`).
    color
        A column of ``mdata.obs`` to color by; None colors by modality.
    ax
        Axes to draw into; default a new figure.
    show
        Show the figure; None: when matplotlib draws to a screen or notebook.
    return_fig
        Return the Figure instead of the Axes.

    Returns
    -------
    Axes, Figure or None
        The Axes (the Figure with ``return_fig=True``) unless the plot was shown.
    """
    blocks = [
        (mod, adata.obsm[key], adata.obs_names)
        for mod, adata in mdata.mod.items()
        if key in adata.obsm
    ]
    if not blocks:
        raise KeyError(f"no modality has obsm[{key!r}]; run omixgan.tl.embed first.")
    if color is not None and color not in mdata.obs:
        raise KeyError(f"color={color!r} is not a column of mdata.obs.")
    stacked = np.vstack([np.asarray(b[1]) for b in blocks])
    coords = (
        PCA(n_components=2, random_state=0).fit_transform(stacked)
        if stacked.shape[1] > 2
        else stacked
    )
    fig, ax = _axes_of(ax, width=5.5, height=4.5)
    markers = ["o", "x", "^", "s", "d"]
    cmap = plt.get_cmap("tab10")
    start = 0
    for i, (mod, codes, names) in enumerate(blocks):
        part = coords[start : start + len(codes)]
        start += len(codes)
        if color is None:
            ax.scatter(*part.T, s=8, alpha=0.5, marker=markers[i % 5], color=cmap(i), label=mod)
        else:
            labels = mdata.obs.loc[names, color].astype(str).to_numpy()
            for k, c in enumerate(sorted(set(labels))):
                sel = labels == c
                ax.scatter(
                    *part[sel].T,
                    s=8,
                    alpha=0.5,
                    marker=markers[i % 5],
                    color=cmap(k % 10),
                    label=f"{c} ({mod})",
                )
    ax.set_xlabel("latent PC1")
    ax.set_ylabel("latent PC2")
    ax.legend(frameon=False, fontsize=7, markerscale=2)
    return _finish(fig, ax, show=show, return_fig=return_fig)


def cross_correlation(
    reference,
    synthetic: Mapping[str, object],
    *,
    modalities: Sequence[str] | None = None,
    max_points: int = 4000,
    random_state: int = 0,
    show: bool | None = None,
    return_fig: bool = False,
):
    """Correlations *between* modalities: real (x) against synthetic (y), one panel per pair.

    For every pair of modalities, every (feature of one, feature of the other) correlation in
    the real samples is plotted against the same correlation in each generator's samples.
    Points on the diagonal: the generator kept how the modalities go together; points on a
    horizontal line through 0: it generated each modality independently. The legend gives the
    RMS difference per generator (the ``cross_correlation_distance`` of
    :func:`omixgan.tl.evaluate_multiomics_generation`, for one pair).

    Parameters
    ----------
    reference
        Real samples (MuData), e.g. held-out ones.
    synthetic
        ``{name: MuData}`` of generated samples with the same modalities and features.
    modalities
        Modalities to pair; default: those of ``reference`` that every generator has.
    max_points
        At most this many correlations drawn per panel (a random subset; the RMS difference
        uses all of them).
    random_state
        Seed of that subset.
    show
        Show the figure; None: when matplotlib draws to a screen or notebook.
    return_fig
        Return the Figure even when it is shown.

    Returns
    -------
    Figure or None
        The Figure unless it was shown.
    """
    if modalities is None:
        modalities = [m for m in reference.mod if all(m in obj.mod for obj in synthetic.values())]
    modalities = list(modalities)
    if len(modalities) < 2:
        raise ValueError(f"cross_correlation needs two or more modalities, got {modalities}.")

    def block(mdata, a: str, b: str) -> np.ndarray:
        Xa = get_matrix(mdata[a], dtype=np.float64, allow_nan=False, name=f"modality {a!r}")
        Xb = get_matrix(mdata[b], dtype=np.float64, allow_nan=False, name=f"modality {b!r}")
        if Xa.shape[0] != Xb.shape[0] or not mdata[a].obs_names.equals(mdata[b].obs_names):
            common = mdata[a].obs_names.intersection(mdata[b].obs_names)
            Xa = Xa[mdata[a].obs_names.get_indexer(common)]
            Xb = Xb[mdata[b].obs_names.get_indexer(common)]
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(Xa, Xb, rowvar=False)[: Xa.shape[1], Xa.shape[1] :]
        return np.nan_to_num(corr).ravel()

    pairs = [(a, b) for i, a in enumerate(modalities) for b in modalities[i + 1 :]]
    fig, axes = _new_figure(len(pairs), width=4.2, height=4.0)
    rng = np.random.default_rng(random_state)
    colors = plt.get_cmap("tab10")
    for ax, (a, b) in zip(axes, pairs):
        real = block(reference, a, b)
        pick = rng.choice(len(real), min(max_points, len(real)), replace=False)
        for k, (name, obj) in enumerate(synthetic.items()):
            syn = block(obj, a, b)
            rms = float(np.sqrt(np.mean((syn - real) ** 2)))
            ax.scatter(
                real[pick],
                syn[pick],
                s=3,
                alpha=0.4,
                color=colors(1 + k % 9),
                label=f"{name}: RMS diff {rms:.3f}",
                rasterized=True,
            )
        lim = max(1e-3, float(np.abs(real).max()))
        ax.plot([-lim, lim], [-lim, lim], color="0.3", lw=0.8)
        ax.set_xlabel(f"corr({a}, {b}), real")
        ax.set_ylabel(f"corr({a}, {b}), synthetic")
        ax.set_title(f"{a} x {b}")
        ax.legend(frameon=False, fontsize=7, markerscale=3)
    fig.tight_layout()
    return _finish(fig, fig, show=show, return_fig=return_fig)
