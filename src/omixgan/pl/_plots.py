"""Plots: real vs synthetic, training history, metric tables, translation quality, latent space.

Every function draws into ``ax`` (or a new figure), shows the figure when ``show=True`` and
otherwise returns the Axes (or Figure for multi-panel plots). Save with ``fig.savefig``.
"""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.decomposition import PCA


def _finish(fig, obj, show: bool):
    if show:
        plt.show()
        return None
    return obj


def _dense(adata: ad.AnnData) -> np.ndarray:
    X = adata.X
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)


def real_vs_synthetic(
    real: ad.AnnData,
    synthetic: ad.AnnData,
    *,
    labels_key: str | None = None,
    basis: str = "pca",
    show: bool = True,
    random_state: int = 0,
):
    """Real and synthetic samples in one embedding, colored by origin and by class.

    The embedding (PCA, or UMAP with ``basis="umap"``, which needs umap-learn) is fitted on the real
    samples and applied to both, so synthetic samples are seen in the real data's coordinates.

    Returns the Figure (two panels: by origin, by class) when ``show=False``.
    """
    if not real.var_names.equals(synthetic.var_names):
        raise ValueError("real and synthetic must have the same features in the same order.")
    X_real, X_syn = _dense(real), _dense(synthetic)
    mean, sd = X_real.mean(axis=0), X_real.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    X_real, X_syn = (X_real - mean) / sd, (X_syn - mean) / sd
    if basis == "pca":
        model = PCA(n_components=2, random_state=random_state).fit(X_real)
        E_real, E_syn = model.transform(X_real), model.transform(X_syn)
        axis_names = [f"PC{i + 1} ({v:.0%})" for i, v in enumerate(model.explained_variance_ratio_)]
    elif basis == "umap":
        import umap

        model = umap.UMAP(random_state=random_state).fit(X_real)
        E_real, E_syn = model.transform(X_real), model.transform(X_syn)
        axis_names = ["UMAP1", "UMAP2"]
    else:
        raise ValueError(f"basis must be 'pca' or 'umap', got {basis!r}.")
    n_panels = 2 if labels_key else 1
    fig, axes = plt.subplots(1, n_panels, figsize=(5.2 * n_panels, 4.4), squeeze=False)
    ax = axes[0, 0]
    ax.scatter(*E_real.T, s=6, alpha=0.5, label=f"real ({len(E_real)})", color="#4c72b0")
    ax.scatter(*E_syn.T, s=6, alpha=0.5, label=f"synthetic ({len(E_syn)})", color="#dd8452")
    ax.set_title("by origin")
    ax.legend(markerscale=3, frameon=False)
    if labels_key:
        ax = axes[0, 1]
        classes = sorted(set(real.obs[labels_key].astype(str)) | set(synthetic.obs[labels_key].astype(str)))
        colors = plt.get_cmap("tab10")
        for i, c in enumerate(classes):
            r = real.obs[labels_key].astype(str).to_numpy() == c
            s = synthetic.obs[labels_key].astype(str).to_numpy() == c
            ax.scatter(*E_real[r].T, s=6, alpha=0.4, color=colors(i % 10), marker="o", label=f"{c} real")
            ax.scatter(*E_syn[s].T, s=10, alpha=0.6, color=colors(i % 10), marker="x", label=f"{c} synthetic")
        ax.set_title(f"by {labels_key} (o real, x synthetic)")
        ax.legend(markerscale=2, frameon=False, fontsize=7, ncol=2)
    for ax in axes[0]:
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel(axis_names[1])
    fig.tight_layout()
    return _finish(fig, fig, show)


