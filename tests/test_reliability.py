"""Reliability: one test per class of bad input (a clear error naming the culprit, or exactly the
right result), property-based tests of the readers, and save -> load -> identical outputs for
every model. The catalogue of cases is in docs/reliability.md."""

from __future__ import annotations

import random
import string

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omixgan as og
from omixgan.io._parse import _looks_like_corner

from .conftest import write_course
from .test_translation import _paired

GAN_FAST = {"max_steps": 20, "eval_every": 10, "progress_bar": False}
VAE_FAST = {"max_epochs": 5, "patience": 5, "progress_bar": False}


def _lines(path):
    return path.read_text().splitlines()


def _write(path, lines, end="\n"):
    path.write_text(end.join(lines) + end)


# --- readers: separators, encodings, layout ------------------------------------------------------
def test_comma_or_space_separated_course_file_is_named(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",), labels=False)
    path = tmp_path / "c" / "mRNA.txt"
    tab = _lines(path)
    _write(path, [line.replace("\t", ",") for line in tab])
    with pytest.raises(ValueError, match=r"mRNA.txt' looks comma-separated, not tab-separated"):
        og.read_course(tmp_path / "c")
    _write(path, [line.replace("\t", " ") for line in tab])
    with pytest.raises(ValueError, match=r"mRNA.txt' looks space-separated, not tab-separated"):
        og.read_course(tmp_path / "c")


def test_read_table_recognises_the_separator_or_names_it(tmp_path):
    df = pd.DataFrame(np.arange(12.0).reshape(4, 3), index=list("abcd"), columns=["x1", "x2", "x3"])
    df.to_csv(tmp_path / "t.csv", sep="\t")  # a tab-separated file named .csv
    adata = og.read_table(tmp_path / "t.csv", orientation="samples_in_rows")
    np.testing.assert_array_equal(adata.X, df.to_numpy(np.float32))
    with pytest.raises(
        ValueError, match=r"t.csv' looks tab-separated, not comma-separated.*sep='\\t'"
    ):
        og.read_table(tmp_path / "t.csv", orientation="samples_in_rows", sep=",")
    df.to_csv(tmp_path / "s.txt", sep=";")
    assert list(og.read_table(tmp_path / "s.txt", orientation="samples_in_rows").var_names) == [
        "x1",
        "x2",
        "x3",
    ]


def test_bom_crlf_and_trailing_tabs_read_exactly(tmp_path):
    samples, values = write_course(tmp_path / "c", files=("mRNA.txt",))
    path = tmp_path / "c" / "mRNA.txt"
    lines = _lines(path)
    lines[0] += "\t"  # a trailing tab at the end of the header (the shift by one)
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode())
    mdata = og.read_course(tmp_path / "c")
    assert list(mdata.obs_names) == samples  # no BOM in the first name, no shift
    np.testing.assert_allclose(mdata["mrna"].X, values["mRNA.txt"][1], rtol=1e-5)
    _write(path, [lines[0]] + [line + "\t" for line in lines[1:]])
    mdata = og.read_course(tmp_path / "c")  # a trailing tab on every line
    np.testing.assert_allclose(mdata["mrna"].X, values["mRNA.txt"][1], rtol=1e-5)


def test_header_that_could_shift_is_refused(tmp_path):
    samples, _ = write_course(tmp_path / "c", files=("mRNA.txt",), labels=False)
    path = tmp_path / "c" / "mRNA.txt"
    lines = _lines(path)
    _write(path, ["\t".join(["gene", *samples[1:]])] + lines[1:])  # a corner label, a name missing
    with pytest.raises(ValueError, match=r"first is 'gene'.*one sample name\s+is missing"):
        og.read_course(tmp_path / "c")
    _write(path, ["\t".join(samples[1:])] + lines[1:])  # a name missing, no corner label
    with pytest.raises(ValueError, match=r"header has 11 fields but line 2 has 13"):
        og.read_course(tmp_path / "c")


