"""OmicsGAN on counts (scGAN-style) and the count space shared with tl.count_gaussian."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import omixgan as og
from omixgan._countspace import CountSpace, log_normalise


def _cells(n=160, g=30, seed=0):
    """Two cell types with different gene shares and clearly different depths (A shallow, B
    deep), so that a library drawn from the wrong type is visible."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(["A", "B"], n // 2)
    program = rng.normal(size=n) + (labels == "B") * 2.0
    shares = np.exp(rng.normal(size=g) + np.outer(program, rng.normal(size=g)) * 0.5)
    shares /= shares.sum(axis=1, keepdims=True)
    library = np.where(labels == "A", rng.integers(300, 600, n), rng.integers(2000, 4000, n))
    X = rng.poisson(shares * library[:, None]).astype(np.float32)
    obs = pd.DataFrame({"cell_type": pd.Categorical(labels)}, index=[f"cell{i}" for i in range(n)])
    return ad.AnnData(
        X=sp.csr_matrix(X), obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(g)])
    )


def _gan(adata, n_pcs=6, **kwargs):
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cell_type")
    return og.models.OmicsGAN(adata, n_pcs=n_pcs, **kwargs)


def test_omicsgan_on_counts_samples_whole_counts_with_the_types_library(tmp_path):
    adata = _cells()
    before = adata.X.copy()
    gan = _gan(adata)
    assert gan.data_type_ == "counts" and gan.module_config_["n_input"] == 6
    gan.train(max_steps=20, eval_every=10, progress_bar=False)
    syn = gan.sample({"A": 200, "B": 50}, seed=0)
    X = syn.X
    assert X.shape == (250, adata.n_vars) and (X >= 0).all() and np.array_equal(X, np.round(X))
    np.testing.assert_array_equal(syn.layers["counts"], X)
    assert (adata.X != before).nnz == 0
    # each type's library sizes come from that type's real cells (A: 300-600, B: 2000-4000); the
    # rounding moves a cell's total by a few counts at most
    real = np.asarray(adata.X.sum(axis=1)).ravel()
    for c, n in (("A", 200), ("B", 50)):
        lib = X[syn.obs["cell_type"] == c].sum(axis=1)
        own = real[adata.obs["cell_type"] == c]
        assert len(lib) == n
        assert lib.min() >= 0.95 * own.min() and lib.max() <= 1.05 * own.max()
        assert abs(np.median(lib) / np.median(own) - 1) < 0.1
    # the same seed gives the same cells, also after saving and loading
    np.testing.assert_array_equal(gan.sample({"A": 200, "B": 50}, seed=0).X, X)
    gan.save(str(tmp_path / "gan"))
    loaded = og.models.OmicsGAN.load(str(tmp_path / "gan"), adata)
    np.testing.assert_array_equal(loaded.sample({"A": 200, "B": 50}, seed=0).X, X)


def test_omicsgan_counts_bad_input_is_refused_naming_the_argument():
    adata = _cells(n=40)
    bad = adata.copy()
    bad.X = sp.csr_matrix(np.log1p(bad.X.toarray()))
    with pytest.raises(ValueError, match="non-integer.*data_type"):
        _gan(bad, data_type="counts")
    negative = adata.copy()
    dense = negative.X.toarray()
    dense[3, 2] = -1
    negative.X = dense
    with pytest.raises(ValueError, match="negative.*'cell3'.*'g2'"):
        _gan(negative, data_type="counts")
    empty = adata.copy()
    dense = empty.X.toarray()
    dense[5] = 0
    empty.X = dense
    with pytest.raises(ValueError, match="without any count.*'cell5'"):
        _gan(empty)  # detected as counts: a cell without counts has no library to model
    # log-normalised values are not counts: modelled as continuous unless declared
    assert _gan(bad).data_type_ == "gaussian"
    with pytest.raises(ValueError, match="n_pcs"):
        _gan(adata, n_pcs=0)


def test_calibrated_gaussian_decodes_to_the_real_mean_and_covariance():
    # the step back to counts adds noise and shifts the mean: decoded draws of the plain class
    # Gaussian miss the real cells' moments in the principal space by about twice as much as
    # those of the calibrated one
    adata = _cells(n=400, g=200)
    X = adata.X.toarray()
    labels = adata.obs["cell_type"].astype(str).to_numpy()
    space = CountSpace(n_pcs=10, random_state=0).fit(X, labels)
    rng = np.random.default_rng(1)

    def errors(S, mean, cov):
        return (
            np.linalg.norm(np.cov(S, rowvar=False) - cov) / np.linalg.norm(cov),
            np.linalg.norm(S.mean(axis=0) - mean) / np.sqrt(np.trace(cov)),
        )

    for c in ("A", "B"):
        mean, cov = space.real_[c]
        calibrated = space.project(log_normalise(space.sample_gaussian(c, 3000, rng)))
        points = rng.multivariate_normal(mean, cov, size=3000)
        decoded = space.decode(points, space.draw_library(c, 3000, rng), rng)
        plain = space.project(log_normalise(decoded))
        (cov_cal, mean_cal), (cov_plain, mean_plain) = (
            errors(calibrated, mean, cov),
            errors(plain, mean, cov),
        )
        assert cov_cal < 0.7 * cov_plain and mean_cal < mean_plain


