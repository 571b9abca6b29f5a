"""Count likelihoods, count checks and CountVAE on tiny synthetic counts."""

from __future__ import annotations

import warnings

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

import omixgan as og
from omixgan._utils import check_counts, check_dense_fits, is_count_matrix
from omixgan.module._counts import (
    CountDecoder,
    library_size_normalise,
    log_nb,
    log_normalise,
    log_zinb,
    sample_nb,
)


def _counts(n=160, g=30, p=4, seed=0):
    """Two cell types with different gene shares; proteins follow a latent program of the RNA."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(["A", "B"], n // 2)
    program = rng.normal(size=n) + (labels == "B") * 2.0
    shares = np.exp(rng.normal(size=g) + np.outer(program, rng.normal(size=g)) * 0.5)
    shares /= shares.sum(axis=1, keepdims=True)
    library = rng.integers(300, 1500, size=n)
    rna = rng.poisson(shares * library[:, None]).astype(np.float32)
    prot_rate = np.exp(2.0 + np.outer(program, rng.uniform(0.3, 1.0, size=p)))
    prot = rng.poisson(prot_rate).astype(np.float32)
    obs = pd.DataFrame({"cell_type": pd.Categorical(labels)}, index=[f"cell{i}" for i in range(n)])
    rna_ad = ad.AnnData(
        X=sp.csr_matrix(rna), obs=obs.copy(), var=pd.DataFrame(index=[f"g{j}" for j in range(g)])
    )
    prot_ad = ad.AnnData(
        X=prot, obs=obs.copy(), var=pd.DataFrame(index=[f"p{j}" for j in range(p)])
    )
    return rna_ad, prot_ad


# ------------------------------------------------------------------------------ likelihoods


def test_log_nb_matches_scipy_and_zinb_reduces_to_nb():
    from scipy.stats import nbinom

    x = torch.tensor([0.0, 1.0, 5.0, 40.0])
    mu = torch.tensor([0.5, 2.0, 5.0, 30.0])
    theta = torch.tensor([1.0, 3.0, 10.0, 0.7])
    p = (theta / (theta + mu)).numpy()
    expected = nbinom.logpmf(x.numpy(), theta.numpy(), p)
    np.testing.assert_allclose(log_nb(x, mu, theta).numpy(), expected, rtol=1e-4, atol=1e-4)
    # no zero inflation (pi -> 0) is the NB; strong zero inflation raises the probability of a 0
    nb = log_nb(x, mu, theta)
    np.testing.assert_allclose(
        log_zinb(x, mu, theta, torch.full_like(x, -30.0)).numpy(), nb.numpy(), atol=1e-4
    )
    assert log_zinb(x, mu, theta, torch.full_like(x, 3.0))[0] > nb[0]


def test_sample_nb_whole_numbers_with_the_right_mean_and_variance():
    gen = torch.Generator().manual_seed(0)
    mu, theta = torch.full((20000, 1), 8.0), torch.full((20000, 1), 2.0)
    x = sample_nb(mu, theta, generator=gen)
    assert torch.equal(x, x.round()) and (x >= 0).all()
    assert abs(x.mean().item() - 8.0) < 0.2
    assert abs(x.var().item() - (8.0 + 64.0 / 2.0)) < 2.0
    again = sample_nb(mu, theta, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, again)


def test_decoder_scales_shares_by_the_library_and_lsn_rescales_rows():
    torch.manual_seed(0)
    dec = CountDecoder(3, 7, 8, 1)
    z = torch.randn(5, 3)
    lib = torch.tensor([[10.0], [100.0], [1000.0], [5.0], [1.0]])
    mu = dec(z, lib)["mu"]
    np.testing.assert_allclose(mu.sum(dim=1).detach().numpy(), lib[:, 0].numpy(), rtol=1e-5)
    out = library_size_normalise(torch.rand(4, 6), torch.tensor([[2.0], [3.0], [4.0], [5.0]]))
    np.testing.assert_allclose(out.sum(dim=1).numpy(), [2, 3, 4, 5], rtol=1e-5)
    x = torch.tensor([[1.0, 3.0], [10.0, 30.0]])
    # log-normalisation removes depth: two cells of the same composition look the same
    np.testing.assert_allclose(log_normalise(x)[0].numpy(), log_normalise(x)[1].numpy(), rtol=1e-6)


# ------------------------------------------------------------------------------ checks


def test_is_count_matrix_dense_and_sparse():
    assert is_count_matrix(np.array([[0, 3], [2, 0]], dtype=np.float32))
    assert is_count_matrix(sp.csr_matrix(np.array([[0, 3], [2, 0]], dtype=np.float32)))
    assert not is_count_matrix(np.array([[0.5, 3], [2, 0]]))
    assert not is_count_matrix(np.array([[-1.0, 3], [2, 0]]))
    assert not is_count_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))  # indicators / beta values


@pytest.mark.parametrize(
    "value, words",
    [
        (-2.0, ["negative", "'c1'", "'g2'", "layer='counts'"]),
        (1.5, ["non-integer", "'c1'", "'g2'"]),
        (np.nan, ["missing", "'c1'", "'g2'"]),
    ],
)
def test_check_counts_names_the_cell_and_gene(value, words):
    X = np.ones((3, 4), dtype=np.float32)
    X[1, 2] = value
    with pytest.raises(ValueError) as err:
        check_counts(
            X,
            obs_names=["c0", "c1", "c2"],
            var_names=["g0", "g1", "g2", "g3"],
            name="modality 'rna'",
        )
    for w in words:
        assert w in str(err.value)


def test_check_counts_empty_cells_and_genes():
    X = sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 0], [3, 0, 1]], dtype=np.float32))
    with pytest.raises(ValueError, match="without any count, e.g. 'b'.*filter_cells"):
        check_counts(X, obs_names=["a", "b", "c"], var_names=["x", "y", "z"])
    X = np.array([[1, 0, 2], [4, 0, 1]], dtype=np.float32)
    with pytest.warns(UserWarning, match="no count in any cell, e.g. 'y'.*filter_genes"):
        check_counts(X, obs_names=["a", "b"], var_names=["x", "y", "z"])


def test_dense_memory_check_suggests_hvg_selection():
    with pytest.raises(MemoryError, match="highly_variable_genes"):
        check_dense_fits(200_000, 30_000, name="modality 'rna'", available=16 * 2**30)
    check_dense_fits(2_000, 2_000, available=16 * 2**30)


# ------------------------------------------------------------------------------ CountVAE


def test_countvae_translation_in_counts_from_a_layer(tmp_path):
    rna, prot = _counts()
    rna.layers["counts"] = rna.X.copy()
    rna.X = sp.csr_matrix(
        np.log1p(rna.X.toarray())
    )  # .X log-normalised, counts in a layer: scanpy habit
    prot.layers["counts"] = prot.X.copy()
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    before = mdata["rna"].X.copy()
    og.models.CountVAE.setup_mudata(
        mdata, modalities=["rna", "prot"], labels_key="cell_type", layer="counts"
    )
    model = og.models.CountVAE(mdata, n_latent=4, n_hidden=32)
    model.train(max_epochs=30, progress_bar=False, seed=0)
    pred = model.translate(mdata["rna"])
    assert pred.shape == (mdata.n_obs, 4) and (pred >= 0).all()
    truth = np.log1p(mdata["prot"].layers["counts"])
    r = [np.corrcoef(truth[:, j], np.log1p(pred[:, j]))[0, 1] for j in range(4)]
    assert np.mean(r) > 0.5
    decoder_only = model.translate(mdata["rna"], neighbor_blend=0.0, linear_blend=0.0)
    assert not np.allclose(decoder_only, pred)
    assert (mdata["rna"].X != before).nnz == 0  # the user's object is untouched
    again = og.models.CountVAE(mdata, n_latent=4, n_hidden=32)
    again.train(max_epochs=30, progress_bar=False, seed=0)
    np.testing.assert_allclose(again.translate(mdata["rna"]), pred, rtol=1e-5)
    with pytest.raises(KeyError, match="target='rna'"):
        model.translate(target="rna")


def test_countvae_translation_blend_weights_are_fitted_on_the_validation_cells(tmp_path):
    from omixgan.model._counts import BLEND_PARTS

    rna, prot = _counts(n=400)
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    og.models.CountVAE.setup_mudata(mdata, modalities=["rna", "prot"], labels_key="cell_type")
    # the four predictors without the boosted trees (tested on their own below)
    model = og.models.CountVAE(mdata, n_latent=4, n_hidden=32, boosted_trees=False)
    model.train(max_epochs=20, validation_fraction=0.2, progress_bar=False, seed=0)
    W = model.blend_weights_["prot"]
    assert W.shape == (4, len(BLEND_PARTS)) and (W >= 0).all()
    assert (W[:, 4] == 0).all() and model.boosters_ == {}
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    # per protein, not one weight for all, and not the fallback of equal thirds
    assert not np.allclose(W, W[0]) and not np.allclose(W, np.array([0, 1, 1, 1, 0]) / 3)
    # translate is that weighted mean of the four predictions in log1p space
    parts = [
        np.log1p(model.translate(mdata["rna"], neighbor_blend=0.0, linear_blend=0.0)),
        np.log1p(model.translate(mdata["rna"], neighbor_blend=1.0, linear_blend=0.0)),
        None,
        np.log1p(model.translate(mdata["rna"], neighbor_blend=0.0, linear_blend=1.0)),
    ]
    pred = np.log1p(model.translate(mdata["rna"]))
    known = sum(W[:, k] * parts[k] for k in (0, 1, 3))
    # the expression neighbours' share is what is left; it averages measured log1p values
    expression = (pred - known)[:, W[:, 2] > 0.05] / W[W[:, 2] > 0.05, 2]
    y = np.log1p(prot.X)[:, W[:, 2] > 0.05]
    assert (expression >= y.min(axis=0) - 1e-4).all() and (expression <= y.max(axis=0) + 1e-4).all()
    # saved with the model
    model.save(str(tmp_path / "m"))
    loaded = og.models.CountVAE.load(str(tmp_path / "m"), mdata)
    np.testing.assert_allclose(loaded.translate(mdata["rna"]), model.translate(mdata["rna"]))
    # without validation cells: a third each to the neighbours and the linear map
    model.train(max_epochs=5, validation_fraction=0.0, progress_bar=False, seed=0)
    np.testing.assert_allclose(
        model.blend_weights_["prot"], np.tile([0, 1 / 3, 1 / 3, 1 / 3, 0], (4, 1))
    )
    with pytest.raises(ValueError, match="both 'auto'.*or both numbers"):
        model.translate(neighbor_blend=0.5)
    with pytest.raises(ValueError, match="both 'auto'.*or both numbers"):
        og.models.CountVAE(mdata, linear_blend=0.3)
    with pytest.raises(ValueError, match="at most 1"):
        og.models.CountVAE(mdata, neighbor_blend=0.7, linear_blend=0.5)


def _cite_model(tmp_path=None, **kwargs):
    rna, prot = _counts(n=240)
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    og.models.CountVAE.setup_mudata(mdata, modalities=["rna", "prot"], labels_key="cell_type")
    return mdata, og.models.CountVAE(mdata, n_latent=4, n_hidden=32, **kwargs)


def _knn_mean(ref_codes, ref_targets, query):
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=15).fit(ref_codes).kneighbors(query, return_distance=False)
    return ref_targets[idx].mean(axis=1)


def test_latent_neighbours_of_posterior_draws_are_seeded_and_saved(tmp_path):
    from omixgan.model._counts import NEIGHBOR_SAMPLES

    mdata, model = _cite_model()
    assert model.neighbor_samples == NEIGHBOR_SAMPLES == 30  # the default
    model.train(max_epochs=15, validation_fraction=0.2, progress_bar=False, seed=3)
    # the global random states (legacy numpy and torch) are what a user's script may rely on
    np.random.seed(123)  # noqa: NPY002
    torch.manual_seed(123)
    expected_np, expected_torch = np.random.random(), torch.rand(1)  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    torch.manual_seed(123)
    pred = model.translate(mdata["rna"])
    nb_only = model.translate(mdata["rna"], neighbor_blend=1.0, linear_blend=0.0)
    # the draws come from their own generator: the global random states are untouched
    assert np.random.random() == expected_np  # noqa: NPY002
    assert torch.equal(torch.rand(1), expected_torch)
    # same model, same cells: the same numbers, whatever the global state
    np.random.seed(7)  # noqa: NPY002
    np.testing.assert_array_equal(model.translate(mdata["rna"]), pred)
    # what the latent neighbours are: 30 draws from q(z|x) with a generator seeded by the
    # training seed, 15 nearest training codes (posterior means) each, their mean log1p targets
    with torch.no_grad():
        mu, logvar = model.module.encode(torch.from_numpy(mdata["rna"].X.toarray()))
    mu, sd = mu.numpy(), np.sqrt(logvar.exp().numpy())
    rng = np.random.default_rng(3)
    ref, y = model.train_codes_, model.train_targets_["prot"]
    draws = [_knn_mean(ref, y, mu + rng.standard_normal(mu.shape) * sd) for _ in range(30)]
    np.testing.assert_allclose(np.log1p(nb_only), np.mean(draws, axis=0), rtol=1e-5, atol=1e-5)
    assert not np.allclose(np.log1p(nb_only), _knn_mean(ref, y, mu), atol=1e-3)
    # a second model from the same seed: identical translations
    _, again = _cite_model()
    again.train(max_epochs=15, validation_fraction=0.2, progress_bar=False, seed=3)
    np.testing.assert_array_equal(again.translate(mdata["rna"]), pred)
    # neighbor_samples=0: the posterior mean's neighbours (the behaviour before the draws), and
    # the blend weights fitted with that predictor
    _, mean_model = _cite_model(neighbor_samples=0)
    mean_model.train(max_epochs=15, validation_fraction=0.2, progress_bar=False, seed=3)
    np.testing.assert_allclose(mean_model.train_codes_, model.train_codes_)  # same training
    np.testing.assert_allclose(
        np.log1p(mean_model.translate(mdata["rna"], neighbor_blend=1.0, linear_blend=0.0)),
        _knn_mean(ref, y, mu),
        rtol=1e-5,
        atol=1e-5,
    )
    assert not np.allclose(mean_model.blend_weights_["prot"], model.blend_weights_["prot"])
    # saved and loaded: the setting, the seed and the predictions are kept
    _, five = _cite_model(neighbor_samples=5)
    five.train(max_epochs=5, validation_fraction=0.2, progress_bar=False, seed=4)
    five.save(str(tmp_path / "m"))
    loaded = og.models.CountVAE.load(str(tmp_path / "m"), mdata)
    assert loaded.neighbor_samples == 5 and loaded.train_seed_ == 4
    np.testing.assert_array_equal(loaded.translate(mdata["rna"]), five.translate(mdata["rna"]))
    # a model saved before the draws existed (no seed, no setting): it predicts as it did
    path = tmp_path / "m" / "model.pt"
    saved = torch.load(path, weights_only=False)
    del saved["attr_dict"]["train_seed_"]
    del saved["attr_dict"]["init_params_"]["non_kwargs"]["neighbor_samples"]
    torch.save(saved, path)
    old = og.models.CountVAE.load(str(tmp_path / "m"), mdata)
    assert old.neighbor_samples == 0


@pytest.mark.parametrize("bad", [-1, 2.5, "30", True, None])
def test_neighbor_samples_must_be_a_whole_number_at_least_0(bad):
    mdata, _ = _cite_model()
    with pytest.raises(ValueError, match="neighbor_samples must be a whole number >= 0"):
        og.models.CountVAE(mdata, neighbor_samples=bad)


def test_blend_weights_follow_the_predictor_that_tracks_the_target():
    from omixgan.model._counts import _fit_weights

    rng = np.random.default_rng(0)
    y = rng.normal(size=(500, 3))
    good, noise = y + 0.1 * rng.normal(size=y.shape), rng.normal(size=y.shape)
    # a constant offset does not matter (the fit is on centred values); a useless predictor
    # gets (almost) no weight
    W = _fit_weights([noise, good + 5.0], y)
    assert (W[:, 1] > 0.95).all()
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    # a feature no predictor follows: equal weights
    np.testing.assert_allclose(_fit_weights([-y, -2 * y], y), 0.5)


def test_countvae_samples_whole_counts_per_cell_type_with_the_types_library():
    rna, _ = _counts()
    og.models.CountVAE.setup_anndata(rna, labels_key="cell_type")
    model = og.models.CountVAE(rna, n_latent=4, n_hidden=32)
    model.train(max_epochs=20, progress_bar=False)
    syn = model.sample({"A": 50, "B": 10}, seed=1)
    X = syn.X
    assert X.shape == (60, rna.n_vars) and (X >= 0).all() and np.array_equal(X, np.round(X))
    assert syn.obs["synthetic"].all() and syn.obs["cell_type"].value_counts().to_dict() == {
        "A": 50,
        "B": 10,
    }
    assert np.array_equal(syn.layers["counts"], X)
    real_lib = rna.X.toarray().sum(axis=1)
    # library sizes come from the type's real cells (plus NB noise around them)
    assert real_lib.min() * 0.5 < X.sum(axis=1).mean() < real_lib.max()
    np.testing.assert_array_equal(
        model.sample({"A": 5}, seed=3).X, model.sample({"A": 5}, seed=3).X
    )
    latent = model.get_latent_representation()
    assert latent.shape == (rna.n_obs, 4)
    norm = model.get_normalized_expression(library_size=1e4)
    np.testing.assert_allclose(norm.sum(axis=1), 1e4, rtol=1e-3)


def test_countvae_rejects_non_counts_with_a_clear_message():
    rna, _ = _counts()
    bad = rna.copy()
    bad.X = sp.csr_matrix(np.log1p(bad.X.toarray()))
    og.models.CountVAE.setup_anndata(bad)
    with pytest.raises(ValueError, match="non-integer.*layer='counts'"):
        og.models.CountVAE(bad)
    with pytest.raises(ValueError, match="counts"):  # a missing layer is refused at setup
        og.models.CountVAE.setup_anndata(rna, layer="counts")


def test_count_gaussian_whole_counts_per_type_and_dither_keeps_the_log_mean():
    rna, _ = _counts()
    before = rna.X.copy()
    syn = og.tl.count_gaussian(
        rna, labels_key="cell_type", n_per_class={"A": 40, "B": 7}, n_pcs=5, random_state=0
    )
    X = syn.X
    assert X.shape == (47, rna.n_vars) and (X >= 0).all() and np.array_equal(X, np.round(X))
    assert (
        syn.obs["cell_type"].value_counts().to_dict() == {"A": 40, "B": 7}
        and syn.obs["synthetic"].all()
    )
    assert (rna.X != before).nnz == 0
    again = og.tl.count_gaussian(
        rna, labels_key="cell_type", n_per_class={"A": 40, "B": 7}, n_pcs=5, random_state=0
    )
    np.testing.assert_array_equal(again.X, X)
    # types keep their own composition: synthetic A is closer to real A than to real B
    real = np.log1p(rna.X.toarray() / rna.X.toarray().sum(1, keepdims=True) * 1e4)
    synl = np.log1p(X / X.sum(1, keepdims=True) * 1e4)
    a, b = real[rna.obs["cell_type"] == "A"].mean(0), real[rna.obs["cell_type"] == "B"].mean(0)
    assert np.linalg.norm(synl[:40].mean(0) - a) < np.linalg.norm(synl[:40].mean(0) - b)
    from omixgan.tl._counts import dither_counts

    rng = np.random.default_rng(0)
    y = np.full((20000, 1), 1.3)
    c = dither_counts(y, np.full(20000, 2500.0), rng)
    assert set(np.unique(c)) <= {0.0, 1.0, 2.0} and abs(np.log1p(c * 4.0).mean() - 1.3) < 0.02
    with pytest.raises(ValueError, match="non-integer"):
        og.tl.count_gaussian(ad.AnnData(np.full((4, 3), 0.5, dtype=np.float32)), labels_key=None)


def test_nb_likelihood_seam_depth_is_an_offset():
    from omixgan.module._counts import NBLikelihood

    lik = NBLikelihood(3)
    lik.set_reference_library(10.0)
    counts = torch.tensor([[2.0, 5.0, 3.0], [20.0, 50.0, 30.0]])
    rates = torch.log(torch.tensor([[2.0, 5.0, 3.0], [2.0, 5.0, 3.0]]))
    nll = lik.nll(rates, torch.log1p(counts))
    # the rates at the reference depth (10) fit both cells: the deeper one through its library;
    # the wrong composition is worse at either depth
    wrong = lik.nll(
        torch.log(torch.tensor([[5.0, 2.0, 3.0], [5.0, 2.0, 3.0]])), torch.log1p(counts)
    )
    assert (nll < wrong).all()
    np.testing.assert_allclose(torch.expm1(lik.mean(rates))[0].numpy(), [2.0, 5.0, 3.0], rtol=1e-5)


def test_counts_data_type_detected_declared_and_overridable():
    from omixgan.pp import Pipeline, resolve_data_type

    rna, _ = _counts()
    X = rna.X.toarray()
    assert resolve_data_type(X) == "counts" and "counts" in resolve_data_type(X).reason
    assert resolve_data_type(X, "gaussian") == "gaussian"  # a declaration wins
    assert resolve_data_type(np.log1p(X)) == "gaussian"
    with pytest.raises(ValueError, match="non-integer"):
        resolve_data_type(np.log1p(X) + 0.5, "counts", name="rna")
    pipe = Pipeline.default_for(X, "counts")
    np.testing.assert_allclose(pipe.inverse(pipe.fit(X).transform(X)), X, rtol=1e-5, atol=1e-4)


def test_crossmodalvae_models_counts_with_a_negative_binomial():
    rna, prot = _counts(n=120)
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["rna", "prot"], labels_key="cell_type")
    model = og.models.CrossModalVAE(mdata, n_models=1)
    assert model.data_types_ == {"rna": "counts", "prot": "counts"}  # detected, sparse rna too
    from omixgan.module._counts import NBLikelihood

    lik = model.module.members[0].decoders["prot"].likelihood
    assert isinstance(lik, NBLikelihood)
    model.train(max_epochs=15, progress_bar=False)
    # the median library, fitted by train() with the transforms
    assert float(lik.reference_library) == float(np.median(prot.X.sum(axis=1)))
    pred = model.translate(mdata, source="rna", target="prot")
    assert pred.shape == (120, 4) and (pred >= 0).all()
    # in counts, at the scale of the data
    assert 0.5 < pred.mean() / prot.X.mean() < 2.0
    declared = og.models.CrossModalVAE(mdata, n_models=1, data_types={"prot": "gaussian"})
    assert declared.data_types_["prot"] == "gaussian"


def test_boosted_trees_join_the_blend_with_inputs_from_other_cells(tmp_path):
    from omixgan.model._counts import (
        _apply_linear_map,
        _fit_boosters,
        _lognorm,
        _principal_components,
        _reference_inputs,
        _select_genes,
    )

    mdata, model = _cite_model()
    assert model.boosted_trees == "auto"
    model.train(max_epochs=15, validation_fraction=0.2, progress_bar=False, seed=0)
    W = model.blend_weights_["prot"]
    assert W.shape == (4, 5) and W[:, 4].any()  # the trees earned a weight
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    trees = model.boosters_["prot"]
    assert len(trees) == 4  # one per protein
    # the genes among their inputs: chosen on the training cells' counts and proteins
    X = mdata["rna"].X.toarray()
    genes = model.booster_genes_["prot"]
    np.testing.assert_array_equal(genes, _select_genes(X, model.train_targets_["prot"]))
    # at query time the trees see the code, 30 components, the posterior mean's 15 latent
    # neighbours, the linear map and the cell's own expression of those genes; translate blends
    # their prediction with the fifth weight
    with torch.no_grad():
        mu = model.module.encode(torch.from_numpy(X))[0].numpy()
    lin = _apply_linear_map(model.linear_maps_["prot"], X)
    pcs = _principal_components(model.linear_maps_["prot"], X)
    neighbours = _knn_mean(model.train_codes_, model.train_targets_["prot"], mu)
    inputs = np.hstack([mu, pcs[:, :30], neighbours, lin, _lognorm(X)[:, genes]])
    boosted = np.column_stack([t.predict(inputs) for t in trees])
    four = W[:, :4] / W[:, :4].sum(axis=1, keepdims=True)
    pred = np.log1p(model.translate(mdata["rna"]))
    model.blend_weights_["prot"] = np.c_[four, np.zeros(4)]
    rest = np.log1p(model.translate(mdata["rna"]))
    model.blend_weights_["prot"] = W
    np.testing.assert_allclose(
        pred, W[:, :4].sum(axis=1) * rest + W[:, 4] * boosted, rtol=1e-5, atol=1e-5
    )
    # saved and loaded: the trees come along
    model.save(str(tmp_path / "m"))
    loaded = og.models.CountVAE.load(str(tmp_path / "m"), mdata)
    np.testing.assert_array_equal(loaded.translate(mdata["rna"]), model.translate(mdata["rna"]))
    # a model saved before the trees existed (four weights, no trees) predicts with the four
    path = tmp_path / "m" / "model.pt"
    saved = torch.load(path, weights_only=False)
    saved["attr_dict"]["blend_weights_"]["prot"] = four
    del saved["attr_dict"]["boosters_"]
    del saved["attr_dict"]["init_params_"]["non_kwargs"]["boosted_trees"]
    torch.save(saved, path)
    old = og.models.CountVAE.load(str(tmp_path / "m"), mdata)
    np.testing.assert_allclose(np.log1p(old.translate(mdata["rna"])), rest, rtol=1e-5, atol=1e-5)
    # trees saved before genes were among their inputs (no booster_genes_) still predict, from
    # the other inputs alone
    y = model.train_targets_["prot"]
    no_genes = np.empty((len(X), 0))
    model.boosters_["prot"] = _fit_boosters(
        _reference_inputs(model.train_codes_, model.train_pcs_, y, no_genes), y, 0
    )
    model.save(str(tmp_path / "g"))
    path = tmp_path / "g" / "model.pt"
    saved = torch.load(path, weights_only=False)
    del saved["attr_dict"]["booster_genes_"]
    torch.save(saved, path)
    older = og.models.CountVAE.load(str(tmp_path / "g"), mdata)
    boosted = np.column_stack(
        [t.predict(inputs[:, : -len(genes)]) for t in model.boosters_["prot"]]
    )
    np.testing.assert_allclose(
        np.log1p(older.translate(mdata["rna"])),
        W[:, :4].sum(axis=1) * rest + W[:, 4] * boosted,
        rtol=1e-5,
        atol=1e-5,
    )


def test_boosted_trees_genes_are_the_most_correlated_per_target_feature(monkeypatch):
    import omixgan.model._counts as counts

    rng = np.random.default_rng(0)
    X = rng.poisson(5.0, size=(300, 40)).astype(float)
    X[:, 39] = 0.0  # a gene never detected: constant, r = 0 rather than a division error
    L = counts._lognorm(X)
    targets = np.column_stack([L[:, 7], -L[:, 12] + 0.1 * rng.normal(size=300)])
    genes = counts._select_genes(X, targets)
    assert counts.BOOSTED_GENES_PER_FEATURE == 5 and len(genes) <= 2 * 5  # a union of top 5s
    assert {7, 12} <= set(genes) and list(genes) == sorted(genes)
    # the trees' inputs: those columns of the log-normalised counts, computed alone
    np.testing.assert_array_equal(counts._lognorm_genes(X, genes), L[:, genes])
    # a constant target feature correlates with nothing: no gene, and no division error
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(counts._select_genes(X, np.c_[targets, np.ones(300)]), genes)
    # with many target features, fewer genes per feature (at least one), and never more than
    # the cap in all: the most correlated
    monkeypatch.setattr(counts, "MAX_BOOSTED_GENES", 3)
    assert set(counts._select_genes(X, targets)) == {7, 12}  # 3 // 2 = 1 per feature
    monkeypatch.setattr(counts, "MAX_BOOSTED_GENES", 1)
    assert list(counts._select_genes(X, targets)) == [7]  # r = 1 beats r of about 0.99


def test_boosted_trees_learn_each_cell_as_a_query_would_be_seen():
    from sklearn.neighbors import NearestNeighbors

    from omixgan.model._counts import _reference_inputs

    rng = np.random.default_rng(0)
    codes, pcs = rng.normal(size=(60, 3)), rng.normal(size=(60, 40))
    targets = np.arange(60.0)[:, None] * np.ones((1, 2)) + rng.normal(size=(60, 2))
    expression = rng.normal(size=(60, 4))
    inputs = _reference_inputs(codes, pcs, targets, expression)
    assert inputs.shape == (60, 3 + 30 + 2 + 2 + 4)
    np.testing.assert_array_equal(inputs[:, :33], np.hstack([codes, pcs[:, :30]]))
    np.testing.assert_array_equal(inputs[:, 37:], expression)  # the cell's own, as a query's
    # neighbours: the 15 nearest *other* cells
    idx = NearestNeighbors(n_neighbors=16).fit(codes).kneighbors(codes, return_distance=False)
    others = np.array([[j for j in row if j != i][:15] for i, row in enumerate(idx)])
    np.testing.assert_allclose(inputs[:, 33:35], targets[others].mean(axis=1))
    # ridge: fitted without the cell (5 folds); cell 0's prediction does not move with its target
    moved = targets.copy()
    moved[0] += 1000.0
    again = _reference_inputs(codes, pcs, moved, expression)
    np.testing.assert_allclose(again[0, 35:37], inputs[0, 35:37])
    assert not np.allclose(again[1:, 35:37], inputs[1:, 35:37])  # but the other folds' do


def test_boosted_trees_auto_skips_large_targets_and_bad_values_are_refused(monkeypatch):
    import omixgan.model._counts as counts

    monkeypatch.setattr(counts, "MAX_BOOSTED_FEATURES", 3)  # 4 proteins: "large"
    mdata, model = _cite_model()
    model.train(max_epochs=5, validation_fraction=0.2, progress_bar=False, seed=0)
    assert model.boosters_ == {} and (model.blend_weights_["prot"][:, 4] == 0).all()
    fitted_on = []
    fit = counts._fit_boosters

    def recording(inputs, targets, seed, bar=None):
        fitted_on.append(len(inputs))
        return fit(inputs, targets, seed, bar)

    monkeypatch.setattr(counts, "_fit_boosters", recording)
    select = counts._select_genes
    selected_on = []

    def recording_selection(X, targets):
        selected_on.append(len(X))
        return select(X, targets)

    monkeypatch.setattr(counts, "_select_genes", recording_selection)
    _, forced = _cite_model(boosted_trees=True)  # True: whatever the number of features
    forced.train(max_epochs=5, validation_fraction=0.2, progress_bar=False, seed=0)
    # the calibration trees learn from the training cells outside the validation cells, and
    # choose their genes there too (the validation cells' proteins stay unseen)
    assert fitted_on[0] == selected_on[0] == 240 - 48
    # a fixed blend never uses the trees: none are fitted
    fitted_on.clear()
    _, fixed = _cite_model(boosted_trees=True, neighbor_blend=0.5, linear_blend=0.5)
    fixed.train(max_epochs=5, validation_fraction=0.2, progress_bar=False, seed=0)
    assert fitted_on == [] and fixed.boosters_ == {}
    for bad in ("yes", 1, None, np.array([True])):
        with pytest.raises(ValueError, match="boosted_trees must be 'auto', True or False"):
            og.models.CountVAE(mdata, boosted_trees=bad)


def test_boosted_trees_learn_from_a_seeded_subset_of_many_cells(monkeypatch):
    import omixgan.model._counts as counts

    monkeypatch.setattr(counts, "MAX_BOOSTED_CELLS", 50)
    # every input at every split: the seed then reaches the trees only through the subset
    every_input = {k: v for k, v in counts.BOOSTED_PARAMS.items() if k != "max_features"}
    monkeypatch.setattr(counts, "BOOSTED_PARAMS", every_input)
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(120, 4)), rng.normal(size=(120, 2))
    trees = counts._fit_boosters(inputs, targets, seed=3)
    assert len(trees) == 2
    assert all(t.n_features_in_ == 4 for t in trees)
    # the subset is drawn with the seed: the same seed, the same trees
    again = counts._fit_boosters(inputs, targets, seed=3)
    np.testing.assert_array_equal(trees[0].predict(inputs), again[0].predict(inputs))
    other = counts._fit_boosters(inputs, targets, seed=4)
    assert not np.allclose(trees[0].predict(inputs), other[0].predict(inputs))


def test_boosted_trees_split_on_a_seeded_random_share_of_the_inputs():
    import omixgan.model._counts as counts

    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(300, 10))
    # the signal lies in two of the ten inputs, which a split sees only some of the time
    targets = (inputs[:, 0] + inputs[:, 1] + 0.1 * rng.normal(size=300))[:, None]
    trees = counts._fit_boosters(inputs, targets, seed=3)
    assert trees[0].max_features == counts.BOOSTED_PARAMS["max_features"] == 0.3
    # with every cell (no subset), the seed still decides which inputs each split may use
    again = counts._fit_boosters(inputs, targets, seed=3)
    np.testing.assert_array_equal(trees[0].predict(inputs), again[0].predict(inputs))
    other = counts._fit_boosters(inputs, targets, seed=4)
    assert not np.allclose(trees[0].predict(inputs), other[0].predict(inputs))
    # and the fit is still a good one: the held-out signal is recovered
    test = rng.normal(size=(200, 10))
    truth = test[:, 0] + test[:, 1]
    assert np.corrcoef(trees[0].predict(test), truth)[0, 1] > 0.9


def test_linear_map_components_follow_the_log_variance_of_genes_not_unit_scaled_noise():
    from sklearn.decomposition import PCA

    from omixgan.model._counts import (
        _apply_linear_map,
        _fit_linear_maps,
        _lognorm,
        _principal_components,
        _ridge,
    )

    rng = np.random.default_rng(0)
    n, g = 400, 30
    X = rng.poisson(5.0, size=(n, g)).astype(np.float32)  # independent noise genes
    on = rng.random(n) < 0.5
    X[:, 0] = np.where(on, rng.poisson(30.0, n), rng.poisson(0.2, n))  # a marker gene
    y = np.log1p(np.where(on, 50.0, 2.0))[:, None] + rng.normal(0, 0.1, (n, 1))
    m = _fit_linear_maps(X, {"prot": y})["prot"]
    # the first component is the marker gene, whose log-expression varies most (scaled to unit
    # variance, as before, the marker's loading was 0.61, the rest spread over the noise genes)
    assert abs(m["components"][0, 0]) > 0.95
    L = _lognorm(X)
    np.testing.assert_allclose(
        _principal_components(m, X), (L - L.mean(axis=0)) @ m["components"].T, atol=1e-4
    )
    # a map saved by an earlier version (PCA of genes scaled to unit variance) still predicts
    # as it did then
    mean, sd = L.mean(axis=0), L.std(axis=0)
    Z = (L - mean) / sd
    pca = PCA(n_components=5, random_state=0).fit(Z)
    W, y_mean = _ridge(pca.transform(Z), y)
    old = {"mean": mean, "sd": sd, "components": pca.components_, "pca_mean": pca.mean_}
    old.update(W=W, y_mean=y_mean)
    np.testing.assert_allclose(
        _apply_linear_map(old, X), pca.transform(Z) @ W + y_mean, rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("zero_inflated", [False, True])
def test_decoder_dispersion_is_one_per_gene_and_broadcasts_like_the_expanded_one(zero_inflated):
    torch.manual_seed(0)
    dec = CountDecoder(3, 7, 8, 1, zero_inflated=zero_inflated)
    with torch.no_grad():
        dec.log_theta.copy_(torch.linspace(-1.0, 2.0, 7))
    params = dec(torch.randn(5, 3), torch.full((5, 1), 50.0))
    assert params["theta"].shape == (7,)  # lgamma / log of theta: once per gene, not per cell
    x = torch.poisson(params["mu"].detach())
    expanded = dict(params, theta=params["theta"].expand(5, -1))
    np.testing.assert_allclose(
        dec.log_likelihood(x, params).detach().numpy(),
        dec.log_likelihood(x, expanded).detach().numpy(),
        rtol=1e-6,
    )


def test_sample_nb_with_one_dispersion_per_gene_draws_as_with_the_expanded_one():
    mu = torch.full((50, 3), 6.0)
    theta = torch.tensor([0.5, 2.0, 20.0])
    one = sample_nb(mu, theta, generator=torch.Generator().manual_seed(0))
    expanded = sample_nb(mu, theta.expand(50, -1), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(one, expanded)


# ------------------------------------------------------------------------------ rough edges


def test_check_counts_messages_show_the_value_and_only_a_route_the_caller_has():
    X = np.ones((2, 2)) * 3.0
    X[0, 1] = 3.0000003
    with pytest.raises(ValueError) as err:
        check_counts(X, obs_names=["a", "b"], var_names=["x", "y"])
    assert "3.0000003" in str(err.value) and "gaussian" not in str(err.value)
    with pytest.raises(ValueError, match=r"; or data_type='gaussian' models"):
        check_counts(X, alternative="data_type='gaussian' models them as continuous values")
    # float32 (sparse data keep it): the value as float32 prints it, without float64 noise
    with pytest.raises(ValueError) as err:
        check_counts(sp.csr_matrix(np.array([[2.0000002, 1.0]], dtype=np.float32)))
    assert "e.g. 2.0000002 for" in str(err.value)
    # cells a trained model is applied to: genes without counts are normal, no warning
    Y = np.array([[1, 0, 2], [4, 0, 1]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_counts(Y, warn_empty_genes=False)


def test_countvae_non_counts_message_points_to_the_continuous_models_not_an_argument():
    rna, _ = _counts()
    bad = rna.copy()
    bad.X = sp.csr_matrix(np.log1p(bad.X.toarray()))
    og.models.CountVAE.setup_anndata(bad)
    with pytest.raises(ValueError) as err:
        og.models.CountVAE(bad)
    assert "OmicsVAE and CrossModalVAE" in str(err.value)
    assert "data_types" not in str(err.value)


def test_a_misspelt_layer_is_named_with_the_closest_one():
    rna, _ = _counts()
    rna.layers["counts"] = rna.X.copy()
    with pytest.raises(KeyError, match=r"'count' not found.*Did you mean 'counts'\?"):
        og.tl.count_gaussian(rna, labels_key="cell_type", layer="count")


def test_countvae_refuses_missing_cells_of_a_modality_at_construction_with_the_fix():
    rna, prot = _counts()
    mdata = md.MuData({"rna": rna, "prot": prot[:120].copy()})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    og.models.CountVAE.setup_mudata(mdata, modalities=["rna", "prot"], labels_key="cell_type")
    with pytest.raises(ValueError, match=r"'prot' lacks 40 of the 160 cells.*'cell120'.*intersect"):
        og.models.CountVAE(mdata, n_latent=4, n_hidden=16)


def test_countvae_queries_read_the_source_alone_and_do_not_warn_about_its_genes():
    rna, prot = _counts()
    rna.layers["counts"] = rna.X.copy()
    prot.layers["counts"] = prot.X.copy()
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    og.models.CountVAE.setup_mudata(
        mdata, modalities=["rna", "prot"], labels_key="cell_type", layer="counts"
    )
    model = og.models.CountVAE(mdata, n_latent=4, n_hidden=16, boosted_trees=False)
    model.train(max_epochs=3, progress_bar=False)
    query_rna = rna[:20].copy()
    query_rna.layers["counts"][:, 0] = 0  # a gene none of the query cells has
    query = md.MuData({"rna": query_rna, "prot": prot[:20].copy()})
    del query["prot"].layers["counts"]  # only the source is read
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        latent = model.get_latent_representation(query)
        pred = model.translate(query)
    np.testing.assert_allclose(latent, model.get_latent_representation(query_rna))
    assert pred.shape == (20, 4)


@pytest.mark.filterwarnings("ignore:Category .* has fewer than 3 cells")  # scvi-tools' own
def test_countvae_sample_refuses_a_type_of_one_cell_and_says_how_to_leave_it_out():
    rna, _ = _counts()
    labels = rna.obs["cell_type"].astype(str).to_numpy()
    labels[0] = "C"
    rna.obs["cell_type"] = pd.Categorical(labels)
    og.models.CountVAE.setup_anndata(rna, labels_key="cell_type")
    model = og.models.CountVAE(rna, n_latent=4, n_hidden=16)
    model.train(max_epochs=2, progress_bar=False)
    with pytest.raises(ValueError, match=r"'C' has 1 training cell.*dict without it"):
        model.sample(10)
    assert model.sample({"A": 5, "B": 5}).n_obs == 10


def test_omicsgan_on_log_values_with_a_counts_layer_warns_that_the_layer_is_unused():
    rna, _ = _counts()
    rna.layers["counts"] = rna.X.copy()
    rna.X = sp.csr_matrix(np.log1p(rna.X.toarray()))
    og.models.OmicsGAN.setup_anndata(rna, labels_key="cell_type")
    with pytest.warns(UserWarning, match=r"modelled from \.X as 'gaussian'.*layer='counts'"):
        og.models.OmicsGAN(rna)
    with warnings.catch_warnings():  # declared: the user chose .X
        warnings.simplefilter("error", UserWarning)
        og.models.OmicsGAN(rna, data_type="gaussian")
    og.models.OmicsGAN.setup_anndata(rna, labels_key="cell_type", layer="counts")
    assert og.models.OmicsGAN(rna).data_type_ == "counts"


def test_the_unused_counts_layer_warning_points_at_the_caller_and_names_the_right_argument():
    rna, prot = _counts()
    rna.layers["counts"] = rna.X.copy()
    rna.X = sp.csr_matrix(np.log1p(rna.X.toarray()))
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["rna", "prot"])
    with pytest.warns(
        UserWarning, match=r"'rna'.*every modality.*data_types=\{'rna': 'gaussian'\}"
    ) as rec:
        og.models.CrossModalVAE(mdata, n_models=1)
    assert {w.filename for w in rec if "holds raw counts" in str(w.message)} == {__file__}
    og.models.OmicsGAN.setup_anndata(rna, labels_key="cell_type")
    with pytest.warns(UserWarning, match="holds raw counts") as rec:
        og.models.OmicsGAN(rna)
    assert {w.filename for w in rec if "holds raw counts" in str(w.message)} == {__file__}


def test_no_unused_counts_layer_warning_for_beta_values_or_an_anndata_vae():
    rng = np.random.default_rng(0)
    meth = ad.AnnData(rng.uniform(0.05, 0.95, size=(120, 6)).astype(np.float32))
    meth.obs["cell_type"] = pd.Categorical(np.repeat(["A", "B"], 60))
    meth.layers["total_counts"] = rng.poisson(30, size=(120, 6)).astype(np.float32)
    rna, _ = _counts()
    rna.layers["counts"] = rna.X.copy()
    rna.X = sp.csr_matrix(np.log1p(rna.X.toarray()))
    mdata = md.MuData({"meth": meth})
    mdata.obs["cell_type"] = meth.obs["cell_type"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        # beta values (named methylation, all in [0, 1]) are not counts that .X should have been
        og.models.OmicsGAN.setup_mudata(mdata, modality="meth", labels_key="cell_type")
        assert og.models.OmicsGAN(mdata).data_type_ == "beta"
        # an AnnData OmicsVAE cannot declare a type: a warning it could not silence is none
        og.models.OmicsVAE.setup_anndata(rna)
        og.models.OmicsVAE(rna)


class _RecordingBar:
    """Stands in for the trees' progress bar: counts the steps it is advanced by."""

    n = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, k):
        self.n += k


