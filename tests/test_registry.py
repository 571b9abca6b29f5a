"""Models read their data through the scvi-tools registry (AnnDataManager), as scvi-tools models
do: the registered layer and modality, labels through the registered categorical field, summary
statistics from the registry, and new data validated against it with clear errors."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from scvi import REGISTRY_KEYS
from scvi.data import AnnDataManager

import omixgan as og


def _adata(n=60, n_vars=6, seed=0, layer=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=3.0, size=(n, n_vars)).astype(np.float32)
    obs = pd.DataFrame(
        # categories deliberately not in sorted order: names come from the registry's mapping
        {"cls": pd.Categorical(np.where(np.arange(n) % 3 == 0, "b", "a"), categories=["b", "a"])},
        index=[f"s{i}" for i in range(n)],
    )
    adata = ad.AnnData(X, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(n_vars)]))
    if layer is not None:
        # the registered layer holds the data; .X holds values a model must never read
        adata.layers[layer] = adata.X.copy()
        adata.X = np.full_like(adata.X, np.nan)
    return adata


def _mudata(n=60, layer=None, missing=0):
    rng = np.random.default_rng(1)
    factor = rng.normal(size=(n, 2))
    names = [f"s{i}" for i in range(n)]
    a = (factor @ rng.normal(size=(2, 5))).astype(np.float32)
    b = (factor @ rng.normal(size=(2, 4))).astype(np.float32)
    genes, proteins = [f"g{j}" for j in range(5)], [f"p{j}" for j in range(4)]
    mods = {
        "mrna": ad.AnnData(a, obs=pd.DataFrame(index=names), var=pd.DataFrame(index=genes)),
        "prot": ad.AnnData(
            b[missing:], obs=pd.DataFrame(index=names[missing:]), var=pd.DataFrame(index=proteins)
        ),
    }
    for mod in mods.values():
        if layer is not None:
            mod.layers[layer] = mod.X.copy()
            mod.X = np.full_like(mod.X, np.nan)
    mdata = md.MuData(mods)
    mdata.obs["cls"] = pd.Categorical(np.where(factor[:, 0] > 0, "hi", "lo"))
    return mdata


@pytest.fixture
def registry_reads(monkeypatch):
    """The registry keys models read through ``AnnDataManager.get_from_registry``."""
    keys = []
    original = AnnDataManager.get_from_registry

    def spy(self, registry_key):
        keys.append(registry_key)
        return original(self, registry_key)

    monkeypatch.setattr(AnnDataManager, "get_from_registry", spy)
    return keys


def test_gan_reads_the_registered_layer_and_labels_through_the_registry(registry_reads):
    adata = _adata(layer="data")
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls", layer="data")
    gan = og.models.OmicsGAN(
        adata, per_class=False, marginals="gaussian", n_hidden=16
    )  # .X is NaN: not read
    assert REGISTRY_KEYS.X_KEY in registry_reads and REGISTRY_KEYS.LABELS_KEY in registry_reads
    assert gan.classes_ == ["a", "b"]  # the original category names, not scvi's codes
    # transforms are fitted in train(); no validation split: the start is fitted on every sample
    gan.train(max_steps=3, eval_every=3, seed=0, validation_fraction=0.0, progress_bar=False)
    # class means (model space) mapped back weigh up to the layer's feature means
    means = og.pp.Pipeline.from_state(gan.pipeline_state_).inverse(gan.class_mean_)
    np.testing.assert_allclose(
        np.average(means, axis=0, weights=[40, 20]), adata.layers["data"].mean(axis=0), rtol=1e-4
    )
    assert list(gan.sample({"b": 4}, seed=0).obs["cls"]) == ["b"] * 4


def test_crossmodal_vae_reads_the_layer_of_each_modality(registry_reads):
    mdata = _mudata(layer="data", missing=10)
    og.models.CrossModalVAE.setup_mudata(
        mdata, modalities=["mrna", "prot"], labels_key="cls", layer="data"
    )
    vae = og.models.CrossModalVAE(mdata, n_latent=2, n_hidden=8, n_models=1)
    assert {"X", "X_prot"} <= set(registry_reads)
    vae.train(max_epochs=2, seed=0, progress_bar=False)
    prediction = vae.translate(source="mrna", target="prot")
    assert prediction.shape == (60, 4) and np.isfinite(prediction).all()


def test_summary_stats_come_from_the_registry():
    adata = _adata()
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    gan = og.models.OmicsGAN(adata, n_hidden=16)
    assert gan.summary_stats.n_vars == adata.n_vars == gan._n_vars(None)
    assert gan.summary_stats.n_labels == len(gan.classes_) == 2

    mdata = _mudata(missing=10)
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "prot"])
    vae = og.models.CrossModalVAE(mdata, n_latent=2, n_hidden=8, n_models=1)
    stats = vae.summary_stats
    assert (stats.n_vars, stats.n_X_prot, stats.n_labels) == (5, 4, 1)
    assert {m: vae._n_vars(m) for m in vae.modalities} == {"mrna": 5, "prot": 4}


def test_new_data_is_validated_against_the_registry():
    mdata = _mudata(layer="data")
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "prot"], layer="data")
    vae = og.models.CrossModalVAE(mdata, n_latent=2, n_hidden=8, n_models=1)
    vae.train(max_epochs=2, seed=0, progress_bar=False)

    no_layer = _mudata()  # same features, but without the registered layer
    with pytest.raises(KeyError, match=r"layer 'data' \(from setup\) not found in modality 'mrna'"):
        vae.translate(no_layer, source="mrna", target="prot")
    with pytest.raises(KeyError, match="'mrna' is not a modality"):
        without_source = md.MuData({"prot": mdata["prot"].copy()})
        vae.translate(without_source, source="mrna", target="prot")
    fewer = md.MuData({"mrna": mdata["mrna"][:, 1:].copy(), "prot": mdata["prot"].copy()})
    with pytest.raises(ValueError, match=r"features of modality 'mrna' differ .*1 missing"):
        vae.translate(fewer, source="mrna", target="prot")

    # new data with the source modality only, as a view, with an unseen label: translated, and
    # the registry is transferred to it without touching the caller's values
    only_source = md.MuData({"mrna": mdata["mrna"].copy()})
    only_source.obs["cls"] = "unseen"
    before = only_source["mrna"].layers["data"].copy()
    expected = vae.translate(source="mrna", target="prot")
    translated = vae.translate(only_source, source="mrna", target="prot")
    np.testing.assert_array_equal(translated, expected)
    view = mdata[mdata.obs_names[:7]]
    np.testing.assert_array_equal(vae.translate(view, source="mrna", target="prot"), expected[:7])
    assert view.is_view  # read from a copy: scvi-tools would have made the caller's view a copy
    np.testing.assert_array_equal(only_source["mrna"].layers["data"], before)


def test_anndata_model_refuses_a_mudata_and_a_missing_layer():
    adata = _adata(layer="data")
    og.models.OmicsVAE.setup_anndata(adata, layer="data")
    vae = og.models.OmicsVAE(adata, n_latent=2, n_hidden=8)
    vae.train(max_epochs=2, seed=0, progress_bar=False)
    with pytest.raises(TypeError, match="set up on an AnnData"):
        vae.get_latent_representation(_mudata())
    with pytest.raises(KeyError, match=r"layer 'data' \(from setup\) not found"):
        vae.get_latent_representation(_adata())
    codes = vae.get_latent_representation(adata[:5].copy())
    # A 5-row batch may use other BLAS kernels than the full one: equal to float32 rounding.
    np.testing.assert_allclose(codes, vae.get_latent_representation()[:5], rtol=1e-6, atol=1e-7)


def test_setup_names_the_modality_that_lacks_the_layer():
    mdata = _mudata()
    first, second = list(mdata.mod)[:2]
    mdata[first].layers["counts"] = mdata[first].X.copy()
    before = {m: list(mdata[m].layers) for m in mdata.mod}
    with pytest.raises(ValueError, match=rf"layer 'counts' not found in modality '{second}'"):
        og.models.CrossModalVAE.setup_mudata(mdata, modalities=[first, second], layer="counts")
    assert {m: list(mdata[m].layers) for m in mdata.mod} == before  # nothing added or removed
    with pytest.raises(
        ValueError, match=r"layer 'counts' not found in the AnnData; its layers: \[\]"
    ):
        og.models.OmicsVAE.setup_anndata(_adata(), layer="counts")