def test_empty_and_blank_line_files_are_named(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",), labels=False)
    path = tmp_path / "c" / "mRNA.txt"
    lines = _lines(path)
    _write(path, [lines[0], lines[1], "", *lines[2:]])
    with pytest.raises(ValueError, match=r"mRNA.txt', line 3 is empty"):
        og.read_course(tmp_path / "c")
    path.write_text("")
    with pytest.raises(ValueError, match=r"mRNA.txt' is empty"):
        og.read_course(tmp_path / "c")


# --- readers: labels -----------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["one_more_at_end", "one_more_at_start", "one_fewer"])
def test_clusters_with_a_label_too_many_or_few_never_shifts(tmp_path, change):
    samples, values = write_course(tmp_path / "c")
    labels = values["labels"]
    labels = {
        "one_more_at_end": [*labels, "1"],
        "one_more_at_start": ["2", *labels],
        "one_fewer": labels[:-1],
    }[change]
    (tmp_path / "c" / "clusters.txt").write_text(
        "\t".join(samples) + "\n" + "\t".join(labels) + "\n"
    )
    with pytest.raises(
        ValueError, match=r"clusters.txt': 12 sample names in the header but 1[13] labels"
    ):
        og.read_course(tmp_path / "c")


def test_clusters_with_a_row_name_or_trailing_tab_is_read(tmp_path):
    samples, values = write_course(tmp_path / "c")
    for line2 in ("x\t" + "\t".join(values["labels"]), "\t".join(values["labels"]) + "\t"):
        (tmp_path / "c" / "clusters.txt").write_text("\t".join(samples) + "\t\n" + line2 + "\n")
        assert list(og.read_course(tmp_path / "c").obs["cluster"]) == values["labels"]


def test_duplicated_sample_names_in_a_file(tmp_path):
    samples, _ = write_course(tmp_path / "c", files=("prot.txt",), labels=False)
    path = tmp_path / "c" / "prot.txt"
    lines = _lines(path)
    _write(path, ["\t".join([*samples[:-1], samples[0]])] + lines[1:])
    with pytest.raises(ValueError, match=r"duplicated sample names in .*prot.txt.*'s0'"):
        og.read_course(tmp_path / "c")


# --- infinite values -----------------------------------------------------------------------------
def test_inf_is_refused_or_read_as_missing_on_request(tmp_path):
    write_course(tmp_path / "c", files=("mRNA.txt",), labels=False)
    path = tmp_path / "c" / "mRNA.txt"
    lines = _lines(path)
    fields = lines[2].split("\t")
    fields[3], fields[4] = "inf", "1e39"  # the second overflows float32
    lines[2] = "\t".join(fields)
    _write(path, lines)
    with pytest.raises(
        ValueError, match=r"2 infinite value\(s\).*line 3: feature 'mRNA_1', sample 's2'"
    ):
        og.read_course(tmp_path / "c")
    with pytest.warns(UserWarning, match="2 missing values.*2 were infinite"):
        mdata = og.read_course(tmp_path / "c", nonfinite="nan")
    assert mdata["mrna"].uns["n_nonfinite"] == 2 and np.isnan(mdata["mrna"].X).sum() == 2


def test_inf_in_memory_is_refused_by_models_and_filled_by_impute_mean():
    mdata, _ = _paired(n=40, missing_target=0)
    mdata["mrna"].X[3, 2] = np.inf
    og.models.OmicsVAE.setup_mudata(mdata, modality="mrna")
    with pytest.raises(ValueError, match=r"'mrna' has 1 infinite values.*impute_mean"):
        og.models.OmicsVAE(mdata)
    with pytest.raises(ValueError, match=r"'mrna' has 1 infinite values"):
        og.tl.translate(mdata, "mrna", "meth")
    with pytest.raises(ValueError, match="infinite"):
        og.pp.standardize(mdata["mrna"], copy=True)
    filled = og.pp.impute_mean(mdata["mrna"], copy=True)
    assert np.isfinite(filled.X).all() and filled.uns["impute_mean"]["params"]["n_infinite"] == 1
    assert np.isinf(mdata["mrna"].X[3, 2])  # the user's object is untouched


# --- property-based: random malformations give a clear error or exactly the right matrix ---------
# A single-row table whose header's first field reads as a row-name label ("gene_id") is
# ambiguous when a value is missing from the row; such names are left out (see _looks_like_corner).
NAME = (
    st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=6)
    .map(lambda s: "n" + s)
    .filter(lambda s: not _looks_like_corner(s))
)
BENIGN = [
    "none",
    "bom",
    "crlf",
    "cr",
    "header_trailing_tab",
    "rows_trailing_tab",
    "blank_tail",
    "corner",
    "quotes",
]
HARMFUL = ["comma", "drop_field", "extra_field", "dup_sample", "inf", "missing_name", "semicolon"]


