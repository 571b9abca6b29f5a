from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import omixgan.metrics._generation as generation_metrics
from omixgan.cli import main

from .conftest import write_course


@pytest.fixture
def small_forests(monkeypatch):
    """Two-sample AUCs with 10 trees on one thread: the tiny demo scores about a hundred forests."""

    def forest(**kwargs):
        return RandomForestClassifier(**{**kwargs, "n_estimators": 10, "n_jobs": 1})

    monkeypatch.setattr(generation_metrics, "RandomForestClassifier", forest)


def test_demo_quick_writes_every_result(tmp_path, capsys, small_forests):
    write_course(tmp_path / "course", n_samples=60)
    out = tmp_path / "out"
    assert main(["demo", "--data", str(tmp_path / "course"), "--out", str(out), "--quick"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "report.md",
        "data.h5mu",
        "generation_mrna.csv",
        "translation_mrna_meth.csv",
        "translation_mrna_prot.csv",
        "synthetic_gan.h5ad",
        "synthetic_smote.h5ad",
        "generation_pca.png",
        "latent.png",
        "generation_multiomics.csv",
        "synthetic_multiomics.h5mu",
        "generation_multiomics_crosscorr.png",
        "generation_multiomics_pca.png",
        "multiomics_gan_history.png",
    } <= names
    mdata = md.read_h5mu(out / "data.h5mu")
    assert "X_omixgan" in mdata.obsm
    assert "translated_from_mrna" in mdata["meth"].layers
    assert ad.read_h5ad(out / "synthetic_gan.h5ad").obs["synthetic"].all()
    report = (out / "report.md").read_text()
    assert "SMOTE" in report and "class-mean oracle" in report
    assert "generation_mrna.csv" in report
    # what the GAN's training kept, per class, next to the held-out table that judges it
    assert "What training chose on its validation samples" in report
    assert report.count("Class ") >= 2 and "kept (distance" in report

    # multi-omics generation: the joint model and the baselines in one table, scored on held-out
    # samples
    # (SMOTE side by side is a row of the full run only)
    table = pd.read_csv(out / "generation_multiomics.csv", index_col=0)
    assert {
        "held-out real (control)",
        "MultiOmicsGAN",
        "class Gaussian per modality",
        "copy of train",
    } <= set(table.index)
    auc = table[[f"{m}_two_sample_auc" for m in ("mrna", "meth", "prot", "joint")]]
    assert ((auc >= 0) & (auc <= 1)).all().all()
    assert table.loc["copy of train", "joint_dcr_ratio"] == 0
    assert table.loc["MultiOmicsGAN", "joint_dcr_ratio"] > 0
    assert np.isfinite(table.loc["MultiOmicsGAN", "cross_correlation_distance"])
    assert "translator_consistency" in table.columns
    # the synthetic multi-omics samples: every modality, original units, labelled and flagged,
    # apart from the data
    synthetic = md.read_h5mu(out / "synthetic_multiomics.h5mu")
    assert set(synthetic.mod) == {"mrna", "meth", "prot"}
    assert synthetic.n_obs == 30  # as many as the held-out half
    assert synthetic.obs["synthetic"].all() and all(
        synthetic[m].obs["synthetic"].all() for m in synthetic.mod
    )
    assert sorted(synthetic.obs["cluster"].astype(str).unique()) == ["1", "2"]
    for m in synthetic.mod:
        assert list(synthetic[m].var_names) == list(mdata[m].var_names)
    meth = np.asarray(synthetic["meth"].X)
    assert ((meth > 0) & (meth < 1)).all()  # beta values stay beta values
    assert not mdata.obs_names.isin(synthetic.obs_names).any()
    assert (
        "MultiOmicsGAN" in report
        and "generation_multiomics.csv" in report
        and "synthetic_multiomics.h5mu" in report
    )
    assert "--quick" in report and "150 generator steps" in report


@pytest.mark.filterwarnings("ignore:Cannot join columns with the same name")
def test_smote_multiomics_keeps_modalities_and_units():
    import omixgan as og

    mdata = og.datasets.course(2000)[:120].copy()
    mdata.obs["cluster"] = mdata.obs["cluster"].astype(str)
    before = np.asarray(mdata["meth"].X).copy()
    new = og.tl.smote_multiomics(
        mdata,
        labels_key="cluster",
        n_per_class={"1": 7, "2": 5},
        modalities=["mrna", "meth", "prot"],
    )
    assert set(new.mod) == {"mrna", "meth", "prot"} and new.n_obs == 12
    assert new.obs["cluster"].value_counts().to_dict() == {"1": 7, "2": 5}
    assert new.obs["synthetic"].all()
    np.testing.assert_array_equal(np.asarray(mdata["meth"].X), before)  # the input is untouched
    for m in new.mod:
        assert list(new[m].var_names) == list(mdata[m].var_names)
        X, real = np.asarray(new[m].X), np.asarray(mdata[m].X)
        # interpolation between real samples: inside the range of every feature
        assert (X >= real.min(axis=0) - 1e-4).all() and (X <= real.max(axis=0) + 1e-4).all()

    # modalities are aligned by sample name: another row order of one modality, the same samples
    shuffled = md.MuData(
        {m: (mdata[m][::-1].copy() if m == "prot" else mdata[m].copy()) for m in mdata.mod}
    )
    shuffled.obs["cluster"] = mdata.obs.loc[shuffled.obs_names, "cluster"]
    again = og.tl.smote_multiomics(
        shuffled,
        labels_key="cluster",
        n_per_class={"1": 7, "2": 5},
        modalities=["mrna", "meth", "prot"],
    )
    for m in new.mod:
        np.testing.assert_allclose(
            np.asarray(again[m].X), np.asarray(new[m].X), rtol=1e-5, atol=1e-5
        )
    with pytest.raises(KeyError, match="labels_key='nope'"):
        og.tl.smote_multiomics(mdata, labels_key="nope")


def test_demo_bad_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "course data folder not found" in capsys.readouterr().err


def test_demo_out_onto_a_file_or_an_unwritable_path_is_a_clear_error(tmp_path, capsys):
    write_course(tmp_path / "course", n_samples=20)
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    assert main(["demo", "--data", str(tmp_path / "course"), "--out", str(a_file), "--quick"]) == 2
    err = capsys.readouterr().err
    assert "is an existing file, not a folder" in err and "Traceback" not in err
    assert a_file.read_text() == "keep me"

    # a folder below a file cannot be created
    assert (
        main(["demo", "--data", str(tmp_path / "course"), "--out", str(a_file / "sub"), "--quick"])
        == 2
    )
    assert "cannot write there" in capsys.readouterr().err


def test_demo_without_labels_is_a_clear_error_before_anything_is_written(tmp_path, capsys):
    write_course(tmp_path / "course", n_samples=20, labels=False)
    out = tmp_path / "out"
    assert main(["demo", "--data", str(tmp_path / "course"), "--out", str(out)]) == 2
    assert "needs class labels" in capsys.readouterr().err
    assert not out.exists()
