from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import omixgan as og

FAST = {"max_steps": 80, "eval_every": 10, "progress_bar": False}


def _toy(n_per_class=40, p=5, seed=0, beta=False):
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b"], n_per_class)
    X = rng.normal(size=(2 * n_per_class, p)) + np.where(y == "a", -2.0, 2.0)[:, None]
    if beta:
        X = 1 / (1 + np.exp(-X))
    obs = pd.DataFrame({"cls": pd.Categorical(y)}, index=[f"s{i}" for i in range(len(y))])
    return ad.AnnData(X.astype(np.float32), obs=obs, var=pd.DataFrame(index=[f"f{j}" for j in range(p)]))


@pytest.fixture(scope="module")
def trained():
    adata = _toy()
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    gan = og.models.OmicsGAN(adata, n_hidden=32)
    gan.train(**FAST)
    return adata, gan


def test_sample_format_and_class_structure(trained):
    adata, gan = trained
    out = gan.sample(n_per_class={"a": 30, "b": 20}, seed=1)
    assert out.shape == (50, 5)
    assert list(out.var_names) == list(adata.var_names)
    assert out.obs["cls"].value_counts().to_dict() == {"a": 30, "b": 20}
    assert out.obs["synthetic"].all()
    # each class GAN generates around its own class: means -2 and +2 in every feature
    assert out.X[out.obs["cls"] == "a"].mean() < -1.0 < 1.0 < out.X[out.obs["cls"] == "b"].mean()
    assert set(gan.history.columns) >= {"gan", "step", "critic_loss", "generator_loss", "score"}


def test_same_seed_same_numbers(trained):
    adata, gan = trained
    np.testing.assert_array_equal(gan.sample(5, seed=3).X, gan.sample(5, seed=3).X)
    other = og.models.OmicsGAN(adata, n_hidden=32)
    other.train(**FAST)
    np.testing.assert_array_equal(gan.sample(5, seed=3).X, other.sample(5, seed=3).X)


def test_save_load_samples_identically(trained, tmp_path):
    adata, gan = trained
    gan.save(tmp_path / "gan")
    loaded = og.models.OmicsGAN.load(tmp_path / "gan", adata)
    np.testing.assert_array_equal(gan.sample(7, seed=2).X, loaded.sample(7, seed=2).X)
    other = adata[:, ::-1].copy()
    with pytest.raises(ValueError, match="differ from those the model was trained on"):
        og.models.OmicsGAN.load(tmp_path / "gan", other)


def test_beta_values_stay_in_unit_interval_mudata_conditional():
    adata = _toy(beta=True)
    mdata = md.MuData({"meth": adata})
    mdata.obs["cls"] = adata.obs["cls"]
    og.models.OmicsGAN.setup_mudata(mdata, modality="meth", labels_key="cls")
    gan = og.models.OmicsGAN(mdata, per_class=False, n_hidden=32)
    assert gan.data_type_ == "beta"
    gan.train(**FAST)
    out = gan.sample(50, seed=0)
    assert (out.X > 0).all() and (out.X < 1).all()
    assert list(out.var_names) == list(adata.var_names)


@pytest.mark.parametrize("loss", ["gan", "wgan"])
def test_other_losses_train(loss):
    adata = _toy()
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    gan = og.models.OmicsGAN(adata, loss=loss, n_hidden=16)
    gan.train(max_steps=10, eval_every=5, progress_bar=False)
    assert np.isfinite(gan.sample(10, seed=0).X).all()


def test_bad_input_errors(trained):
    adata, gan = trained
    with pytest.raises(KeyError, match=r"unknown class\(es\) \['zzz'\]"):
        gan.sample({"zzz": 3})
    small = _toy(n_per_class=40)
    small = small[np.r_[0:5, 40:80]].copy()
    og.models.OmicsGAN.setup_anndata(small, labels_key="cls")
    with pytest.raises(ValueError, match=r"'a' \(5 samples\).*per_class=False"):
        og.models.OmicsGAN(small)
    with pytest.raises(KeyError, match="labels_key='missing'"):
        og.models.OmicsGAN.setup_anndata(_toy(), labels_key="missing")
    nan = _toy()
    nan.X[3, 1] = np.nan
    og.models.OmicsGAN.setup_anndata(nan, labels_key="cls")
    with pytest.raises(ValueError, match=r"1 missing values.*impute_mean"):
        og.models.OmicsGAN(nan)
    with pytest.raises(ValueError, match="loss must be one of"):
        og.models.OmicsGAN(adata, loss="hinge")
    untrained = og.models.OmicsGAN(adata)
    with pytest.raises(RuntimeError, match="not trained"):
        untrained.sample(3)


def test_randomized_principal_axes_span_the_exact_ones(monkeypatch):
    """Large references get their score axes from a randomized SVD: the same leading subspace."""
    from omixgan.train import _gan

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 10)) @ rng.normal(size=(10, 300)) * 3 + rng.normal(size=(400, 300))
    centred = X - X.mean(axis=0)
    exact = _gan._principal_axes(centred, 10)
    monkeypatch.setattr(_gan, "EXACT_SVD_LIMIT", 50)
    randomized = _gan._principal_axes(centred, 10)
    assert randomized.shape == exact.shape == (300, 10)
    # cosines of the principal angles between the two subspaces
    np.testing.assert_allclose(np.linalg.svd(exact.T @ randomized, compute_uv=False), 1.0, atol=1e-3)
