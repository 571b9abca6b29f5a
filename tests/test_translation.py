from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import omixgan as og

FAST = {"max_epochs": 100, "patience": 20, "progress_bar": False}


def _paired(n=160, seed=0, missing_target=20):
    """Two modalities driven by one shared 2-D factor: a linear translation exists (known
    answer)."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 2))
    a = factor @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(n, 8))
    b = 1 / (
        1 + np.exp(-(factor @ rng.normal(size=(2, 6)) + 0.3 * rng.normal(size=(n, 6))))
    )  # beta values
    names = [f"s{i}" for i in range(n)]
    labels = np.where(factor[:, 0] > 0, "hi", "lo")
    mdata = md.MuData(
        {
            "mrna": ad.AnnData(
                a.astype(np.float32),
                obs=pd.DataFrame(index=names),
                var=pd.DataFrame(index=[f"g{j}" for j in range(8)]),
            ),
            "meth": ad.AnnData(
                b[missing_target:].astype(np.float32),
                obs=pd.DataFrame(index=names[missing_target:]),
                var=pd.DataFrame(index=[f"cg{j}" for j in range(6)]),
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
    mean, std = vae.translate(
        mdata, source="mrna", target="meth", n_samples=5, return_std=True, linear_blend=0.0
    )
    assert mean.shape == std.shape == (160, 6) and (std > 0).all()
    assert vae.get_latent_representation().shape == (160, 4)
    assert vae.get_latent_representation(modality="meth").shape == (140, 4)
    assert {"epoch", "loss", "validation"} <= set(vae.history.columns)


def test_reproducible_and_save_load(trained, tmp_path):
    mdata, _, vae = trained
    again = og.models.CrossModalVAE(mdata, n_latent=4)
    again.train(**FAST)
    np.testing.assert_array_equal(
        vae.translate(source="mrna", target="meth"), again.translate(source="mrna", target="meth")
    )
    vae.save(tmp_path / "vae")
    loaded = og.models.CrossModalVAE.load(tmp_path / "vae", mdata)
    np.testing.assert_array_equal(
        vae.translate(source="mrna", target="meth"), loaded.translate(source="mrna", target="meth")
    )


def test_translate_errors(trained):
    mdata, _, vae = trained
    with pytest.raises(KeyError, match="not on 'prot'"):
        vae.translate(source="mrna", target="prot")
    with pytest.raises(ValueError, match="return_std needs"):
        vae.translate(source="mrna", target="meth", return_std=True)
    other = mdata["mrna"][
        :, 1:
    ].copy()  # another order is aligned by name; a missing feature is not
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
    with pytest.raises(ValueError, match="no sample has all of"):
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
    Y = 5.0 + 2.0 * (
        factors @ rng.normal(size=(3, 20)) + 0.3 * rng.normal(size=(n, 20))
    )  # not centred, not unit scale
    X_train, Y_train, X_test, Y_test = X[n_test:], Y[n_test:], X[:n_test], Y[:n_test]
    # the legacy global generator on purpose: mofapy2 reseeds it, predict_mofa must restore it
    np.random.seed(7)  # noqa: NPY002
    expected_draw = np.random.rand()  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    pred = og.metrics.predict_mofa(X_train, Y_train, X_test, seed=0)
    assert np.random.rand() == expected_draw  # noqa: NPY002  # numpy's global generator is left as it was
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


def _three(n=300, seed=0):
    """Three modalities driven by one shared 3-D factor, each measuring part of it noisily: two
    sources together know more than one. Samples 0-29 lack ``meth``, 30-59 lack ``prot``."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 3))
    mrna = factor[:, :2] @ rng.normal(size=(2, 10)) + 0.5 * rng.normal(size=(n, 10))
    prot = factor[:, 1:] @ rng.normal(size=(2, 5)) + 0.5 * rng.normal(size=(n, 5))
    meth = 1 / (1 + np.exp(-(factor @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(n, 6)))))
    names = np.array([f"s{i}" for i in range(n)])

    def adata(X, rows, prefix):
        return ad.AnnData(
            X[rows].astype(np.float32),
            obs=pd.DataFrame(index=names[rows]),
            var=pd.DataFrame(index=[f"{prefix}{j}" for j in range(X.shape[1])]),
        )

    every = np.arange(n)
    mdata = md.MuData(
        {
            "mrna": adata(mrna, every, "g"),
            "meth": adata(meth, every[30:], "cg"),
            "prot": adata(prot, np.r_[0:30, 60:n], "p"),
        }
    )
    return mdata, {"mrna": mrna, "meth": meth, "prot": prot}


