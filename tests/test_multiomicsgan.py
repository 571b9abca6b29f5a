from __future__ import annotations

import mudata as md
import numpy as np
import pytest

import omixgan as og

from .test_translation import _paired

FAST = {"max_steps": 40, "eval_every": 10, "progress_bar": False}


@pytest.fixture(scope="module")
def trained():
    mdata, _ = _paired(n=120, missing_target=10)
    og.models.MultiOmicsGAN.setup_mudata(mdata, modalities=["mrna", "meth"], labels_key="cls")
    gan = og.models.MultiOmicsGAN(mdata, n_hidden=32)
    gan.train(**FAST)
    return mdata, gan


def test_sample_is_a_mudata_in_original_units(trained):
    mdata, gan = trained
    out = gan.sample({"hi": 7, "lo": 5}, seed=0)
    assert isinstance(out, md.MuData)
    assert out["mrna"].shape == (12, 8) and out["meth"].shape == (12, 6)
    assert list(out["meth"].var_names) == list(mdata["meth"].var_names)
    assert (out["meth"].X > 0).all() and (out["meth"].X < 1).all()
    assert out.obs["synthetic"].all() and out.obs["cls"].value_counts().to_dict() == {"hi": 7, "lo": 5}
    # only the 110 samples with both modalities are used for training
    assert "110 samples with every modality" in gan._model_summary_string


def test_reproducible_and_save_load(trained, tmp_path):
    mdata, gan = trained
    again = og.models.MultiOmicsGAN(mdata, n_hidden=32)
    again.train(**FAST)
    np.testing.assert_array_equal(gan.sample(4, seed=1)["meth"].X, again.sample(4, seed=1)["meth"].X)
    gan.save(tmp_path / "m")
    loaded = og.models.MultiOmicsGAN.load(tmp_path / "m", mdata)
    np.testing.assert_array_equal(gan.sample(4, seed=1)["mrna"].X, loaded.sample(4, seed=1)["mrna"].X)


def test_errors(trained):
    mdata, gan = trained
    with pytest.raises(ValueError, match="at least two"):
        og.models.MultiOmicsGAN.setup_mudata(mdata, modalities=["mrna"])
    with pytest.raises(TypeError, match="needs several modalities"):
        og.models.MultiOmicsGAN.setup_anndata(mdata["mrna"])
    with pytest.raises(KeyError, match=r"unknown class\(es\)"):
        gan.sample({"nope": 1})


def test_evaluate_multiomics_generation(trained):
    mdata, gan = trained
    names = mdata["meth"].obs_names
    train, reference = mdata[names[:60]].copy(), mdata[names[60:]].copy()
    table = og.tl.evaluate_multiomics_generation(train, {"GAN": gan.sample(25, seed=0)}, reference=reference, labels_key="cls")
    assert list(table.index) == ["held-out real (control)", "GAN", "class Gaussian per modality", "copy of train"]
    assert {"mrna_two_sample_auc", "meth_dcr_ratio", "joint_two_sample_auc", "cross_correlation_distance"} <= set(table.columns)
    assert table.loc["copy of train", "joint_dcr_ratio"] == 0.0
    # the toy's modalities share a factor beyond the class: independent Gaussians lose that coupling
    assert table.loc["class Gaussian per modality", "cross_correlation_distance"] > table.loc["copy of train", "cross_correlation_distance"]
    with pytest.raises(TypeError, match="must be a MuData"):
        og.tl.evaluate_multiomics_generation(train["mrna"], {}, reference=reference, labels_key="cls")