def _record_tree_bars(monkeypatch) -> list:
    """(description, total, enabled, bar) of every progress bar CountVAE opens but the epochs'."""
    import omixgan.model._counts as counts

    bars, make = [], counts.make_progress_bar

    def recording(total, *, enabled, desc):
        if desc == "CountVAE":  # the epochs' bar
            return make(total, enabled=False, desc=desc)
        bars.append((desc, total, enabled, _RecordingBar()))
        return bars[-1][3]

    monkeypatch.setattr(counts, "make_progress_bar", recording)
    return bars


def test_boosted_trees_have_a_progress_bar_counting_each_fit(monkeypatch):
    bars = _record_tree_bars(monkeypatch)
    _, model = _cite_model(boosted_trees=True)
    model.train(max_epochs=2, validation_fraction=0.2, seed=0)
    desc, total, enabled, bar = bars[-1]
    # 4 proteins: trees for the blend weights, then on all training cells
    assert desc == "CountVAE boosted trees" and total == 8 and enabled and bar.n == 8
    _, fixed = _cite_model(boosted_trees=True, neighbor_blend=0.5, linear_blend=0.5)
    fixed.train(max_epochs=2, validation_fraction=0.2, seed=0)
    assert bars[-1][1] == 0 and not bars[-1][2]  # no trees: no bar


