from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import omixgan as og

FAST = {"max_epochs": 100, "patience": 20, "progress_bar": False}


def _paired(n=160, seed=0, missing_target=20):
    """Two modalities driven by one shared 2-D factor: a linear translation exists (known answer)."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 2))
    a = factor @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(n, 8))
    b = 1 / (1 + np.exp(-(factor @ rng.normal(size=(2, 6)) + 0.3 * rng.normal(size=(n, 6)))))  # beta values
    names = [f"s{i}" for i in range(n)]
    labels = np.where(factor[:, 0] > 0, "hi", "lo")
    mdata = md.MuData(
        {
            "mrna": ad.AnnData(a.astype(np.float32), obs=pd.DataFrame(index=names), var=pd.DataFrame(index=[f"g{j}" for j in range(8)])),
            "meth": ad.AnnData(
                b[missing_target:].astype(np.float32), obs=pd.DataFrame(index=names[missing_target:]), var=pd.DataFrame(index=[f"cg{j}" for j in range(6)])
            ),
        }
    )
    mdata.obs["cls"] = pd.Categorical(labels)
    return mdata, b


@pytest.fixture(scope="module")
def trained():
    mdata, b = _paired()
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "meth"], labels_key="cls")
    vae = og.models.CrossModalVAE(mdata, n_latent=4)
    vae.train(**FAST)
    return mdata, b, vae


def test_translate_recovers_shared_factor_in_original_units(trained):
    mdata, b, vae = trained
    pred = vae.translate(mdata, source="mrna", target="meth")
    assert pred.shape == (160, 6)
    assert (pred > 0).all() and (pred < 1).all()
    r = og.metrics.per_feature_pearson(b[:20], pred[:20])  # samples that never had meth
    assert r.mean() > 0.7
    # the VAE's posterior spread (the ridge part, weighted by the calibrated blend, has none)
    mean, std = vae.translate(mdata, source="mrna", target="meth", n_samples=5, return_std=True, linear_blend=0.0)
    assert mean.shape == std.shape == (160, 6) and (std > 0).all()
    assert vae.get_latent_representation().shape == (160, 4)
    assert vae.get_latent_representation(modality="meth").shape == (140, 4)
    assert {"epoch", "loss", "validation"} <= set(vae.history.columns)


def test_reproducible_and_save_load(trained, tmp_path):
    mdata, _, vae = trained
    again = og.models.CrossModalVAE(mdata, n_latent=4)
    again.train(**FAST)
    np.testing.assert_array_equal(vae.translate(source="mrna", target="meth"), again.translate(source="mrna", target="meth"))
    vae.save(tmp_path / "vae")
    loaded = og.models.CrossModalVAE.load(tmp_path / "vae", mdata)
    np.testing.assert_array_equal(vae.translate(source="mrna", target="meth"), loaded.translate(source="mrna", target="meth"))


def test_translate_errors(trained):
    mdata, _, vae = trained
    with pytest.raises(KeyError, match="not on 'prot'"):
        vae.translate(source="mrna", target="prot")
    with pytest.raises(ValueError, match="return_std needs"):
        vae.translate(source="mrna", target="meth", return_std=True)
    other = mdata["mrna"][:, 1:].copy()  # another order is aligned by name; a missing feature is not
    with pytest.raises(ValueError, match="differ from those the model was trained on"):
        vae.translate(other, source="mrna", target="meth")
    with pytest.raises(KeyError, match="'prot' is not a modality"):
        og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "prot"])
    with pytest.raises(ValueError, match="at least two"):
        og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna"])


def test_no_paired_samples_and_nan_errors():
    mdata, _ = _paired()
    unpaired = md.MuData({"mrna": mdata["mrna"][:20].copy(), "meth": mdata["meth"][:40].copy()})
    og.models.CrossModalVAE.setup_mudata(unpaired, modalities=["mrna", "meth"])
    with pytest.raises(ValueError, match="no sample has all of the modalities"):
        og.models.CrossModalVAE(unpaired)
    with pytest.raises(ValueError, match="no sample has both"):
        og.tl.translate(unpaired, "mrna", "meth")
    nan, _ = _paired()
    nan["meth"].X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"'meth' has 1 missing values.*impute_mean"):
        og.tl.translate(nan, "mrna", "meth")
    with pytest.raises(KeyError, match="source: 'rna' is not a modality"):
        og.tl.translate(nan, "rna", "meth")


def test_tl_translate_writes_layers_and_imputed_modality():
    mdata, b = _paired()
    before = mdata["meth"].X.copy()
    og.tl.translate(mdata, "mrna", "meth", **FAST)
    out = mdata["meth_from_mrna"]
    assert out.shape == (160, 6)
    assert out.obs["imputed"].sum() == 20
    assert list(out.obs_names[out.obs["imputed"]]) == [f"s{i}" for i in range(20)]
    assert mdata["meth"].layers["translated_from_mrna"].shape == (140, 6)
    np.testing.assert_array_equal(mdata["meth"].X, before)
    assert mdata.uns["meth_from_mrna"]["params"]["n_imputed"] == 20
    r = og.metrics.per_feature_pearson(b[:20], out.X[:20])
    assert r.mean() > 0.6


def test_evaluate_translation_table():
    mdata, _ = _paired(n=200, missing_target=0)
    table = og.tl.evaluate_translation(mdata, "mrna", "meth", labels_key="cls", train_kwargs=FAST)
    assert list(table.index) == [
        "CrossModalVAE",
        "CrossModalVAE, VAE part only",
        "feature mean",
        "class-mean oracle",
        "ridge",
        "kNN (PCA 50)",
        "MOFA+ (10 factors)",
        "naive two-VAE swap",
    ]
    assert table.loc["feature mean", "per_feature_pearson"] == 0.0
    assert table.loc["ridge", "per_feature_pearson"] > 0.7
    assert table.loc["CrossModalVAE", "per_feature_pearson"] > 0.6
    assert table.loc["MOFA+ (10 factors)", "per_feature_pearson"] > 0.5
    assert table.attrs["per_feature"].shape == (6, 8)
    assert len(table.attrs["split"]["test"]) == 50


def test_predict_mofa_recovers_shared_low_rank_target(capsys):
    """Source and target driven by the same 3 factors: MOFA+ must find them from the source and
    predict the held-out target from them, deterministically, quietly, in the target's units."""
    rng = np.random.default_rng(1)
    n, n_test = 200, 50
    factors = rng.normal(size=(n, 3))
    X = factors @ rng.normal(size=(3, 30)) + 0.3 * rng.normal(size=(n, 30))
    Y = 5.0 + 2.0 * (factors @ rng.normal(size=(3, 20)) + 0.3 * rng.normal(size=(n, 20)))  # not centred, not unit scale
    X_train, Y_train, X_test, Y_test = X[n_test:], Y[n_test:], X[:n_test], Y[:n_test]
    np.random.seed(7)
    expected_draw = np.random.rand()
    np.random.seed(7)
    pred = og.metrics.predict_mofa(X_train, Y_train, X_test, seed=0)
    assert np.random.rand() == expected_draw  # numpy's global generator is left as it was
    assert capsys.readouterr().out == ""  # mofapy2's console output is suppressed
    assert pred.shape == (n_test, 20)
    r = og.metrics.per_feature_pearson(Y_test, pred)
    assert r.mean() > 0.8 and r.min() > 0.5
    mean_rmse = og.metrics.rmse(Y_test, og.metrics.predict_feature_mean(Y_train, n_test))
    assert og.metrics.rmse(Y_test, pred) < 0.5 * mean_rmse
    np.testing.assert_array_equal(pred, og.metrics.predict_mofa(X_train, Y_train, X_test, seed=0))
    with pytest.raises(ValueError, match="X_train has 150 samples, Y_train 149"):
        og.metrics.predict_mofa(X_train, Y_train[1:], X_test)


def test_omicsvae_sample_decode_and_embed():
    mdata, _ = _paired()
    og.models.OmicsVAE.setup_mudata(mdata, modality="meth")
    vae = og.models.OmicsVAE(mdata, n_hidden=32, n_latent=3)
    vae.train(**FAST)
    z = vae.get_latent_representation()
    assert z.shape == (140, 3)
    decoded = vae.decode(z)
    assert decoded.shape == (140, 6) and (decoded > 0).all() and (decoded < 1).all()
    synthetic = vae.sample(25, seed=0)
    assert synthetic.shape == (25, 6) and synthetic.obs["synthetic"].all()
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        vae.decode(np.zeros((2, 5)))