@st.composite
def tables(draw):
    n_features = draw(st.integers(1, 4))
    n_samples = draw(st.integers(2, 5))
    names = draw(
        st.lists(
            NAME, min_size=n_features + n_samples, max_size=n_features + n_samples, unique=True
        )
    )
    values = draw(
        st.lists(
            st.floats(-1e6, 1e6, allow_nan=False, width=32),
            min_size=n_features * n_samples,
            max_size=n_features * n_samples,
        )
    )
    X = np.asarray(values, dtype=np.float32).reshape(n_features, n_samples)
    return (
        names[:n_features],
        names[n_features:],
        X,
        draw(st.sampled_from(BENIGN + HARMFUL)),
        draw(st.randoms()),
    )


def _render(features, samples, X, change, rnd: random.Random):
    header = list(samples)
    rows = [[f, *(repr(float(v)) for v in row)] for f, row in zip(features, X)]
    sep, end, prefix = "\t", "\n", b""
    i = rnd.randrange(len(rows))
    if change == "bom":
        prefix = b"\xef\xbb\xbf"
    elif change == "crlf":
        end = "\r\n"
    elif change == "cr":
        end = "\r"
    elif change == "header_trailing_tab":
        header.append("")
    elif change == "rows_trailing_tab":
        rows = [[*r, ""] for r in rows]
    elif change == "corner":
        header.insert(0, "gene")
    elif change == "quotes":
        header = [f'"{s}"' for s in header]
    elif change in ("comma", "semicolon"):
        sep = "," if change == "comma" else ";"
    elif change == "drop_field":
        rows[i].pop(rnd.randrange(1, len(rows[i])))
    elif change == "extra_field":
        rows[i].append("0.5")
    elif change == "dup_sample":
        header[-1] = header[0]
    elif change == "inf":
        rows[i][rnd.randrange(1, len(rows[i]))] = rnd.choice(["inf", "-Inf", "Infinity", "1e40"])
    elif change == "missing_name":
        header.pop(rnd.randrange(len(header)))
    text = (
        end.join(sep.join(r) for r in [header, *rows])
        + end
        + ("\n\n" if change == "blank_tail" else "")
    )
    return prefix + text.encode()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables())
def test_read_course_property(tmp_path_factory, table):
    features, samples, X, change, rnd = table
    folder = tmp_path_factory.mktemp("prop")
    (folder / "prot.txt").write_bytes(_render(features, samples, X, change, rnd))
    try:
        mdata = og.read_course(folder)
    except ValueError as err:
        assert change in HARMFUL, f"{change}: a benign variant was refused: {err}"
        assert "prot.txt" in str(err)
        return
    assert change in BENIGN, f"{change} was read without an error"
    assert list(mdata["prot"].var_names) == features and list(mdata.obs_names) == samples
    np.testing.assert_array_equal(mdata["prot"].X, X.T)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables(), st.sampled_from([",", "\t", ";"]))
def test_read_table_property(tmp_path_factory, table, sep):
    features, samples, X, change, rnd = table
    if change in ("comma", "semicolon"):
        change = "none"
    text = _render(features, samples, X, change, rnd).replace(b"\t", sep.encode())
    path = tmp_path_factory.mktemp("prop") / "table.csv"
    path.write_bytes(text)
    try:
        adata = og.read_table(path, orientation="samples_in_columns")
    except ValueError as err:
        assert change in HARMFUL, f"{change}: a benign variant was refused: {err}"
        assert "table.csv" in str(err)
        return
    assert change in BENIGN, f"{change} was read without an error"
    assert list(adata.var_names) == features and list(adata.obs_names) == samples
    np.testing.assert_array_equal(adata.X, X.T)


# --- models: names, counts, seeds, threads, files ------------------------------------------------
@pytest.fixture(scope="module")
def vae():
    mdata, _ = _paired(n=80, missing_target=0)
    og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "meth"])
    model = og.models.CrossModalVAE(mdata, n_latent=4, n_hidden=16, n_models=1)
    model.train(**VAE_FAST)
    return mdata, model


