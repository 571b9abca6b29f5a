from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import anndata as ad  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import omixgan as og  # noqa: E402

from .test_translation import FAST, _paired  # noqa: E402


def _adata(n=60, seed=0):
    rng = np.random.default_rng(seed)
    obs = pd.DataFrame({"cls": pd.Categorical(np.repeat(["a", "b"], n // 2))}, index=[f"s{i}" for i in range(n)])
    return ad.AnnData(rng.normal(size=(n, 4)).astype(np.float32), obs=obs)


def test_real_vs_synthetic_and_report_return_figures():
    real = _adata()
    synthetic = og.tl.class_gaussian(real, labels_key="cls", n_per_class=20)
    fig = og.pl.real_vs_synthetic(real, synthetic, labels_key="cls", show=False)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    table = pd.DataFrame({"two_sample_auc": [0.5, 0.9], "dcr_ratio": [1.0, 0.3], "tstr_macro_f1": [1.0, 0.9]}, index=["real", "SMOTE"])
    assert isinstance(og.pl.generation_report(table, show=False), Figure)
    with pytest.raises(ValueError, match="same features"):
        og.pl.real_vs_synthetic(real, synthetic[:, ::-1].copy(), show=False)


def test_history_latent_translation_plots():
    mdata, _ = _paired(n=120, missing_target=0)
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "meth"])
    vae = og.models.CrossModalVAE(mdata, n_latent=3)
    vae.train(max_epochs=5, progress_bar=False)
    assert isinstance(og.pl.history(vae, show=False), Axes)
    og.tl.embed(mdata, vae)
    assert mdata.obsm["X_omixgan"].shape == (120, 3)
    assert isinstance(og.pl.latent(mdata, color="cls", show=False), Axes)
    table = og.tl.evaluate_translation(mdata, "mrna", "meth", train_kwargs={**FAST, "max_epochs": 5}, naive=False)
    fig = og.pl.translation(table, true=mdata["meth"].X, predicted=mdata["meth"].X, features=[0, 1], show=False)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    with pytest.raises(KeyError, match="run omixgan.tl.embed"):
        og.pl.latent(mdata, key="nope", show=False)
