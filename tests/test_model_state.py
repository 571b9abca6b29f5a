"""Model state: transforms are fitted in ``train`` (never in the constructor), saved with the
model, and never refitted by ``load`` on other data; methods that need a trained model say so,
naming the class."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import omixgan as og

from .test_counts import _counts
from .test_translation import _paired

VAE_FAST = {"max_epochs": 3, "patience": 3, "progress_bar": False}
COUNT_FAST = {"max_epochs": 3, "progress_bar": False}
GAN_FAST = {"max_steps": 10, "eval_every": 5, "progress_bar": False}


def _assert_states_equal(a, b):
    """Two fitted pipeline states (lists of ``{"name": ..., parameter: array}``), exactly."""
    assert len(a) == len(b)
    for step_a, step_b in zip(a, b):
        assert step_a.keys() == step_b.keys()
        for key in step_a:
            np.testing.assert_array_equal(step_a[key], step_b[key])


def _shifted(mdata: md.MuData, seed: int) -> md.MuData:
    """Other samples with the same features: every value moved, betas kept in (0, 1)."""
    other = _paired(n=60, seed=seed, missing_target=0)[0]
    other["mrna"].X = other["mrna"].X * 3 + 10
    other["meth"].X = other["meth"].X ** 2
    assert list(other["mrna"].var_names) == list(mdata["mrna"].var_names)
    return other


def _cross_modal():
    mdata = _paired(n=80, missing_target=10)[0]
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "meth"], labels_key="cls")
    model = og.models.CrossModalVAE(mdata, n_latent=2, n_hidden=8, n_models=1)
    return mdata, model


def test_vae_transforms_are_fitted_in_train_not_in_the_constructor():
    mdata, model = _cross_modal()
    assert model.pipeline_state_ is None  # the constructor only decides the data types
    assert model.data_types_ == {"mrna": "gaussian", "meth": "beta"}
    model.train(calibration_fraction=0.0, **VAE_FAST)
    for mod in ("mrna", "meth"):
        fitted = og.pp.Pipeline.default_for(mdata[mod].X, model.data_types_[mod])
        fitted.fit(mdata[mod].X)
        _assert_states_equal(model.pipeline_state_[mod], fitted.state())


def test_crossmodalvae_load_on_other_data_never_refits(tmp_path):
    mdata, model = _cross_modal()
    model.train(calibration_fraction=0.0, **VAE_FAST)
    model.save(tmp_path / "m")
    other = _shifted(mdata, seed=5)
    loaded = og.models.CrossModalVAE.load(tmp_path / "m", other)
    for mod in ("mrna", "meth"):
        _assert_states_equal(loaded.pipeline_state_[mod], model.pipeline_state_[mod])
    # the original samples give the original outputs through the loaded model
    np.testing.assert_array_equal(
        loaded.translate(mdata, source="mrna", target="meth"),
        model.translate(mdata, source="mrna", target="meth"),
    )
    np.testing.assert_array_equal(
        loaded.get_latent_representation(mdata), model.get_latent_representation(mdata)
    )


def test_omicsvae_load_on_data_that_looks_like_another_type(tmp_path):
    """Data that would be detected as counts (whole numbers) does not change a model trained on
    gaussian data: its likelihood and transform are the trained ones."""
    adata = _paired(n=60, missing_target=0)[0]["mrna"].copy()
    og.models.OmicsVAE.setup_anndata(adata)
    model = og.models.OmicsVAE(adata, n_latent=2, n_hidden=8)
    model.train(**VAE_FAST)
    model.save(tmp_path / "m")
    whole = adata.copy()
    whole.X = np.round(np.abs(whole.X) * 5)  # non-negative whole numbers: "counts" if detected
    loaded = og.models.OmicsVAE.load(tmp_path / "m", whole)
    assert loaded.data_types_ == {"X": "gaussian"}
    _assert_states_equal(loaded.pipeline_state_["X"], model.pipeline_state_["X"])
    np.testing.assert_array_equal(
        loaded.get_latent_representation(adata), model.get_latent_representation(adata)
    )
    np.testing.assert_array_equal(loaded.sample(5, seed=2).X, model.sample(5, seed=2).X)


def test_omicsvae_on_counts_keeps_its_reference_library_on_load(tmp_path):
    rna, _ = _counts(n=80)
    og.models.OmicsVAE.setup_anndata(rna)
    model = og.models.OmicsVAE(rna, n_latent=2, n_hidden=8)
    assert model.data_types_ == {"X": "counts"}
    likelihood = model.module.members[0].decoders["X"].likelihood
    assert float(likelihood.reference_library) == 1.0  # set by train(), not the constructor
    model.train(**VAE_FAST)
    library = float(np.median(np.asarray(rna.X.sum(axis=1)).ravel()))
    assert float(likelihood.reference_library) == library
    model.save(tmp_path / "m")
    deeper = rna.copy()
    deeper.X = deeper.X * 3  # three times the sequencing depth
    loaded = og.models.OmicsVAE.load(tmp_path / "m", deeper)
    loaded_likelihood = loaded.module.members[0].decoders["X"].likelihood
    assert float(loaded_likelihood.reference_library) == library
    _assert_states_equal(loaded.pipeline_state_["X"], model.pipeline_state_["X"])
    np.testing.assert_array_equal(loaded.sample(4, seed=1).X, model.sample(4, seed=1).X)


def test_countvae_load_on_other_cells_keeps_what_training_fitted(tmp_path):
    rna, prot = _counts(n=80)
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"].to_numpy()
    og.models.CountVAE.setup_mudata(mdata, modalities=["rna", "prot"], labels_key="cell_type")
    model = og.models.CountVAE(mdata, n_latent=2, n_hidden=8)
    model.train(**COUNT_FAST)
    model.save(tmp_path / "m")
    rna2, prot2 = _counts(n=40, seed=3)
    other = md.MuData({"rna": rna2, "prot": prot2})
    other.obs["cell_type"] = rna2.obs["cell_type"].to_numpy()
    loaded = og.models.CountVAE.load(tmp_path / "m", other)
    np.testing.assert_array_equal(loaded.train_codes_, model.train_codes_)
    for key in model.train_targets_:
        np.testing.assert_array_equal(loaded.train_targets_[key], model.train_targets_[key])
    np.testing.assert_array_equal(
        loaded.translate(rna, target="prot"), model.translate(rna, target="prot")
    )
    np.testing.assert_array_equal(
        loaded.get_latent_representation(mdata), model.get_latent_representation(mdata)
    )


def _untrained_models():
    mdata = _paired(n=60, missing_target=0)[0]
    adata = mdata["mrna"].copy()
    adata.obs["cls"] = mdata.obs["cls"].to_numpy()
    og.models.OmicsVAE.setup_anndata(adata)
    omics_vae = og.models.OmicsVAE(adata, n_latent=2, n_hidden=8)
    cross = md.MuData({m: mdata[m].copy() for m in mdata.mod})
    cross.obs["cls"] = mdata.obs["cls"].to_numpy()
    og.models.CrossModalVAE.setup_mudata(cross, modalities=["mrna", "meth"])
    cross_vae = og.models.CrossModalVAE(cross, n_latent=2, n_hidden=8, n_models=1)
    rna, prot = _counts(n=40)
    counts = md.MuData({"rna": rna, "prot": prot})
    og.models.CountVAE.setup_mudata(counts, modalities=["rna", "prot"])
    count_vae = og.models.CountVAE(counts, n_latent=2, n_hidden=8)
    gan_data = adata.copy()
    og.models.OmicsGAN.setup_anndata(gan_data, labels_key="cls")
    gan = og.models.OmicsGAN(gan_data, n_hidden=8)
    return {
        "OmicsVAE": (
            omics_vae,
            [
                lambda m: m.get_latent_representation(),
                lambda m: m.decode(np.zeros((2, 2), dtype=np.float32)),
                lambda m: m.sample(3),
            ],
        ),
        "CrossModalVAE": (
            cross_vae,
            [
                lambda m: m.translate(source="mrna", target="meth"),
                lambda m: m.predict_interval(source="mrna", target="meth"),
                lambda m: m.blend_weights("mrna", "meth"),
                lambda m: m.get_latent_representation(),
                lambda m: m.get_latent_representation(modality="mrna"),
            ],
        ),
        "CountVAE": (
            count_vae,
            [
                lambda m: m.translate(target="prot"),
                lambda m: m.get_latent_representation(),
                lambda m: m.get_normalized_expression(),
                lambda m: m.sample(3),
            ],
        ),
        "OmicsGAN": (gan, [lambda m: m.sample(3)]),
    }


def test_methods_of_an_untrained_model_say_call_train_first(tmp_path):
    for name, (model, calls) in _untrained_models().items():
        message = rf"this {name} is not trained yet: call train\(\) first"
        for call in calls:
            with pytest.raises(RuntimeError, match=message):
                call(model)
        with pytest.raises(RuntimeError, match=message):
            model.save(tmp_path / name)
        assert not (tmp_path / name).exists()  # nothing half-written
        assert "not trained yet" in repr(model)


def test_retraining_refits_on_the_registered_data():
    """train() fits the transforms on the data registered now: the same data gives the same
    state, so training twice gives the same numbers."""
    adata = ad.AnnData(
        np.random.default_rng(0).normal(2.0, 3.0, size=(50, 5)).astype(np.float32),
        obs=pd.DataFrame(index=[f"s{i}" for i in range(50)]),
        var=pd.DataFrame(index=[f"f{j}" for j in range(5)]),
    )
    og.models.OmicsVAE.setup_anndata(adata)
    model = og.models.OmicsVAE(adata, n_latent=2, n_hidden=8)
    model.train(**VAE_FAST)
    first_state, first = model.pipeline_state_, model.get_latent_representation()
    model.train(**VAE_FAST)
    _assert_states_equal(model.pipeline_state_["X"], first_state["X"])
    np.testing.assert_array_equal(model.get_latent_representation(), first)
