from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import torch

import omixgan as og
from omixgan.pp import Log1p, Logit, MinMax, Pipeline, Standardize


def _adata(kind="gaussian", seed=0):
    rng = np.random.default_rng(seed)
    if kind == "beta":
        X = rng.uniform(0.01, 0.99, size=(40, 6))
    elif kind == "counts":
        X = rng.poisson(5.0, size=(40, 6)).astype(float)
    else:
        X = rng.normal(3.0, 2.0, size=(40, 6))
    return ad.AnnData(X.astype(np.float32))


@pytest.mark.parametrize(
    ("func", "kind"),
    [
        (og.pp.standardize, "gaussian"),
        (og.pp.minmax, "gaussian"),
        (og.pp.log1p, "counts"),
        (og.pp.logit, "beta"),
    ],
)
def test_round_trip_to_float32_precision(func, kind):
    adata = _adata(kind)
    original = adata.X.copy()
    func(adata)
    assert not np.allclose(adata.X, original)
    og.pp.inverse_transform(adata)
    np.testing.assert_allclose(adata.X, original, rtol=1e-5, atol=1e-5)
    assert "omixgan_pp" not in adata.uns
    assert not [c for c in adata.var.columns if c.startswith("omixgan_")]


def test_standardize_units_and_records():
    adata = _adata()
    og.pp.standardize(adata)
    np.testing.assert_allclose(adata.X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(adata.X.std(axis=0), 1, atol=1e-4)
    assert {"omixgan_standardize_mean", "omixgan_standardize_std"} <= set(adata.var.columns)
    assert list(adata.uns["omixgan_pp"]["steps"]) == ["standardize"]


def test_logit_is_m_values():
    adata = ad.AnnData(np.array([[0.5, 0.8], [0.2, 0.5]], dtype=np.float32))
    og.pp.logit(adata)
    np.testing.assert_allclose(adata.X, [[0.0, 2.0], [-2.0, 0.0]], atol=1e-5)


def test_chained_inverse_on_model_output_and_copy():
    adata = _adata("beta")
    original = adata.X.copy()
    transformed = og.pp.logit(adata, copy=True)
    np.testing.assert_array_equal(adata.X, original)  # copy=True leaves the input untouched
    og.pp.standardize(transformed)
    model_output = np.zeros((3, adata.n_vars), dtype=np.float32)  # the mean in transformed space
    back = og.pp.inverse_transform(transformed, model_output)
    assert back.shape == (3, 6) and (back > 0).all() and (back < 1).all()
    roundtrip = og.pp.inverse_transform(transformed, transformed.X)
    np.testing.assert_allclose(roundtrip, original, rtol=1e-5, atol=1e-5)


def test_inverse_follows_feature_subsetting():
    adata = _adata()
    original = adata.X.copy()
    og.pp.standardize(adata)
    sub = adata[:, [4, 1]].copy()
    np.testing.assert_allclose(
        og.pp.inverse_transform(sub, sub.X), original[:, [4, 1]], rtol=1e-5, atol=1e-5
    )


def test_errors():
    with pytest.raises(ValueError, match=r"beta values in \[0, 1\]"):
        og.pp.logit(_adata())
    with pytest.raises(ValueError, match="non-negative"):
        og.pp.log1p(_adata())
    adata = _adata()
    og.pp.standardize(adata)
    with pytest.raises(ValueError, match="already applied"):
        og.pp.standardize(adata)
    with pytest.raises(ValueError, match="must have 6 columns"):
        og.pp.inverse_transform(adata, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="nothing to invert"):
        og.pp.inverse_transform(_adata())


def test_highly_variable():
    adata = _adata()
    adata.X[:, 2] *= 10
    og.pp.highly_variable(adata, n_top=2)
    assert adata.var["highly_variable"].sum() == 2 and adata.var["highly_variable"].iloc[2]
    sub = og.pp.highly_variable(adata, n_top=1, subset=True, copy=True)
    assert sub.n_vars == 1 and adata.n_vars == 6
    with pytest.raises(ValueError, match="exceeds"):
        og.pp.highly_variable(adata, n_top=7)


def test_impute_mean_fills_and_masks():
    adata = _adata()
    adata.X[0, 0] = np.nan
    expected = np.nanmean(adata.X[:, 0])
    filled = og.pp.impute_mean(adata, copy=True)
    assert np.isnan(adata.X[0, 0])  # input untouched
    assert filled.X[0, 0] == pytest.approx(expected)
    assert filled.layers["missing_mask"].sum() == 1
    assert filled.uns["impute_mean"]["params"]["n_filled"] == 1


@pytest.mark.parametrize("name", ["standardize", "minmax", "log1p", "logit"])
def test_transforms_in_row_blocks_equal_whole_matrix(monkeypatch, name):
    """Large matrices are transformed block by block (bounded memory): same numbers."""
    from omixgan.pp import _transforms

    rng = np.random.default_rng(0)
    X = rng.uniform(0.01, 0.99, size=(1000, 7)).astype(np.float32)
    X[3, 2] = np.nan
    whole = _transforms.TRANSFORMS[name]().fit(X)
    expected = (whole.transform(X), whole.inverse(whole.transform(X)))
    monkeypatch.setattr(_transforms, "BLOCK_BYTES", 7 * 4 * 64)  # 64-row blocks
    blocked = _transforms.TRANSFORMS[name]().fit(X)
    for key, value in whole.params.items():
        np.testing.assert_allclose(blocked.params[key], value, rtol=1e-12)
    np.testing.assert_array_equal(blocked.transform(X), expected[0])
    np.testing.assert_array_equal(blocked.inverse(blocked.transform(X)), expected[1])


@pytest.mark.parametrize(
    ("transform", "kind"),
    [(Standardize, "gaussian"), (MinMax, "gaussian"), (Log1p, "counts"), (Logit, "beta")],
)
def test_tensor_form_computes_what_numpy_computes(transform, kind):
    X = _adata(kind).X
    step = transform().fit(X)
    expected = step.transform(X)
    got = step.tensor_fn("cpu", torch.float64)(torch.from_numpy(X).double()).float().numpy()
    if transform is Logit:  # torch's and numpy's log2 may differ in the last bit
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    else:
        np.testing.assert_array_equal(got, expected)


def test_pipeline_on_device_equals_transform_on_the_cpu():
    X = _adata("beta").X
    pipeline = Pipeline([Logit(), Standardize()])
    pipeline.fit(X)
    rows = torch.tensor([5, 0, 17])
    np.testing.assert_array_equal(
        pipeline.on_device("cpu")(torch.from_numpy(X)[rows]).numpy(),
        pipeline.transform(X)[[5, 0, 17]],
    )


def test_pipeline_check_names_the_domain():
    with pytest.raises(ValueError, match=r"beta values in \[0, 1\]"):
        Pipeline([Logit(), Standardize()]).check(np.array([[0.5, 1.5]], dtype=np.float32))
