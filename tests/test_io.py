from __future__ import annotations

import hashlib

import mudata as md
import numpy as np
import pandas as pd
import pytest

import omixgan as og

from .conftest import SHARED_DATA, write_course


def _replace_line(path, lineno, new):
    lines = path.read_text().splitlines()
    lines[lineno - 1] = new
    path.write_text("\n".join(lines) + "\n")


def test_read_course_values_names_labels(tmp_path):
    samples, values = write_course(tmp_path / "c")
    mdata = og.read_course(tmp_path / "c")
    assert list(mdata.mod) == ["mrna", "meth", "prot"]
    assert list(mdata.obs_names) == samples
    features, X = values["mRNA.txt"]
    assert list(mdata["mrna"].var_names) == features
    np.testing.assert_allclose(mdata["mrna"].X, X, rtol=1e-5)
    assert mdata["mrna"].X.dtype == np.float32
    assert mdata.obs["cluster"].dtype == "category"
    assert list(mdata.obs["cluster"]) == values["labels"]
    assert list(mdata["prot"].obs["cluster"]) == values["labels"]
    assert mdata["meth"].uns["n_missing"] == 0


def test_read_course_subset_of_files_and_no_labels(tmp_path):
    write_course(tmp_path / "c", files=("meth.txt",), labels=False)
    mdata = og.read_course(tmp_path / "c")
    assert list(mdata.mod) == ["meth"]
    assert "cluster" not in mdata.obs


def test_read_course_header_with_leading_field(tmp_path):
    samples, values = write_course(tmp_path / "c", files=("mRNA.txt",))
    path = tmp_path / "c" / "mRNA.txt"
    _replace_line(path, 1, "\t".join(["gene", *samples]))
    mdata = og.read_course(tmp_path / "c")
    assert list(mdata.obs_names) == samples


@pytest.mark.skipif(not (SHARED_DATA / "course").exists(), reason="shared data not beside the repo")
def test_read_course_5000_shape_and_classes():
    mdata = og.read_course(SHARED_DATA / "course" / "dataset_5000samples")
    assert mdata.n_obs == 5000
    assert [mdata[m].n_vars for m in ("mrna", "meth", "prot")] == [131, 367, 160]
    assert mdata.obs["cluster"].nunique() == 5


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        og.read_course(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="mRNA.txt"):
        og.read_course(tmp_path / "empty")


def test_unreadable_file_is_named(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",))
    (tmp_path / "c" / "prot.txt").write_bytes(b"\xff\xfe\x00binary\x80\x81")
    with pytest.raises(ValueError, match=r"prot\.txt.*UTF-8"):
        og.read_course(tmp_path / "c")


def test_directory_in_place_of_file(tmp_path):
    (tmp_path / "c" / "mRNA.txt").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match="mRNA.txt"):
        og.read_course(tmp_path / "c")


def test_mismatched_sample_names_are_named(tmp_path):
    samples, _ = write_course(tmp_path / "c")
    path = tmp_path / "c" / "prot.txt"
    _replace_line(path, 1, "\t".join(["other", *samples[1:]]))
    with pytest.raises(
        ValueError, match=r"only in 'prot.txt' \(e.g. other\).*only in 'mRNA.txt' \(e.g. s0\)"
    ):
        og.read_course(tmp_path / "c")


def test_same_samples_other_order_are_aligned(tmp_path):
    samples, values = write_course(tmp_path / "c", files=("mRNA.txt", "prot.txt"), labels=False)
    path = tmp_path / "c" / "prot.txt"
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    order = list(reversed(range(len(samples))))
    new = ["\t".join(rows[0][i] for i in order)] + [
        "\t".join([r[0], *(r[1:][i] for i in order)]) for r in rows[1:]
    ]
    path.write_text("\n".join(new) + "\n")
    mdata = og.read_course(tmp_path / "c")
    np.testing.assert_allclose(mdata["prot"].X, values["prot.txt"][1], rtol=1e-5)


def test_duplicated_sample_and_feature_names(tmp_path):
    samples, _ = write_course(tmp_path / "c", files=("mRNA.txt",))
    path = tmp_path / "c" / "mRNA.txt"
    _replace_line(path, 1, "\t".join(["s1", *samples[1:]]))
    with pytest.raises(ValueError, match=r"duplicated sample names in .*mRNA.txt.*'s1'"):
        og.read_course(tmp_path / "c")
    write_course(tmp_path / "d", files=("mRNA.txt",))
    path = tmp_path / "d" / "mRNA.txt"
    line3 = path.read_text().splitlines()[2]
    _replace_line(path, 3, line3.replace("mRNA_1", "mRNA_0", 1))
    with pytest.raises(ValueError, match=r"duplicated feature names .*'mRNA_0'"):
        og.read_course(tmp_path / "d")