def history(model, *, ax=None, show: bool = True):
    """Training curves of a model: GAN losses and the selection score per evaluation, or VAE
    losses and validation error per epoch. Returns the Axes when ``show=False``."""
    hist = getattr(model, "history", None)
    if hist is None or len(hist) == 0:
        raise ValueError("the model has no training history: train it first.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    if "gan" in hist.columns:
        for name, part in hist.groupby("gan", sort=False):
            line = ax.plot(part["step"], part["score"], label=f"{name}: Fréchet score")[0]
            ax.plot(part["step"], part["critic_loss"].abs(), ls=":", color=line.get_color(), label=f"{name}: |critic loss|")
        ax.set_xlabel("generator step")
        ax.set_yscale("log")
    else:
        ax.plot(hist["epoch"], hist["loss"], label="training loss")
        ax2 = ax.twinx()
        ax2.plot(hist["epoch"], hist["validation"], color="#c44e52", label="validation error")
        ax2.set_ylabel("validation error")
        ax2.legend(loc="upper center", frameon=False)
        ax.set_xlabel("epoch")
    ax.set_title(f"{type(model).__name__} training")
    ax.legend(frameon=False, fontsize=8)
    return _finish(fig, ax, show)


def generation_report(table: pd.DataFrame, *, metrics: tuple[str, ...] = ("two_sample_auc", "dcr_ratio", "tstr_macro_f1"), show: bool = True):
    """Bar charts of the main columns of :func:`omixgan.tl.evaluate_generation`'s table, with the
    ideal value marked (AUC 0.5, DCR ratio 1). Returns the Figure when ``show=False``."""
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the table; it has {list(table.columns)}.")
    ideal = {"two_sample_auc": 0.5, "dcr_ratio": 1.0}
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 0.45 * len(table) + 1.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        values = table[metric]
        ax.barh(range(len(values)), values.fillna(0).to_numpy(), color="#4c72b0")
        for i, v in enumerate(values):
            if np.isnan(v):  # e.g. the "real train" row has no AUC or DCR
                ax.text(0, i, " n/a", va="center", fontsize=8, color="0.4")
        ax.set_yticks(range(len(values)), labels=list(table.index) if ax is axes[0, 0] else [""] * len(values))
        ax.invert_yaxis()
        if metric in ideal:
            ax.axvline(ideal[metric], color="k", ls="--", lw=1)
        ax.set_title(metric)
    fig.tight_layout()
    return _finish(fig, fig, show)


def translation(
    table: pd.DataFrame,
    *,
    true: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    features: list[int] | None = None,
    show: bool = True,
):
    """Translation quality: histogram of per-feature Pearson r for every method of
    :func:`omixgan.tl.evaluate_translation`, and optionally true vs predicted values of a few
    features (pass ``true`` and ``predicted`` matrices and feature positions).
    Returns the Figure when ``show=False``."""
    per_feature = table.attrs.get("per_feature")
    if per_feature is None:
        raise ValueError("the table has no per-feature scores: pass the output of omixgan.tl.evaluate_translation.")
    scatter = true is not None and predicted is not None
    features = list(features or [])[:4] if scatter else []
    n_panels = 1 + len(features)
    fig, axes = plt.subplots(1, n_panels, figsize=(5 * n_panels, 4), squeeze=False)
    ax = axes[0, 0]
    bins = np.linspace(-0.5, 1.0, 31)
    for name in per_feature.columns:
        if name == "feature mean":
            continue
        ax.hist(per_feature[name], bins=bins, histtype="step", lw=1.5, label=f"{name} (mean {per_feature[name].mean():.2f})")
    ax.set_xlabel("per-feature Pearson r (held-out samples)")
    ax.set_ylabel("features")
    ax.legend(frameon=False, fontsize=7)
    for ax, j in zip(axes[0, 1:], features):
        ax.scatter(np.asarray(true)[:, j], np.asarray(predicted)[:, j], s=8, alpha=0.6)
        lo, hi = np.nanmin(true[:, j]), np.nanmax(true[:, j])
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_title(f"{per_feature.index[j]} (r = {per_feature.iloc[j, 0]:.2f})")
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
    fig.tight_layout()
    return _finish(fig, fig, show)


def latent(mdata, *, key: str = "X_omixgan", color: str | None = None, show: bool = True, ax=None):
    """The joint latent space (``mdata[mod].obsm[key]`` of every modality, from
    :func:`omixgan.tl.embed`) in 2-D PCA, one marker per modality, colored by ``color`` (an
    ``mdata.obs`` column) or by modality. Well-aligned modalities overlap.
    Returns the Axes when ``show=False``."""
    blocks = [(mod, adata.obsm[key], adata.obs_names) for mod, adata in mdata.mod.items() if key in adata.obsm]
    if not blocks:
        raise KeyError(f"no modality has obsm[{key!r}]; run omixgan.tl.embed first.")
    if color is not None and color not in mdata.obs:
        raise KeyError(f"color={color!r} is not a column of mdata.obs.")
    stacked = np.vstack([b[1] for b in blocks])
    coords = PCA(n_components=2, random_state=0).fit_transform(stacked) if stacked.shape[1] > 2 else stacked
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
    else:
        fig = ax.figure
    markers = ["o", "x", "^", "s", "d"]
    start = 0
    cmap = plt.get_cmap("tab10")
    for i, (mod, codes, names) in enumerate(blocks):
        part = coords[start : start + len(codes)]
        start += len(codes)
        if color is None:
            ax.scatter(*part.T, s=8, alpha=0.5, marker=markers[i % 5], color=cmap(i), label=mod)
        else:
            labels = mdata.obs.loc[names, color].astype(str).to_numpy()
            for k, c in enumerate(sorted(set(labels))):
                sel = labels == c
                ax.scatter(*part[sel].T, s=8, alpha=0.5, marker=markers[i % 5], color=cmap(k % 10), label=f"{c} ({mod})")
    ax.set_xlabel("latent PC1")
    ax.set_ylabel("latent PC2")
    ax.legend(frameon=False, fontsize=7, markerscale=2)
    return _finish(fig, ax, show)