@pytest.fixture(scope="module")
def three():
    mdata, truth = _three()
    train = mdata[mdata.obs_names[:220]].copy()
    og.models.CrossModalVAE.setup_mudata(train, modalities=["mrna", "meth", "prot"])
    vae = og.models.CrossModalVAE(train, n_latent=4, n_hidden=32, n_models=2)
    vae.train(**FAST)
    new = md.MuData(
        {m: mdata[m][mdata[m].obs_names.isin(mdata.obs_names[220:])].copy() for m in mdata.mod}
    )
    return vae, new, truth


def test_multi_source_translation_uses_both_sources(three):
    vae, new, truth = three
    meth = truth["meth"][220:]
    single = vae.translate(new, source="mrna", target="meth")
    both = vae.translate(new, source=["mrna", "prot"], target="meth")
    assert both.shape == (80, 6) and (both > 0).all() and (both < 1).all()
    r_single = og.metrics.per_feature_pearson(meth, single).mean()
    r_both = og.metrics.per_feature_pearson(meth, both).mean()
    assert r_both > r_single + 0.05  # prot carries the factor mrna does not see
    # source=None: every modality a sample has; here all of them have mrna and prot
    np.testing.assert_allclose(vae.translate(new, source=None, target="meth"), both, rtol=1e-6)
    # the list's order does not matter
    np.testing.assert_array_equal(vae.translate(new, source=["prot", "mrna"], target="meth"), both)
    assert set(vae.calibration_) >= {"mrna->meth", "mrna+prot->meth", "meth+prot->mrna"}
    assert len(vae.calibration_obs_names_) > 0
    assert not set(vae.calibration_obs_names_) & set(new.obs_names)
    with pytest.raises(ValueError, match="both contain 'meth'"):
        vae.translate(new, source=["mrna", "meth"], target="meth")
    with pytest.raises(KeyError, match="not on 'rna'"):
        vae.translate(new, source=["mrna", "rna"], target="meth")


def test_predict_interval_covers_new_samples(three):
    vae, new, truth = three
    for source, target in (("mrna", "meth"), (["mrna", "prot"], "meth"), ("mrna", "prot")):
        lower, upper = vae.predict_interval(new, source=source, target=target, level=0.9)
        pred = vae.translate(new, source=source, target=target)
        assert (lower <= pred).all() and (pred <= upper).all()
        y = truth[target][220:]
        cover = og.metrics.interval_scores(y, lower, upper)["coverage"]
        assert 0.8 < cover < 0.98, (source, target, cover)
        if target == "meth":
            assert (lower > 0).all() and (upper < 1).all()
        narrow, wide = vae.predict_interval(new, source=source, target=target, level=0.5)
        assert ((upper - lower) > (wide - narrow)).all()
    with pytest.raises(ValueError, match="level must be in"):
        vae.predict_interval(new, source="mrna", target="meth", level=90)


def test_conformal_scores_give_level_coverage():
    """Split-conformal promises coverage >= level in expectation over calibration sets (and
    not much more): averaged over 200 calibration sets of 50 samples, whatever the feature
    scales."""
    rng = np.random.default_rng(0)
    scale = np.array([0.1, 1.0, 10.0])
    covers = []
    for _ in range(200):
        _cal, test = rng.normal(size=(50, 3)) * scale, rng.standard_t(5, size=(200, 3)) * scale
        scores, fitted = og.metrics.conformal_scores(rng.standard_t(5, size=(50, 3)) * scale)
        half = og.metrics.conformal_quantile(scores, 50, 0.9) * fitted
        covers.append((np.abs(test) <= half).mean())
    assert 0.895 <= np.mean(covers) < 0.92, np.mean(covers)