def test_translate_aligns_features_by_name(vae):
    mdata, model = vae
    og.tl.translate(mdata, "mrna", "meth", model=model, key_added="ref", copy=False)
    expected = mdata["meth"].layers["ref"].copy()  # key_added names the layer
    shuffled = md.MuData(
        {"mrna": mdata["mrna"][:, ::-1].copy(), "meth": mdata["meth"][:, [3, 0, 5, 1, 4, 2]].copy()}
    )
    og.tl.translate(shuffled, "mrna", "meth", model=model, key_added="shuffled")
    layer = pd.DataFrame(shuffled["meth"].layers["shuffled"], columns=shuffled["meth"].var_names)
    np.testing.assert_allclose(layer[mdata["meth"].var_names].to_numpy(), expected, rtol=1e-6)
    out = shuffled["shuffled"].to_df()[mdata["meth"].var_names].to_numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_translate_never_replaces_measured_data(vae):
    mdata, model = vae
    measured = mdata["mrna"].X.copy()
    for key in ("mrna", "meth"):
        with pytest.raises(ValueError, match=f"key_added='{key}' names the"):
            og.tl.translate(mdata, "mrna", "meth", model=model, key_added=key)
    other = md.MuData({**{k: v.copy() for k, v in mdata.mod.items()}, "prot": mdata["mrna"].copy()})
    with pytest.raises(ValueError, match="existing modality.*overwrite=True"):
        og.tl.translate(other, "mrna", "meth", model=model, key_added="prot")
    og.tl.translate(other, "mrna", "meth", model=model, key_added="prot", overwrite=True)
    og.tl.translate(mdata, "mrna", "meth", model=model)
    og.tl.translate(mdata, "mrna", "meth", model=model)  # re-running replaces its own output
    np.testing.assert_array_equal(mdata["mrna"].X, measured)


def test_oversample_with_a_gan_of_other_features():
    mdata, _ = _paired(n=60, missing_target=0)
    mdata.obs["cls"] = mdata.obs["cls"].astype(str)
    adata = mdata["mrna"].copy()
    adata.obs["cls"] = mdata.obs["cls"].to_numpy()
    small = adata[:, :5].copy()
    og.models.OmicsGAN.setup_anndata(small, labels_key="cls")
    gan = og.models.OmicsGAN(small, n_hidden=8)
    gan.train(**GAN_FAST)
    with pytest.raises(ValueError, match=r"3 unknown \(e.g. g5"):
        og.tl.oversample(adata, labels_key="cls", model=gan)
    out = og.tl.oversample(
        small[:, ::-1].copy(), labels_key="cls", model=gan
    )  # another order is fine
    assert list(out.var_names) == list(small.var_names[::-1]) and out.n_vars == 5


def test_duplicated_sample_names_are_refused():
    adata = _paired(n=40, missing_target=0)[0]["mrna"].copy()
    adata.obs_names = ["s0", *adata.obs_names[:-1]]
    adata.obs["cls"] = "a"
    with pytest.raises(ValueError, match=r"1 duplicated sample name\(s\), e.g. 's0'"):
        og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    with pytest.raises(ValueError, match="duplicated sample"):
        og.tl.oversample(adata, labels_key="cls", method="smote")


@pytest.fixture(scope="module")
def gan():
    adata = _paired(n=60, missing_target=0)[0]["mrna"].copy()
    adata.obs["cls"] = np.repeat(["a", "b"], 30)
    adata.X[:, 2] = 3.5  # a feature without spread
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    model = og.models.OmicsGAN(adata, n_hidden=16)
    model.train(**GAN_FAST)
    return adata, model


@pytest.mark.parametrize("n", [2.7, -3, "5", True])
def test_sample_counts_are_validated(gan, n):
    _, model = gan
    with pytest.raises(ValueError, match="non-negative integer"):
        model.sample(n)
    with pytest.raises(ValueError, match="n_samples must be a non-negative integer"):
        _omics_vae().sample(n)


_VAE_CACHE = {}


def _omics_vae():
    if "m" not in _VAE_CACHE:
        adata = _paired(n=40, missing_target=0)[0]["mrna"].copy()
        adata.X[:, 1] = -2.0  # a feature without spread
        og.models.OmicsVAE.setup_anndata(adata)
        model = og.models.OmicsVAE(adata, n_latent=2, n_hidden=8)
        model.train(**VAE_FAST)
        _VAE_CACHE["m"] = (adata, model)
    return _VAE_CACHE["m"][1]


def test_seeds_are_validated(gan):
    _, model = gan
    with pytest.raises(TypeError, match="seed must be an integer or None"):
        model.sample(3, seed=1.5)
    with pytest.raises(ValueError, match=r"seed must lie in \[0, 2\*\*63\)"):
        model.sample(3, seed=-1)


def test_zero_variance_feature_is_generated_without_spread(gan):
    adata, model = gan
    assert np.all(model.sample(50, seed=0).X[:, 2] == np.float32(3.5))
    assert np.all(_omics_vae().sample(20, seed=0).X[:, 1] == np.float32(-2.0))


