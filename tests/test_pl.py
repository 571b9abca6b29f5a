from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import anndata as ad
import matplotlib.pyplot as plt
import mudata as md
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import omixgan as og


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _adata(n=60, seed=0):
    rng = np.random.default_rng(seed)
    obs = pd.DataFrame(
        {"cls": pd.Categorical(np.repeat(["a", "b"], n // 2))}, index=[f"s{i}" for i in range(n)]
    )
    return ad.AnnData(rng.normal(size=(n, 4)).astype(np.float32), obs=obs)


def _paired(n=120, seed=0):
    """Two modalities driven by one shared factor, with a class label."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 2))
    names = [f"s{i}" for i in range(n)]
    a = factor @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(n, 8))
    b = factor @ rng.normal(size=(2, 6)) + 0.3 * rng.normal(size=(n, 6))
    mods = {
        "mrna": ad.AnnData(
            a.astype(np.float32),
            obs=pd.DataFrame(index=names),
            var=pd.DataFrame(index=[f"g{j}" for j in range(8)]),
        ),
        "prot": ad.AnnData(
            b.astype(np.float32),
            obs=pd.DataFrame(index=names),
            var=pd.DataFrame(index=[f"p{j}" for j in range(6)]),
        ),
    }
    mdata = md.MuData(mods)
    mdata.obs["cls"] = pd.Categorical(np.where(factor[:, 0] > 0, "hi", "lo"))
    return mdata


class _FakeModel:
    """Anything with a ``history`` DataFrame can be plotted."""

    def __init__(self, history: pd.DataFrame):
        self.history = history


VAE_HISTORY = pd.DataFrame(
    {"epoch": [0, 1, 2], "loss": [3.0, 2.0, 1.5], "validation": [1.0, 0.8, 0.7]}
)
GAN_HISTORY = pd.DataFrame(
    {
        "gan": ["1", "1", "2", "2"],
        "step": [25, 50, 25, 50],
        "score": [4.0, 2.0, 5.0, 3.0],
        "critic_loss": [-1.0, -0.5, -2.0, -1.0],
    }
)


def test_real_vs_synthetic_and_report_return_figures():
    real = _adata()
    synthetic = og.tl.class_gaussian(real, labels_key="cls", n_per_class=20)
    fig = og.pl.real_vs_synthetic(real, synthetic, labels_key="cls", show=False)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_xlabel().startswith("PC1") and fig.axes[0].get_ylabel().startswith("PC2")
    with pytest.raises(ValueError, match="same features"):
        og.pl.real_vs_synthetic(real, synthetic[:, ::-1].copy(), show=False)
    with pytest.raises(KeyError, match="labels_key='nope'"):
        og.pl.real_vs_synthetic(real, synthetic, labels_key="nope", show=False)


def test_show_none_returns_the_plot_on_a_file_backend_and_nothing_when_shown(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    model = _FakeModel(VAE_HISTORY)
    # Agg draws to files only: show=None returns the Axes, as show=False does
    assert isinstance(og.pl.history(model), Axes) and not shown
    # show=True shows and returns nothing (scanpy); return_fig still returns the Figure
    assert og.pl.history(model, show=True) is None and shown == [True]
    assert isinstance(og.pl.history(model, show=True, return_fig=True), Figure)
    # an interactive backend: show=None shows
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "QtAgg")
    assert og.pl.history(model) is None and len(shown) == 3


def test_history_labels_both_axes_and_draws_into_a_given_ax():
    fig, ax = plt.subplots()
    out = og.pl.history(_FakeModel(VAE_HISTORY), ax=ax, show=False)
    assert out is ax
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "training loss"
    twin = [a for a in fig.axes if a is not ax]
    assert len(twin) == 1 and twin[0].get_ylabel() == "validation error"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "training loss",
        "validation error",
    }

    ax = og.pl.history(_FakeModel(GAN_HISTORY), show=False)
    assert ax.get_xlabel() == "generator step" and "validation score" in ax.get_ylabel()
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="train it first"):
        og.pl.history(_FakeModel(None), show=False)


def test_generation_report_bars_stay_beside_their_labels_when_a_value_is_nan():
    table = pd.DataFrame(
        {
            "two_sample_auc": [0.5, np.nan, 0.9],
            "dcr_ratio": [1.0, np.nan, 0.3],
            "tstr_macro_f1": [1.0, 0.95, 0.9],
        },
        index=["held-out real", "real train", "SMOTE"],
    )
    fig = og.pl.generation_report(table, show=False)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    first = fig.axes[0]
    ticks = dict(zip([t.get_text() for t in first.get_yticklabels()], first.get_yticks()))
    assert ticks == {"held-out real": 0, "real train": 1, "SMOTE": 2}
    for ax, metric in zip(fig.axes, table.columns):
        bars = {round(p.get_y() + p.get_height() / 2, 6): p.get_width() for p in ax.patches}
        expected = {float(i): v for i, v in enumerate(table[metric]) if not np.isnan(v)}
        assert bars == pytest.approx(expected)  # each bar at its row's tick, with its row's value
        na = [t for t in ax.texts if t.get_text() == "n/a"]
        assert [t.get_position()[1] for t in na] == [
            i for i, v in enumerate(table[metric]) if np.isnan(v)
        ]
        assert ax.get_ylim() == (2.5, -0.5)  # the same rows on every panel, first on top
    assert fig.dpi == plt.rcParams["figure.dpi"]  # the user's setting, not ours
    with pytest.raises(KeyError, match="not in the table"):
        og.pl.generation_report(table, metrics=("mmd",), show=False)


def test_history_latent_translation_with_a_trained_model():
    mdata = _paired()
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "prot"])
    vae = og.models.CrossModalVAE(mdata, n_latent=3, n_models=1)
    vae.train(max_epochs=5, progress_bar=False)
    assert isinstance(og.pl.history(vae, show=False), Axes)
    og.tl.embed(mdata, vae)
    ax = og.pl.latent(mdata, color="cls", show=False)
    assert isinstance(ax, Axes) and ax.get_xlabel() == "latent PC1"
    assert isinstance(og.pl.latent(mdata, show=False, return_fig=True), Figure)
    with pytest.raises(KeyError, match="run omixgan.tl.embed"):
        og.pl.latent(mdata, key="nope", show=False)

    per_feature = pd.DataFrame(
        {"ridge": np.linspace(0, 1, 6), "feature mean": np.zeros(6)}, index=mdata["prot"].var_names
    )
    table = pd.DataFrame({"per_feature_pearson": [0.5, 0.0]}, index=["ridge", "feature mean"])
    table.attrs["per_feature"] = per_feature
    X = np.asarray(mdata["prot"].X)
    fig = og.pl.translation(table, true=X, predicted=X, features=[0, 1], show=False)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig.axes[0].get_xlabel().startswith("per-feature Pearson r")
    with pytest.raises(ValueError, match="per-feature scores"):
        og.pl.translation(pd.DataFrame(), show=False)


def test_cross_correlation_is_one_panel_per_pair_and_zero_for_the_data_itself():
    mdata = _paired()
    mdata.mod["third"] = ad.AnnData(
        np.asarray(mdata["prot"].X) * 2,
        obs=mdata["prot"].obs.copy(),
        var=pd.DataFrame(index=["t0", "t1", "t2", "t3", "t4", "t5"]),
    )
    mdata.update()
    fig = og.pl.cross_correlation(mdata, {"itself": mdata}, show=False)
    assert len(fig.axes) == 3  # mrna x prot, mrna x third, prot x third
    for ax in fig.axes:
        label = ax.get_legend().get_texts()[0].get_text()
        assert label == "itself: RMS diff 0.000"
        assert ax.get_xlabel().endswith("real") and ax.get_ylabel().endswith("synthetic")
    with pytest.raises(ValueError, match="two or more modalities"):
        og.pl.cross_correlation(mdata, {"x": mdata}, modalities=["mrna"], show=False)
