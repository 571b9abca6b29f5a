from __future__ import annotations

import numpy as np
import pytest

import omixgan as og

from .conftest import SHARED_DATA


@pytest.mark.parametrize(("n", "k"), [(2000, 2), (5000, 5)])
def test_course_shapes_and_classes(n, k):
    mdata = og.datasets.course(n_samples=n)
    assert mdata.n_obs == n
    assert [mdata[m].n_vars for m in ("mrna", "meth", "prot")] == [131, 367, 160]
    assert mdata.obs["cluster"].nunique() == k
    meth = mdata["meth"].X
    assert meth.dtype == np.float32 and meth.min() > 0 and meth.max() < 1


def test_course_rejects_other_sizes():
    with pytest.raises(ValueError, match="n_samples must be one of"):
        og.datasets.course(n_samples=3000)


@pytest.mark.skipif(not (SHARED_DATA / "course").exists(), reason="shared data not beside the repo")
def test_bundled_course_equals_reader():
    bundled = og.datasets.course(2000)
    read = og.read_course(SHARED_DATA / "course" / "dataset_2000samples")
    for mod in ("mrna", "meth", "prot"):
        np.testing.assert_array_equal(bundled[mod].X, read[mod].X)
        assert list(bundled[mod].var_names) == list(read[mod].var_names)
    assert list(bundled.obs["cluster"]) == list(read.obs["cluster"])


def test_tcga_brca_missing_protein():
    mdata = og.datasets.tcga_brca()
    assert mdata.n_obs == 220
    assert (mdata["mrna"].shape, mdata["mirna"].shape, mdata["prot"].shape) == (
        (220, 200),
        (220, 184),
        (150, 142),
    )
    assert mdata.obs["subtype"].value_counts().to_dict() == {"LumA": 110, "Basal": 66, "Her2": 44}
    test = mdata.obs_names[mdata.obs["split"] == "test"]
    assert len(test) == 70
    assert not set(test) & set(mdata["prot"].obs_names)


def test_tcga_brca_2012_four_platforms_and_unknown_labels():
    mdata = og.datasets.tcga_brca_2012()
    assert mdata.n_obs == 348
    assert {m: mdata[m].shape for m in mdata.mod} == {
        "mrna": (348, 645),
        "meth": (348, 574),
        "mirna": (348, 423),
        "prot": (348, 171),
    }
    counts = mdata.obs["pam50"].value_counts().to_dict()
    assert counts == {"LumA": 170, "Basal": 66, "LumB": 63, "Her2": 35, "Normal": 9}
    assert mdata.obs["pam50"].isna().sum() == 5
    assert mdata.obs["bcc_cluster"].nunique() == 3
    meth = mdata["meth"].X
    assert meth.min() > 0 and meth.max() < 1


@pytest.mark.skipif(
    not (SHARED_DATA / "tcga_brca_2012").exists(), reason="shared data not beside the repo"
)
def test_bundled_tcga_brca_2012_equals_files():
    import pandas as pd

    bundled = og.datasets.tcga_brca_2012()
    table = pd.read_csv(SHARED_DATA / "tcga_brca_2012" / "meth.csv.gz", index_col="sample_id")
    np.testing.assert_array_equal(
        bundled["meth"].X, table.loc[bundled["meth"].obs_names].to_numpy(np.float32)
    )
    assert list(bundled["meth"].var_names) == list(table.columns)
