from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
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
    assert out.obs["synthetic"].all() and out.obs["cls"].value_counts().to_dict() == {
        "hi": 7,
        "lo": 5,
    }
    # only the 110 samples with both modalities are used for training
    assert "110 samples with every modality" in gan._model_summary_string


def test_reproducible_and_save_load(trained, tmp_path):
    mdata, gan = trained
    again = og.models.MultiOmicsGAN(mdata, n_hidden=32)
    again.train(**FAST)
    np.testing.assert_array_equal(
        gan.sample(4, seed=1)["meth"].X, again.sample(4, seed=1)["meth"].X
    )
    gan.save(tmp_path / "m")
    loaded = og.models.MultiOmicsGAN.load(tmp_path / "m", mdata)
    np.testing.assert_array_equal(
        gan.sample(4, seed=1)["mrna"].X, loaded.sample(4, seed=1)["mrna"].X
    )


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
    table = og.tl.evaluate_multiomics_generation(
        train, {"GAN": gan.sample(25, seed=0)}, reference=reference, labels_key="cls"
    )
    assert list(table.index) == [
        "held-out real (control)",
        "GAN",
        "class Gaussian per modality",
        "Gaussian copula per modality",
        "copy of train",
    ]
    assert {
        "mrna_two_sample_auc",
        "meth_dcr_ratio",
        "joint_two_sample_auc",
        "cross_correlation_distance",
    } <= set(table.columns)
    assert table.loc["copy of train", "joint_dcr_ratio"] == 0.0
    # the toy's modalities share a factor beyond the class: independent Gaussians lose that coupling
    assert (
        table.loc["class Gaussian per modality", "cross_correlation_distance"]
        > table.loc["copy of train", "cross_correlation_distance"]
    )
    with pytest.raises(TypeError, match="must be a MuData"):
        og.tl.evaluate_multiomics_generation(
            train["mrna"], {}, reference=reference, labels_key="cls"
        )


