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
    return ad.AnnData(
        X.astype(np.float32), obs=obs, var=pd.DataFrame(index=[f"f{j}" for j in range(p)])
    )


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
    gan.train(**FAST)
    assert gan.data_type_ == "beta"  # inferred when training fits the transforms
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
    tiny = _toy(n_per_class=40)[np.r_[0:1, 40:80]].copy()
    og.models.OmicsGAN.setup_anndata(tiny, labels_key="cls")
    with pytest.raises(ValueError, match=r"'a' \(1 samples\)"):
        og.models.OmicsGAN(tiny)
    with pytest.raises(KeyError, match="labels_key='missing'"):
        og.models.OmicsGAN.setup_anndata(_toy(), labels_key="missing")
    nan = _toy()
    nan.X[3, 1] = np.nan
    og.models.OmicsGAN.setup_anndata(nan, labels_key="cls")
    with pytest.raises(ValueError, match=r"1 missing values.*impute_mean"):
        og.models.OmicsGAN(nan).train(**FAST)
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    with pytest.raises(ValueError, match="loss must be one of"):
        og.models.OmicsGAN(adata, loss="hinge")
    with pytest.raises(ValueError, match="marginals must be one of"):
        og.models.OmicsGAN(adata, marginals="kde")
    with pytest.raises(TypeError, match="per_class must be True, False or None"):
        og.models.OmicsGAN(adata, per_class="yes")
    untrained = og.models.OmicsGAN(adata)
    with pytest.raises(RuntimeError, match="not trained"):
        untrained.sample(3)
    with pytest.raises(ValueError, match="validation_fraction"):
        untrained.train(validation_fraction=1.0)


def test_step_zero_is_the_shrinkage_gaussian_start():
    """Before any training step the generator is the class Gaussian: its moments match."""
    from sklearn.covariance import ledoit_wolf

    adata = _toy(n_per_class=60, p=4, seed=3)
    adata.X[:60] = adata.X[:60] @ np.array(
        [[1, 0.8, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0.5], [0, 0, 0, 1]], dtype=np.float32
    )
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    gan = og.models.OmicsGAN(adata, marginals="gaussian", n_hidden=16)
    gan.train(max_steps=1, validation_fraction=0.0, progress_bar=False)  # no validation: the start
    assert gan.history is None
    out = gan.sample({"a": 20000}, seed=0).X.astype(np.float64)
    real = adata.X[:60].astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=0), real.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(out.std(axis=0), real.std(axis=0), rtol=0.03)
    sd = real.std(axis=0)
    expected = ledoit_wolf((real - real.mean(axis=0)) / sd)[0]
    np.testing.assert_allclose(np.corrcoef(out, rowvar=False), expected, atol=0.03)


def test_keeps_the_start_when_training_does_not_help():
    """A learning rate that wrecks the residual must not leave its mark: the start is kept and
    refitted on every sample, so samples equal those of an untrained start."""
    adata = _toy(n_per_class=50)
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    gan = og.models.OmicsGAN(adata, marginals="gaussian", n_hidden=16)
    gan.train(max_steps=20, eval_every=5, lr=5.0, progress_bar=False)
    h = gan.history
    assert h.loc[h["kept"], "step"].tolist() == [0]
    assert (h.loc[h["step"] > 0, "score"] > h.loc[h["step"] == 0, "score"].iloc[0]).all()
    start = og.models.OmicsGAN(adata, marginals="gaussian", n_hidden=16)
    start.train(max_steps=1, validation_fraction=0.0, progress_bar=False)
    np.testing.assert_allclose(
        gan.sample(30, seed=4).X, start.sample(30, seed=4).X, rtol=1e-5, atol=1e-5
    )


def test_per_class_is_chosen_from_class_sizes():
    big = _toy(n_per_class=120, p=3)
    og.models.OmicsGAN.setup_anndata(big, labels_key="cls")
    assert og.models.OmicsGAN(big).per_class is True
    small = big[np.r_[0:120, 120:150]].copy()  # a class of 30
    og.models.OmicsGAN.setup_anndata(small, labels_key="cls")
    assert og.models.OmicsGAN(small).per_class is False
    assert og.models.OmicsGAN(small, per_class=True).per_class is True


def test_empirical_marginals_follow_skewed_data():
    """On skewed features the copula start keeps the shape a Gaussian start loses, and ``auto``
    picks it on the validation samples."""
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 150)
    X = np.exp(rng.normal(size=(300, 4)) + np.where(y == "a", 0.0, 0.5)[:, None])
    adata = ad.AnnData(
        X.astype(np.float32),
        obs=pd.DataFrame({"cls": pd.Categorical(y)}, index=[f"s{i}" for i in range(300)]),
    )
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    gan = og.models.OmicsGAN(adata, n_hidden=16)
    gan.train(max_steps=10, eval_every=5, progress_bar=False)
    assert gan.marginals_ == "empirical"
    assert gan.start_scores_["empirical"] < 0.99 * gan.start_scores_["gaussian"]
    out = gan.sample(3000, seed=0).X
    assert (out > 0).mean() > 0.99  # the Gaussian start would put about 10 % below zero


def test_auto_marginals_keep_the_gaussian_unless_the_copula_is_materially_closer():
    from omixgan.model._omicsgan import COPULA_MARGIN, choose_marginals

    assert COPULA_MARGIN == 0.01
    # lower scores are closer; the copula must be at least 1 % closer than the Gaussian
    assert choose_marginals({"gaussian": 1.0, "empirical": 0.995}) == "gaussian"
    assert choose_marginals({"gaussian": 1.0, "empirical": 0.98}) == "empirical"
    assert choose_marginals({"gaussian": 2.0, "empirical": 1.98}) == "empirical"  # exactly 1 %
    assert choose_marginals({"gaussian": 0.9, "empirical": 1.2}) == "gaussian"
    # one candidate (marginals given, or counts): that one
    assert choose_marginals({"empirical": 5.0}) == "empirical"
    assert choose_marginals({"gaussian": 5.0}) == "gaussian"


def test_load_never_refits(trained, tmp_path):
    """Loading with other data of the same features restores the fitted transforms and start."""
    adata, gan = trained
    gan.save(tmp_path / "gan2")
    other = _toy(n_per_class=30, seed=7)
    other.X = other.X * 3 + 10
    loaded = og.models.OmicsGAN.load(tmp_path / "gan2", other)
    np.testing.assert_array_equal(gan.sample(6, seed=5).X, loaded.sample(6, seed=5).X)
    one_class = other[other.obs["cls"] == "a"].copy()
    loaded = og.models.OmicsGAN.load(tmp_path / "gan2", one_class)
    np.testing.assert_array_equal(gan.sample(6, seed=5).X, loaded.sample(6, seed=5).X)