def test_multiomicsgan_on_rna_and_protein_counts_pairs_the_libraries():
    import mudata as md

    rna = _cells(n=120, g=30)
    rng = np.random.default_rng(1)
    # protein depth follows the RNA depth of the same cell (a large cell has more of both)
    depth = np.asarray(rna.X.sum(axis=1)).ravel()
    prot_X = rng.poisson(np.outer(depth / 50, rng.uniform(0.5, 2.0, size=5))).astype(np.float32)
    prot = ad.AnnData(
        X=prot_X, obs=rna.obs.copy(), var=pd.DataFrame(index=[f"p{j}" for j in range(5)])
    )
    mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["cell_type"] = rna.obs["cell_type"]
    og.models.MultiOmicsGAN.setup_mudata(mdata, modalities=["rna", "prot"], labels_key="cell_type")
    gan = og.models.MultiOmicsGAN(mdata, n_pcs=4)
    assert gan.data_types_ == {"rna": "counts", "prot": "counts"}
    assert gan.module_config_["n_input"] == 8
    gan.train(max_steps=10, eval_every=5, progress_bar=False)
    syn = gan.sample({"A": 60, "B": 60}, seed=0)
    for mod in ("rna", "prot"):
        X = syn[mod].X
        assert (X >= 0).all() and np.array_equal(X, np.round(X))
        np.testing.assert_array_equal(syn[mod].layers["counts"], X)
    # both depths of a new cell come from one real cell: they stay correlated
    r = np.corrcoef(syn["rna"].X.sum(axis=1), syn["prot"].X.sum(axis=1))[0, 1]
    assert r > 0.8
    with pytest.raises(ValueError, match=r"count modalities \(rna, prot\)"):
        og.models.MultiOmicsGAN(mdata, n_pcs=4, marginals="empirical")


def test_omicsgan_on_counts_starts_exactly_at_the_calibrated_gaussian():
    # the count space's calibrated Gaussian is already a shrunk estimate: the start of every class
    # must be that Gaussian, not a second Ledoit-Wolf shrinkage of it
    from omixgan.model._omicsgan import _Start

    adata = _cells(n=200, g=40)
    labels = adata.obs["cell_type"].astype(str).to_numpy()
    gan = _gan(adata, n_pcs=8)
    gan.train(max_steps=2, eval_every=1, progress_bar=False)
    assert (
        gan.marginals_ == "gaussian" and not gan.history["kept"].loc[gan.history["step"] > 0].any()
    )
    space = CountSpace.from_state(gan.count_space_state_)
    # the usual start, fitted to the classes' coordinates, for comparison
    refit = _Start(
        space.coordinates(adata.X.toarray(), labels),
        np.searchsorted(gan.classes_, labels),
        len(gan.classes_),
        "gaussian",
        gan.module_config_["rank"],
    )
    for k, c in enumerate(gan.classes_):
        mean, cov = space.gaussian_[c]
        net = gan.module.generators[k if gan.per_class else 0]
        j = 0 if gan.per_class else k
        L = net.loadings[j].detach().double().numpy()
        d = net.diag[j].detach().double().numpy()
        sd = gan.class_std_[k].astype(np.float64)
        start_cov = (L @ L.T + np.diag(d**2)) * np.outer(sd, sd)
        np.testing.assert_allclose(gan.class_mean_[k], mean, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(start_cov, cov, rtol=1e-4, atol=1e-5 * np.abs(cov).max())
        twice = (refit.loadings[k] @ refit.loadings[k].T + np.diag(refit.diags[k] ** 2)) * np.outer(
            refit.std[k], refit.std[k]
        )
        assert np.linalg.norm(twice - cov) > 0.05 * np.linalg.norm(cov)
    # with the residual at zero, the GAN's draws (before decoding) are the calibrated Gaussian
    Z, _ = gan._generate({"A": 20000, "B": 0}, seed=0)
    mean, cov = space.gaussian_["A"]
    np.testing.assert_allclose(np.cov(Z, rowvar=False), cov, atol=0.05 * np.abs(cov).max())
    np.testing.assert_allclose(Z.mean(axis=0), mean, atol=0.05 * np.sqrt(np.diag(cov)).max())
    # a copula of the principal coordinates would undo the calibration
    with pytest.raises(ValueError, match="marginals='empirical' does not apply to counts"):
        _gan(adata, n_pcs=8, marginals="empirical")