def _coupled(n, seed):
    """Two modalities driven sample by sample by a shared 3-D factor; the class shifts only the
    mean."""
    rng = np.random.default_rng(seed)
    load = np.random.default_rng(99)  # the same loadings in every draw: one distribution
    wa, wb = load.normal(size=(3, 10)), load.normal(size=(3, 7))
    labels = np.repeat(["x", "y"], n // 2)
    factor = rng.normal(size=(n, 3)) + 0.5 * (labels == "y")[:, None]
    names = [f"d{seed}_{i}" for i in range(n)]
    mods = {
        m: ad.AnnData(
            (factor @ w + 0.3 * rng.normal(size=(n, w.shape[1]))).astype(np.float32),
            obs=pd.DataFrame(index=names),
            var=pd.DataFrame(index=[f"{m}{j}" for j in range(w.shape[1])]),
        )
        for m, w in (("mrna", wa), ("prot", wb))
    }
    mdata = md.MuData(mods)
    mdata.obs["cls"] = pd.Categorical(labels)
    return mdata


def _shuffled_within_class(mdata, seed=0):
    """Each modality still real, but 'prot' comes from another sample of the same class."""
    rng = np.random.default_rng(seed)
    labels = mdata.obs["cls"].to_numpy()
    order = np.arange(mdata.n_obs)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        order[idx] = rng.permutation(idx)
    out = mdata.copy()
    out.mod["prot"].X = mdata["prot"].X[order]
    return out


def test_translator_consistency_known_answer():
    train, reference = _coupled(160, seed=1), _coupled(120, seed=2)
    fresh = _coupled(120, seed=3)  # a perfect generator: new draws from the true distribution
    synthetic = {"perfect": fresh, "shuffled within class": _shuffled_within_class(fresh)}
    table = og.tl.evaluate_multiomics_generation(
        train, synthetic, reference=reference, labels_key="cls"
    )
    assert "translator_r_mrna_to_prot" in table.columns
    r, consistency = table["translator_r_mrna_to_prot"], table["translator_consistency"]
    assert r["held-out real (control)"] > 0.9 and r["perfect"] > 0.9
    assert (
        0.95 < consistency["perfect"] < 1.05
        and 0.95 < consistency["held-out real (control)"] < 1.05
    )
    assert consistency["copy of train"] > 0.95
    # breaking the sample-level coupling leaves only what the class explains
    assert r["shuffled within class"] < 0.4 and consistency["shuffled within class"] < 0.4
    assert consistency["class Gaussian per modality"] < 0.4
    assert consistency["Gaussian copula per modality"] < 0.4


def test_joint_start_keeps_the_coupling_between_modalities(tmp_path):
    """The joint Gaussian start draws both modalities together: the shared factor survives
    (translator consistency near 1), which per-modality Gaussians lose. Saved and loaded with
    other data, it samples the same."""
    train, reference = _coupled(200, seed=1), _coupled(200, seed=2)
    og.models.MultiOmicsGAN.setup_mudata(train, modalities=["mrna", "prot"], labels_key="cls")
    gan = og.models.MultiOmicsGAN(train, n_hidden=16)
    gan.train(max_steps=1, validation_fraction=0.0, progress_bar=False)
    assert gan.per_class is True and gan.history is None
    table = og.tl.evaluate_multiomics_generation(
        train, {"joint": gan.sample(100, seed=0)}, reference=reference, labels_key="cls"
    )
    assert table.loc["joint", "translator_consistency"] > 0.9
    assert (
        table.loc["joint", "cross_correlation_distance"]
        < 0.5 * table.loc["class Gaussian per modality", "cross_correlation_distance"]
    )
    gan.save(tmp_path / "joint")
    loaded = og.models.MultiOmicsGAN.load(tmp_path / "joint", reference)
    np.testing.assert_array_equal(
        gan.sample(3, seed=2)["prot"].X, loaded.sample(3, seed=2)["prot"].X
    )


def _factor_correlation(loadings, diag):
    return loadings @ loadings.T + np.diag(diag**2)


def test_start_decouples_blocks_that_are_only_correlated_by_chance():
    """Two modalities drawn independently: their sample cross-correlations are chance, and the
    block start drops them, while each modality keeps the overall Ledoit-Wolf correlation."""
    from omixgan._utils import block_shrinkage_factor, shrinkage_factor

    rng = np.random.default_rng(0)
    n = 40
    a = rng.standard_normal((n, 6)) @ rng.standard_normal((6, 6))
    b = rng.standard_normal((n, 5)) @ rng.standard_normal((5, 5))
    Z = np.hstack([a, b])
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    plain = _factor_correlation(*shrinkage_factor(Z, n))
    blocked = _factor_correlation(*block_shrinkage_factor(Z, n, [6, 5]))
    assert np.abs(plain[:6, 6:]).max() > 0.15  # chance correlations of 40 samples
    np.testing.assert_allclose(blocked[:6, 6:], 0.0, atol=1e-10)
    np.testing.assert_allclose(blocked[:6, :6], plain[:6, :6], atol=1e-10)
    np.testing.assert_allclose(blocked[6:, 6:], plain[6:, 6:], atol=1e-10)
    np.testing.assert_allclose(np.diag(blocked), 1.0, atol=1e-10)


def test_start_keeps_the_coupling_of_strongly_coupled_blocks():
    """A modality that is a noisy copy of another: the pair's own intensity is weaker than the
    overall one, so the cross-correlations stay those of the overall Ledoit-Wolf estimate (never
    shrunk less than it; to 1 % here, where removing the product's small negative part moves
    them slightly), and the result is a valid correlation."""
    from omixgan._utils import block_shrinkage_factor, shrinkage_factor

    rng = np.random.default_rng(1)
    n = 60
    a = rng.standard_normal((n, 5)) @ rng.standard_normal((5, 5))
    Z = np.hstack([a, a + 0.3 * rng.standard_normal(a.shape), rng.standard_normal((n, 4))])
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    plain = _factor_correlation(*shrinkage_factor(Z, n))
    blocked = _factor_correlation(*block_shrinkage_factor(Z, n, [5, 5, 4]))
    np.testing.assert_allclose(blocked[:5, 5:10], plain[:5, 5:10], rtol=0.01)
    assert np.abs(blocked[:10, 10:]).max() < 0.8 * np.abs(plain[:10, 10:]).max()  # chance: shrunk
    assert np.linalg.eigvalsh(blocked).min() > -1e-10
    np.testing.assert_allclose(np.diag(blocked), 1.0, atol=1e-10)


def test_start_keeps_both_couplings_of_a_hub_modality():
    """A modality coupled to two others that are not coupled to each other (the pairs' kept
    fractions form an indefinite matrix): the strong pairs keep almost all of their coupling,
    the chance one is removed, and the result is still a valid correlation."""
    from omixgan._utils import block_shrinkage_factor, shrinkage_factor

    rng = np.random.default_rng(0)
    n = 80
    hub = rng.standard_normal((n, 20))
    b = hub[:, :10] @ rng.standard_normal((10, 15)) + 0.3 * rng.standard_normal((n, 15))
    c = hub[:, 10:] @ rng.standard_normal((10, 10)) + 0.3 * rng.standard_normal((n, 10))
    Z = np.hstack([hub, b, c])
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    plain = _factor_correlation(*shrinkage_factor(Z, n))
    blocked = _factor_correlation(*block_shrinkage_factor(Z, n, [20, 15, 10]))

    def kept(rows, cols):
        p, q = plain[rows, cols], blocked[rows, cols]
        return float((p * q).sum() / (p * p).sum())

    assert kept(slice(0, 20), slice(20, 35)) > 0.9
    assert kept(slice(0, 20), slice(35, 45)) > 0.9
    assert kept(slice(20, 35), slice(35, 45)) < 0.3
    assert np.linalg.eigvalsh(blocked).min() > -1e-10
    np.testing.assert_allclose(np.diag(blocked), 1.0, atol=1e-10)
    with pytest.raises(ValueError, match=r"cover 44 features, the data has 45"):
        block_shrinkage_factor(Z, n, [20, 15, 9])