def test_non_numeric_cell_names_line_feature_sample(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",))
    path = tmp_path / "c" / "mRNA.txt"
    fields = path.read_text().splitlines()[3].split("\t")
    fields[3] = "abc"
    _replace_line(path, 4, "\t".join(fields))
    with pytest.raises(ValueError, match=r"'abc'.*line 4: feature 'mRNA_2', sample 's2'"):
        og.read_course(tmp_path / "c")


def test_wrong_field_count_names_line(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",))
    path = tmp_path / "c" / "mRNA.txt"
    _replace_line(path, 3, path.read_text().splitlines()[2] + "\t1.0")
    with pytest.raises(ValueError, match=r"line 3: 14 fields, expected 13"):
        og.read_course(tmp_path / "c")


def test_nan_kept_and_reported(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",))
    path = tmp_path / "c" / "mRNA.txt"
    fields = path.read_text().splitlines()[1].split("\t")
    fields[1], fields[2] = "NA", ""
    _replace_line(path, 2, "\t".join(fields))
    with pytest.warns(UserWarning, match=r"'mrna'.*2 missing values"):
        mdata = og.read_course(tmp_path / "c")
    assert np.isnan(mdata["mrna"].X).sum() == 2
    assert mdata["mrna"].uns["n_missing"] == 2


def test_all_nan_feature_is_named(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",))
    path = tmp_path / "c" / "mRNA.txt"
    _replace_line(path, 2, "\t".join(["mRNA_0", *["NA"] * 12]))
    with pytest.raises(ValueError, match=r"no value in any sample: 'mRNA_0'"):
        og.read_course(tmp_path / "c")


def test_clusters_with_other_number_of_samples(tmp_path):
    samples, _ = write_course(tmp_path / "c")
    (tmp_path / "c" / "clusters.txt").write_text(
        "\t".join(samples[:-1]) + "\n" + "\t".join(["1"] * 11) + "\n"
    )
    with pytest.raises(ValueError, match=r"clusters.txt' labels 11 samples but .* has 12"):
        og.read_course(tmp_path / "c")


def test_methylation_outside_unit_interval(tmp_path):
    write_course(tmp_path / "c", files=("meth.txt",))
    path = tmp_path / "c" / "meth.txt"
    fields = path.read_text().splitlines()[2].split("\t")
    fields[5] = "1.7"
    _replace_line(path, 3, "\t".join(fields))
    with pytest.raises(ValueError, match=r"\[0, 1\].*feature 'meth_1', sample 's4': 1.7"):
        og.read_course(tmp_path / "c")


def test_reading_leaves_files_untouched(tmp_path):
    write_course(tmp_path / "c")
    digest = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "c").iterdir()
    }
    og.read_course(tmp_path / "c")
    assert digest == {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "c").iterdir()
    }


def test_read_table_both_orientations_agree(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        rng.normal(size=(6, 4)), index=[f"s{i}" for i in range(6)], columns=list("abcd")
    )
    df.to_csv(tmp_path / "rows.csv")
    df.T.to_csv(tmp_path / "cols.tsv", sep="\t")
    by_rows = og.read_table(tmp_path / "rows.csv", orientation="samples_in_rows")
    by_cols = og.read_table(tmp_path / "cols.tsv", orientation="samples_in_columns")
    assert list(by_rows.obs_names) == list(by_cols.obs_names) == list(df.index)
    assert list(by_rows.var_names) == list("abcd")
    np.testing.assert_allclose(by_rows.X, by_cols.X)
    np.testing.assert_allclose(by_rows.X, df.to_numpy(), rtol=1e-6)


def test_read_table_rejects_unknown_orientation(tmp_path):
    with pytest.raises(ValueError, match="orientation must be one of"):
        og.read_table(tmp_path / "x.csv", orientation="rows")


def test_partial_overlap_keeps_every_sample(tmp_path):
    rng = np.random.default_rng(2)
    a = pd.DataFrame(
        rng.normal(size=(5, 3)), index=[f"s{i}" for i in range(5)], columns=["g1", "g2", "g3"]
    )
    b = pd.DataFrame(
        rng.normal(size=(4, 2)), index=[f"s{i}" for i in range(3, 7)], columns=["p1", "p2"]
    )
    a.to_csv(tmp_path / "a.csv")
    b.to_csv(tmp_path / "b.csv")
    mdata = md.MuData(
        {
            "mrna": og.read_table(tmp_path / "a.csv", orientation="samples_in_rows"),
            "prot": og.read_table(tmp_path / "b.csv", orientation="samples_in_rows"),
        }
    )
    assert mdata.n_obs == 7
    assert mdata["prot"].n_obs == 4
    assert set(mdata.obs_names) == {f"s{i}" for i in range(7)}


def test_read_labels(tmp_path):
    (tmp_path / "sub.csv").write_text(",subtype\nA1,Basal\nA2,LumA\nA3,Basal\n")
    labels = og.read_labels(tmp_path / "sub.csv")
    assert labels.name == "subtype"
    assert list(labels.index) == ["A1", "A2", "A3"]
    assert labels.dtype == "category"
    (tmp_path / "bad.csv").write_text(",subtype\nA1,Basal\nA2,\n")
    with pytest.raises(ValueError, match="no label for sample.*A2"):
        og.read_labels(tmp_path / "bad.csv")