def test_training_and_sampling_leave_global_generators_and_threads_alone(gan):
    adata, model = gan
    random.seed(7)
    np.random.seed(7)  # noqa: NPY002 - the legacy global generator must stay untouched
    torch.manual_seed(7)
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    before = (random.getstate(), numpy_state, torch.random.get_rng_state().clone())
    threads = torch.get_num_threads()
    model.train(**GAN_FAST)
    model.sample(5)  # seed=None draws a fresh seed: still not from the caller's generators
    _omics_vae().train(**VAE_FAST)
    og.models.OmicsGAN(adata, n_hidden=8)  # building layers draws weights: not from them either
    assert random.getstate() == before[0]
    np.testing.assert_array_equal(np.random.get_state()[1], before[1])  # noqa: NPY002
    assert torch.equal(torch.random.get_rng_state(), before[2])
    assert torch.get_num_threads() == threads


def test_thread_setting_applies_inside_and_is_restored(gan, monkeypatch):
    _, model = gan
    seen = []
    original = model._generate

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "_generate", spy)
    before = torch.get_num_threads()
    model.sample(2, seed=0)  # default policy: a small model runs on one thread
    og.settings.num_threads = 2
    try:
        model.sample(2, seed=0)
    finally:
        og.settings.num_threads = None
    assert seen == [1, 2] and torch.get_num_threads() == before
    with pytest.raises(ValueError, match="num_threads must be a positive integer"):
        og.settings.num_threads = 0


def test_same_seed_same_numbers(gan):
    adata, model = gan
    first = model.sample(10, seed=3).X
    model.train(**GAN_FAST)
    np.testing.assert_array_equal(first, model.sample(10, seed=3).X)


@pytest.mark.parametrize("content", [b"", b"not a model", b"PK\x03\x04truncated"])
def test_corrupted_or_empty_saved_model_names_the_file(gan, tmp_path, content):
    adata, model = gan
    model.save(tmp_path / "m")
    (tmp_path / "m" / "model.pt").write_bytes(content)
    with pytest.raises(ValueError, match=r"model\.pt"):
        og.models.OmicsGAN.load(tmp_path / "m", adata)
    with pytest.raises(ValueError, match=r"model\.pt"):
        og.models.OmicsGAN.load(tmp_path / "m")


def test_loading_a_model_as_another_class(gan, tmp_path):
    adata, model = gan
    model.save(tmp_path / "m")
    with pytest.raises(TypeError, match="holds a OmicsGAN, not a OmicsVAE"):
        og.models.OmicsVAE.load(tmp_path / "m", adata)


# --- data types ----------------------------------------------------------------------------------
def _unit_interval(name, minmax):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    X = (X - X.min(0)) / (X.max(0) - X.min(0)) if minmax else 1 / (1 + np.exp(-X))
    obs = pd.DataFrame({"cls": np.repeat(["a", "b"], 30)}, index=[f"s{i}" for i in range(60)])
    mdata = md.MuData(
        {
            name: ad.AnnData(
                X.astype(np.float32),
                obs=obs.copy(),
                var=pd.DataFrame(index=[f"f{j}" for j in range(4)]),
            )
        }
    )
    mdata.obs["cls"] = obs["cls"].to_numpy()
    return mdata


def test_values_in_unit_interval_are_not_taken_for_beta_values():
    mdata = _unit_interval("mrna", minmax=True)  # expression min-max scaled to [0, 1]
    og.models.OmicsGAN.setup_mudata(mdata, modality="mrna", labels_key="cls")
    model = og.models.OmicsGAN(mdata, n_hidden=8)
    assert model.data_type_ == "gaussian" and "min-max scaled" in repr(model)
    mdata = _unit_interval("proportions", minmax=False)
    og.models.OmicsVAE.setup_mudata(mdata, modality="proportions")
    with pytest.warns(UserWarning, match="nothing declares beta values"):
        model = og.models.OmicsVAE(mdata, n_hidden=8)
    assert model.data_types_["proportions"] == "gaussian"
    model = og.models.OmicsVAE(mdata, n_hidden=8, data_types={"proportions": "beta"})
    assert model.data_types_["proportions"] == "beta" and "declared 'beta'" in repr(model)