def test_impute_fills_every_missing_modality_and_keeps_measured(three):
    vae, _, truth = three
    mdata, _ = _three()
    before = {m: mdata[m].X.copy() for m in mdata.mod}
    og.tl.impute(mdata, vae, interval=0.9)
    meth, prot = mdata["meth_imputed"], mdata["prot_imputed"]
    assert list(meth.obs_names) == [f"s{i}" for i in range(30)]
    assert list(prot.obs_names) == [f"s{i}" for i in range(30, 60)]
    assert (meth.obs["imputed_from"] == "mrna+prot").all() and (
        prot.obs["imputed_from"] == "mrna+meth"
    ).all()
    assert "mrna_imputed" not in mdata.mod
    assert (meth.layers["lower"] <= meth.X).all() and (meth.X <= meth.layers["upper"]).all()
    assert (meth.X > 0).all() and (meth.X < 1).all()
    assert mdata.obs["imputed_meth"].sum() == 30 and mdata.obs["imputed_prot"].sum() == 30
    assert mdata.obs.loc["s0", "imputed"] == "meth" and mdata.obs.loc["s99", "imputed"] == ""
    assert mdata.uns["imputed"]["n_imputed"] == {"meth": 30, "prot": 30}
    for m, X in before.items():
        np.testing.assert_array_equal(mdata[m].X, X)
    r = og.metrics.per_feature_pearson(truth["meth"][:30], meth.X).mean()
    assert r > 0.6
    with pytest.raises(ValueError, match="already has a modality"):
        og.tl.impute(mdata, vae)
    copy = og.tl.impute(mdata, vae, key_added="again", interval=None, copy=True)
    assert (
        "meth_again" in copy.mod
        and "meth_again" not in mdata.mod
        and "lower" not in copy["meth_again"].layers
    )


def test_tl_translate_multi_source_with_intervals(three):
    vae, _, _ = three
    mdata, _ = _three()
    og.tl.translate(mdata, ["mrna", "prot"], "meth", model=vae, interval=0.9)
    out = mdata["meth_from_mrna+prot"]
    assert out.n_obs == 270 and out.obs["imputed"].sum() == 30  # samples 30-59 lack prot
    assert {"lower", "upper"} <= set(out.layers)
    layers = mdata["meth"].layers
    assert {
        "translated_from_mrna+prot",
        "translated_from_mrna+prot_lower",
        "translated_from_mrna+prot_upper",
    } <= set(layers)
    assert np.isnan(layers["translated_from_mrna+prot"][:30]).all()  # s30-s59 have meth but no prot
    assert mdata.uns["meth_from_mrna+prot"]["params"]["interval"] == 0.9


def test_evaluate_translation_multi_source_and_targets():
    mdata, _ = _three()
    mdata = mdata[mdata.obs_names[60:]].copy()
    table = og.tl.evaluate_translation(
        mdata,
        ["mrna", "prot"],
        "meth",
        train_kwargs=FAST,
        model_kwargs={"n_hidden": 32, "n_models": 1},
        naive=False,
        mofa=False,
    )
    assert {"CrossModalVAE, from mrna only", "ridge, from prot only", "ridge"} <= set(table.index)
    assert (
        table.loc["ridge", "per_feature_pearson"]
        > table.loc["ridge, from mrna only", "per_feature_pearson"]
    )
    assert (
        0.75 < table.loc["CrossModalVAE", "coverage"] < 1
        and 0.75 < table.loc["ridge", "coverage"] < 1
    )
    assert np.isnan(table.loc["kNN (PCA 50)", "coverage"])
    many = og.tl.evaluate_translation(
        mdata,
        "mrna",
        ["meth", "prot"],
        train_kwargs=FAST,
        model_kwargs={"n_hidden": 32, "n_models": 1},
        naive=False,
        mofa=True,
    )
    assert many.index.names == ["target", "method"]
    assert many.loc[("prot", "MOFA+ (10 factors)"), "per_feature_pearson"] > 0.3


def test_tl_translate_key_added_names_the_layer_and_random_state(three):
    vae, _, _ = three
    mdata, _ = _three()
    og.tl.translate(mdata, "mrna", "meth", model=vae, key_added="meth_hat", interval=0.9)
    assert "meth_hat" in mdata.mod and mdata.uns["meth_hat"]["params"]["layer"] == "meth_hat"
    layers = set(mdata["meth"].layers)
    assert {"meth_hat", "meth_hat_lower", "meth_hat_upper"} <= layers
    assert not any(name.startswith("translated_from_") for name in layers)
    both = mdata["meth"].obs_names.isin(mdata["meth_hat"].obs_names)
    np.testing.assert_array_equal(
        mdata["meth"].layers["meth_hat"][both],
        mdata["meth_hat"][mdata["meth"].obs_names[both]].X,
    )
    og.tl.translate(mdata, "mrna", "meth", model=vae, key_added="meth_hat")  # its own: replaced
    mdata["meth"].layers["measured"] = mdata["meth"].X.copy()
    with pytest.raises(ValueError, match=r"layers already has \['measured'\].*overwrite=True"):
        og.tl.translate(mdata, "mrna", "meth", model=vae, key_added="measured")
    assert "measured" not in mdata.mod