def test_a_query_without_the_setup_layer_is_told_the_closest_name():
    rna, prot = _counts()
    rna.layers["counts"] = rna.X.copy()
    prot.layers["counts"] = prot.X.copy()
    mdata = md.MuData({"rna": rna, "prot": prot})
    og.models.CountVAE.setup_mudata(mdata, modalities=["rna", "prot"], layer="counts")
    model = og.models.CountVAE(mdata, n_latent=4, n_hidden=16, boosted_trees=False)
    model.train(max_epochs=2, progress_bar=False)
    query = rna[:10].copy()
    query.layers["counts_raw"] = query.layers.pop("counts")
    with pytest.raises(
        KeyError, match=r"'counts' \(from setup\) not found.*Did you mean 'counts_raw'"
    ):
        model.translate(query)


def test_the_trees_progress_bar_completes_when_the_second_fit_is_skipped(monkeypatch):
    import omixgan.model._counts as counts

    bars = _record_tree_bars(monkeypatch)

    def no_tree_weight(parts, y):  # the trees earn no weight: no fit on all training cells
        w = np.ones((y.shape[1], len(parts)))
        w[:, -1] = 0
        return w / w.sum(axis=1, keepdims=True)

    monkeypatch.setattr(counts, "_fit_weights", no_tree_weight)
    _, model = _cite_model(boosted_trees=True)
    model.train(max_epochs=2, validation_fraction=0.2, seed=0)
    assert model.boosters_ == {} and bars[-1][1] == 8 and bars[-1][3].n == 8


def test_the_empty_gene_warning_points_at_the_users_line():
    rna, _ = _counts()
    X = rna.X.toarray()
    X[:, 3] = 0
    rna.X = sp.csr_matrix(X)
    og.models.CountVAE.setup_anndata(rna, labels_key="cell_type")
    with pytest.warns(UserWarning, match="'g3'; they carry no information") as rec:
        og.models.CountVAE(rna, n_latent=4, n_hidden=16)
    assert {w.filename for w in rec if "no count in any cell" in str(w.message)} == {__file__}
    with pytest.warns(UserWarning, match="no count in any cell") as rec:
        og.tl.count_gaussian(rna, labels_key="cell_type", n_per_class=5, n_pcs=5)
    assert {w.filename for w in rec if "no count in any cell" in str(w.message)} == {__file__}
