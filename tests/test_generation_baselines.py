from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import omixgan as og


def _two_class(n=120, p=6, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array(["a"] * (n // 2) + ["b"] * (n - n // 2))
    X = rng.normal(size=(n, p)) + np.where(y == "a", 0.0, 3.0)[:, None]
    adata = ad.AnnData(
        X.astype(np.float32),
        obs=pd.DataFrame({"cls": pd.Categorical(y)}, index=[f"s{i}" for i in range(n)]),
    )
    adata.var_names = [f"g{j}" for j in range(p)]
    return adata


@pytest.mark.parametrize("generator", [og.tl.smote, og.tl.class_gaussian, og.tl.copy_training])
def test_baseline_output_format_and_input_untouched(generator):
    adata = _two_class()
    before = adata.copy()
    out = generator(adata, labels_key="cls", n_per_class={"a": 7, "b": 3}, random_state=0)
    assert out.shape == (10, adata.n_vars)
    assert list(out.var_names) == list(adata.var_names)
    assert out.obs["cls"].value_counts().to_dict() == {"a": 7, "b": 3}
    assert out.obs["synthetic"].all()
    np.testing.assert_array_equal(adata.X, before.X)
    assert list(adata.obs.columns) == list(before.obs.columns)
    again = generator(adata, labels_key="cls", n_per_class={"a": 7, "b": 3}, random_state=0)
    np.testing.assert_array_equal(out.X, again.X)


def test_smote_interpolates_within_class():
    adata = _two_class()
    out = og.tl.smote(adata, labels_key="cls", n_per_class=50)
    a = adata.X[adata.obs["cls"] == "a"]
    new_a = out.X[out.obs["cls"] == "a"]
    # each new point lies inside the class's bounding box: interpolation, never extrapolation
    assert (new_a >= a.min(axis=0) - 1e-5).all() and (new_a <= a.max(axis=0) + 1e-5).all()


def test_smote_errors():
    adata = _two_class(n=8)
    with pytest.raises(ValueError, match=r"class 'a' has 4 samples; SMOTE with k_neighbors=5"):
        og.tl.smote(adata, labels_key="cls", n_per_class=5)
    with pytest.raises(KeyError, match="labels_key='nope'"):
        og.tl.smote(adata, labels_key="nope")
    with pytest.raises(KeyError, match=r"unknown class\(es\) \['c'\]"):
        og.tl.smote(_two_class(), labels_key="cls", n_per_class={"c": 3})
    bad = _two_class()
    bad.X[0, 0] = np.nan
    with pytest.raises(ValueError, match="1 missing values"):
        og.tl.smote(bad, labels_key="cls")


def test_metrics_on_known_answers():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 5)), rng.normal(size=(300, 5))
    assert og.metrics.two_sample_auc(a, b) < 0.62
    assert og.metrics.two_sample_auc(a, b + 2.0) > 0.95
    train = rng.normal(size=(300, 5))
    assert og.metrics.dcr_ratio(train, train[:100], a) == 0.0
    assert 0.8 < og.metrics.dcr_ratio(train, b, a) < 1.25
    assert og.metrics.log_variance_ratio(a, 0.3 * b) > 2.0
    assert og.metrics.mean_difference(a, b + 1.0) == pytest.approx(1.0, abs=0.15)
    assert og.metrics.mmd_rbf(a, b) < 0.01 < og.metrics.mmd_rbf(a, b + 1.0)


def test_evaluate_generation_table_ranks_baselines():
    adata = _two_class(n=240, p=5, seed=1)
    rng = np.random.default_rng(0)
    ref_idx = rng.permutation(240)[:120]
    mask = np.zeros(240, dtype=bool)
    mask[ref_idx] = True
    train, ref = adata[~mask].copy(), adata[mask].copy()
    smote = og.tl.smote(train, labels_key="cls", n_per_class=60)
    table = og.tl.evaluate_generation(train, {"SMOTE": smote}, reference=ref, labels_key="cls")
    assert list(table.index) == [
        "held-out real (control)",
        "SMOTE",
        "class Gaussian",
        "Gaussian copula",
        "copy of train",
        "real train",
    ]
    assert table.loc["copy of train", "dcr_ratio"] == 0.0
    assert table.loc["SMOTE", "dcr_ratio"] < 0.8 < table.loc["class Gaussian", "dcr_ratio"]
    assert table.loc["Gaussian copula", "dcr_ratio"] > 0.8
    assert table.loc["class Gaussian", "tstr_accuracy"] > 0.95
    with pytest.raises(ValueError, match="held-out real samples"):
        og.tl.evaluate_generation(train, {"SMOTE": smote}, labels_key="cls")
    with pytest.raises(ValueError, match="same order"):
        og.tl.evaluate_generation(
            train, {"x": smote[:, ::-1].copy()}, reference=ref, labels_key="cls"
        )


@pytest.mark.parametrize("method", ["smote", "gan"])
def test_oversample_balances_and_flags(method):
    adata = _two_class(n=60)
    adata = adata[np.r_[0:30, 30:42]].copy()  # classes a: 30, b: 12
    before = adata.copy()
    out = (
        og.tl.oversample(adata, labels_key="cls", method=method, max_steps=20, eval_every=10)
        if method == "gan"
        else og.tl.oversample(adata, labels_key="cls", method=method)
    )
    assert out.obs["cls"].value_counts().to_dict() == {"a": 30, "b": 30}
    assert out.obs["synthetic"].sum() == 18
    assert list(out.obs_names[:42]) == list(adata.obs_names)
    np.testing.assert_array_equal(adata.X, before.X)
    assert list(adata.obs.columns) == ["cls"]


def test_oversample_errors():
    adata = _two_class()
    with pytest.raises(ValueError, match="method must be one of"):
        og.tl.oversample(adata, labels_key="cls", method="vae")
    with pytest.raises(KeyError, match=r"unknown class\(es\) \['z'\]"):
        og.tl.oversample(adata, labels_key="cls", method="smote", target_counts={"z": 100})


def test_class_gaussian_keeps_beta_values_in_unit_interval():
    adata = _two_class()
    adata.X = 1 / (1 + np.exp(-adata.X))
    adata.uns["omixgan_data_type"] = "beta"  # as read_course / read_table(beta_values=True) record
    out = og.tl.class_gaussian(adata, labels_key="cls", n_per_class=200)
    assert (out.X > 0).all() and (out.X < 1).all()
    with pytest.raises(ValueError, match="data_type must be"):
        og.tl.class_gaussian(adata, labels_key="cls", data_type="counts")


def test_gaussian_copula_keeps_the_training_marginals():
    """Each feature of the copula's draws follows the training samples' pooled distribution
    (skewed here), where the Gaussian's draws do not."""
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(1)
    y = np.repeat(["a", "b"], 200)
    X = np.exp(rng.normal(size=(400, 3)) + np.where(y == "a", 0.0, 0.3)[:, None])
    adata = ad.AnnData(
        X.astype(np.float32),
        obs=pd.DataFrame({"cls": pd.Categorical(y)}, index=[f"s{i}" for i in range(400)]),
    )
    copula = og.tl.class_gaussian(
        adata, labels_key="cls", n_per_class=2000, marginals="empirical"
    ).X
    gauss = og.tl.class_gaussian(adata, labels_key="cls", n_per_class=2000).X
    for j in range(3):
        assert ks_2samp(copula[:, j], X[:, j]).statistic < 0.05
        assert ks_2samp(gauss[:, j], X[:, j]).statistic > 0.08
    assert (copula > 0).mean() > 0.999  # the data's shape, not a bell curve crossing zero
    # quantiles match the training quantiles
    np.testing.assert_allclose(
        np.quantile(copula, [0.1, 0.5, 0.9], axis=0),
        np.quantile(X, [0.1, 0.5, 0.9], axis=0),
        rtol=0.08,
    )
    with pytest.raises(ValueError, match="marginals must be"):
        og.tl.class_gaussian(adata, labels_key="cls", marginals="kde")


def test_empirical_marginals_round_trip():
    from omixgan._utils import EmpiricalMarginals

    rng = np.random.default_rng(0)
    X = rng.gamma(2.0, size=(50, 4))
    m = EmpiricalMarginals().fit(X)
    Z = m.transform(X)
    np.testing.assert_allclose(m.inverse(Z), X, rtol=1e-6, atol=1e-6)
    far = np.array([[X.max() + 5] * 4, [X.min() - 5] * 4])
    np.testing.assert_allclose(
        m.inverse(m.transform(far)), far, rtol=1e-6
    )  # linear tails, invertible
    assert (np.diff(m.transform(np.sort(X, axis=0)), axis=0) > 0).all()