def test_tl_translate_seed_is_a_deprecated_alias():
    mdata, _ = _paired(n=60, missing_target=0)
    with pytest.warns(FutureWarning, match="random_state"):
        out = og.tl.translate(
            mdata, "mrna", "meth", copy=True, seed=3, max_epochs=3, progress_bar=False
        )
    assert out.uns["meth_from_mrna"]["params"]["random_state"] == 3


def test_simplex_least_squares_known_answers():
    from omixgan.model._vae import simplex_least_squares

    rng = np.random.default_rng(0)
    y = rng.normal(size=(30, 5))
    # two columns: the clipped closed-form blend weight, in and out of [0, 1]
    for noise_a, noise_b in ((0.5, 1.0), (1.0, 0.2), (0.1, 3.0)):
        a = y + noise_a * rng.normal(size=y.shape)
        b = y + noise_b * rng.normal(size=y.shape)
        diff = b - a
        w = np.clip(-((a - y) * diff).sum() / (diff**2).sum(), 0, 1)
        np.testing.assert_allclose(simplex_least_squares([a, b], y), [1 - w, w], atol=1e-10)
    # the truth among the columns gets all the weight; pure noise none
    weights = simplex_least_squares([rng.normal(size=y.shape), y, 2 * y], y)
    np.testing.assert_allclose(weights, [0, 1, 0], atol=1e-10)
    # two equally good, independent predictions: about half each
    a, b = y + rng.normal(size=y.shape), y + rng.normal(size=y.shape)
    weights = simplex_least_squares([a, b], y)
    assert abs(weights[0] - 0.5) < 0.1 and weights.sum() == pytest.approx(1)
    # nothing to tell the columns apart: equal weights (the 0.5 fallback of a blend)
    np.testing.assert_allclose(simplex_least_squares([y, y], y), [0.5, 0.5])