def test_methylation_is_recognised_by_name_and_declared_beta_is_checked():
    mdata = _unit_interval("meth_450k", minmax=False)
    og.models.OmicsVAE.setup_mudata(mdata, modality="meth_450k")
    model = og.models.OmicsVAE(mdata, n_hidden=8)
    assert model.data_types_["meth_450k"] == "beta"
    assert "Data type of meth_450k: beta (name 'meth_450k' says methylation" in repr(model)
    mdata["meth_450k"].X = mdata["meth_450k"].X * 4 - 2  # M-value-like: outside [0, 1]
    assert og.models.OmicsVAE(mdata, n_hidden=8).data_types_["meth_450k"] == "gaussian"
    with pytest.raises(ValueError, match=r"declared 'beta'.*outside \[0, 1\]"):
        og.models.OmicsVAE(mdata, n_hidden=8, data_types={"meth_450k": "beta"})


# --- save -> load -> identical outputs, every model ----------------------------------------------
def test_save_load_identical_omicsgan(gan, tmp_path):
    adata, model = gan
    model.save(tmp_path / "m")
    loaded = og.models.OmicsGAN.load(tmp_path / "m", adata)
    np.testing.assert_array_equal(model.sample(9, seed=4).X, loaded.sample(9, seed=4).X)


def test_save_load_identical_multiomicsgan(tmp_path):
    mdata, _ = _paired(n=60, missing_target=0)
    og.models.MultiOmicsGAN.setup_mudata(mdata, modalities=["mrna", "meth"], labels_key="cls")
    model = og.models.MultiOmicsGAN(mdata, n_hidden=8)
    model.train(**GAN_FAST)
    model.save(tmp_path / "m")
    loaded = og.models.MultiOmicsGAN.load(tmp_path / "m", mdata)
    for mod in ("mrna", "meth"):
        np.testing.assert_array_equal(
            model.sample(5, seed=2)[mod].X, loaded.sample(5, seed=2)[mod].X
        )


def test_save_load_identical_omicsvae(tmp_path):
    model = _omics_vae()
    adata = _VAE_CACHE["m"][0]
    model.save(tmp_path / "m")
    loaded = og.models.OmicsVAE.load(tmp_path / "m", adata)
    np.testing.assert_array_equal(model.sample(6, seed=1).X, loaded.sample(6, seed=1).X)
    np.testing.assert_array_equal(
        model.get_latent_representation(), loaded.get_latent_representation()
    )


def test_save_load_identical_crossmodalvae(vae, tmp_path):
    mdata, model = vae
    model.save(tmp_path / "m")
    loaded = og.models.CrossModalVAE.load(tmp_path / "m", mdata)
    np.testing.assert_array_equal(
        model.translate(mdata, source="mrna", target="meth"),
        loaded.translate(mdata, source="mrna", target="meth"),
    )
    np.testing.assert_array_equal(
        model.get_latent_representation(mdata), loaded.get_latent_representation(mdata)
    )


def test_reader_declares_beta_values_for_models_set_up_on_the_anndata(course_dir):
    meth = og.read_course(course_dir)["meth"].copy()
    assert meth.uns["omixgan_data_type"] == "beta"
    og.models.OmicsVAE.setup_anndata(meth)
    model = og.models.OmicsVAE(meth, n_hidden=8)
    assert model.data_types_["X"] == "beta" and "declared 'beta' by the reader" in repr(model)


def test_evaluate_multiomics_generation_aligns_features_by_name():
    mdata, _ = _paired(n=80, missing_target=0)
    train, ref = mdata[mdata.obs_names[:40]].copy(), mdata[mdata.obs_names[40:60]].copy()
    fake = mdata[mdata.obs_names[60:]].copy()
    shuffled = md.MuData(
        {"mrna": fake["mrna"][:, ::-1].copy(), "meth": fake["meth"][:, ::-1].copy()}
    )
    shuffled.obs["cls"] = fake.obs["cls"].to_numpy()
    kwargs = {"reference": ref, "labels_key": "cls", "baselines": False}
    in_order = og.tl.evaluate_multiomics_generation(train, {"g": fake}, **kwargs)
    shuffled_table = og.tl.evaluate_multiomics_generation(train, {"g": shuffled}, **kwargs)
    # the random forest's predict_proba sums trees across threads in no fixed order: AUCs may
    # differ in the last digits; a misalignment would change every column grossly
    pd.testing.assert_frame_equal(in_order, shuffled_table, check_exact=False, atol=0.01)
    fewer = md.MuData({"mrna": fake["mrna"][:, 1:].copy(), "meth": fake["meth"].copy()})
    fewer.obs["cls"] = fake.obs["cls"].to_numpy()
    with pytest.raises(
        ValueError, match="'mrna' of a compared object lacks 1 of the training features"
    ):
        og.tl.evaluate_multiomics_generation(train, {"g": fewer}, **kwargs)