def _noise_source(n=240, seed=0):
    """``mrna`` and ``meth`` share a 2-D factor; ``noise`` is 40 features of pure noise."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 2))
    mrna = factor @ rng.normal(size=(2, 10)) + 0.5 * rng.normal(size=(n, 10))
    meth = 1 / (1 + np.exp(-(factor @ rng.normal(size=(2, 6)) + 0.3 * rng.normal(size=(n, 6)))))
    noise = rng.normal(size=(n, 40))
    names = np.array([f"s{i}" for i in range(n)])

    def adata(X, prefix):
        return ad.AnnData(
            X.astype(np.float32),
            obs=pd.DataFrame(index=names),
            var=pd.DataFrame(index=[f"{prefix}{j}" for j in range(X.shape[1])]),
        )

    mdata = md.MuData(
        {"mrna": adata(mrna, "g"), "meth": adata(meth, "cg"), "noise": adata(noise, "n")}
    )
    return mdata, meth


def test_stacking_gives_a_pure_noise_source_no_weight():
    mdata, meth = _noise_source()
    train, new = mdata[mdata.obs_names[:180]].copy(), mdata[mdata.obs_names[180:]].copy()
    og.models.CrossModalVAE.setup_mudata(train, modalities=["mrna", "meth", "noise"])
    r = {}
    for mode in ("stack", "all"):
        vae = og.models.CrossModalVAE(
            train, n_latent=4, n_hidden=32, n_models=1, source_combination=mode
        )
        vae.train(**FAST)
        both = vae.translate(new, source=["mrna", "noise"], target="meth")
        r[mode] = og.metrics.per_feature_pearson(meth[180:], both).mean()
        if mode == "stack":
            r["mrna"] = og.metrics.per_feature_pearson(
                meth[180:], vae.translate(new, source="mrna", target="meth")
            ).mean()
            combination = vae.calibration_["mrna+noise->meth"]["combination"]
            weights = {sub: a + b for sub, a, b in combination}
            assert all(a >= 0 and b >= 0 for _, a, b in combination)
            assert sum(weights.values()) == pytest.approx(1)
            assert weights.get(("noise",), 0.0) < 0.01  # noise alone: nothing
            assert weights.get(("mrna", "noise"), 0.0) < 0.1  # mrna + noise: little
            # one source: the blend of VAE and ridge, as linear_blend="auto" chooses it
            (sub, a, b), *rest = vae.calibration_["mrna->meth"]["combination"]
            assert sub == ("mrna",) and not rest and a + b == pytest.approx(1)
            # the same weights as a table, sources in the model's order whatever the call's
            table = vae.blend_weights(["noise", "mrna"], "meth")
            assert list(table.columns) == ["sources", "vae_weight", "ridge_weight", "calibration"]
            assert table["calibration"].all()
            assert dict(zip(table["sources"], table["vae_weight"] + table["ridge_weight"])) == {
                "+".join(sub): w for sub, w in weights.items()
            }
            with pytest.raises(KeyError, match="not on 'prot'"):
                vae.blend_weights("mrna", "prot")
    # stacking is as good as the informative source alone; every source together is worse
    assert abs(r["stack"] - r["mrna"]) < 0.01, r
    assert r["stack"] > r["all"] + 0.01, r
    with pytest.raises(ValueError, match="source_combination must be one of"):
        og.models.CrossModalVAE(train, source_combination="best")


def test_interval_space_auto_picks_the_narrower_calibration():
    """Beta values with noise added in beta units get much narrower intervals from a calibration
    in beta units than from one in logit (model) space (known answer); with noise added in logit
    space the two are close. ``space="auto"``, choosing on the calibration samples, picks the one
    that is narrower on new samples, at the intended coverage."""
    rng = np.random.default_rng(0)
    n = 400
    factor = rng.normal(size=(n, 2))
    mrna = factor @ rng.normal(size=(2, 10)) + 0.05 * rng.normal(size=(n, 10))
    signal = factor @ rng.normal(size=(2, 6))
    logit_noise = 1 / (1 + np.exp(-(3 * signal + 0.5 * rng.normal(size=(n, 6)))))
    unit_noise = np.clip(0.5 + 0.2 * signal + 0.05 * rng.normal(size=(n, 6)), 1e-6, 1 - 1e-6)
    names = np.array([f"s{i}" for i in range(n)])
    mdata = md.MuData(
        {
            m: ad.AnnData(
                X.astype(np.float32),
                obs=pd.DataFrame(index=names),
                var=pd.DataFrame(index=[f"{m}{j}" for j in range(X.shape[1])]),
            )
            for m, X in (("mrna", mrna), ("logitnoise", logit_noise), ("unitnoise", unit_noise))
        }
    )
    train, new = mdata[names[:300]].copy(), mdata[names[300:]].copy()
    og.models.CrossModalVAE.setup_mudata(train, modalities=["mrna", "logitnoise", "unitnoise"])
    vae = og.models.CrossModalVAE(
        train,
        n_latent=4,
        n_hidden=32,
        n_models=1,
        data_types={"logitnoise": "beta", "unitnoise": "beta"},
    )
    vae.train(**FAST)
    for target, truth in (("logitnoise", logit_noise), ("unitnoise", unit_noise)):
        width, chosen = {}, {}
        for space in ("model", "original", "auto"):
            lower, upper = vae.predict_interval(new, source="mrna", target=target, space=space)
            scores = og.metrics.interval_scores(truth[300:], lower, upper)
            assert 0.8 < scores["coverage"] < 0.98, (target, space, scores)
            assert (lower > 0).all() and (upper < 1).all()
            width[space], chosen[space] = scores["width"], (lower, upper)
        # "auto" is one of the two calibrations; where one is clearly narrower, that one (for
        # logit noise the two are close, and which wins on few calibration samples is a coin flip)
        assert any(
            np.array_equal(chosen["auto"][0], chosen[space][0]) for space in ("model", "original")
        )
        if target == "unitnoise":
            assert width["original"] < 0.8 * width["model"], width
            np.testing.assert_array_equal(chosen["auto"][0], chosen["original"][0])
    with pytest.raises(ValueError, match="space must be"):
        vae.predict_interval(new, source="mrna", target="unitnoise", space="beta")


def test_predict_knn_unscaled_follows_the_high_variance_feature_not_scaled_noise():
    from omixgan.metrics import predict_knn

    rng = np.random.default_rng(0)
    n = 600
    signal = rng.normal(0.0, 3.0, n)  # the feature that carries the target, large variance
    noise = rng.normal(0.0, 0.1, (n, 40))  # many small, uninformative features
    X = np.column_stack([signal, noise])
    y = signal[:, None]
    tr, te = np.arange(400), np.arange(400, n)

    def r(**kwargs):
        pred = predict_knn(X[tr], y[tr], X[te], n_neighbors=10, n_pcs=5, **kwargs)
        return np.corrcoef(pred[:, 0], y[te, 0])[0, 1]

    # scaled, the 40 noise features outweigh the signal in the components; centred only, the
    # first component is the signal
    assert r(scale=False) > 0.95
    assert r(scale=True) < r(scale=False) - 0.1
