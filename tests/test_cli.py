from __future__ import annotations

import anndata as ad
import mudata as md

from omixgan.cli import main

from .conftest import write_course


def test_demo_quick_writes_every_result(tmp_path, capsys):
    write_course(tmp_path / "course", n_samples=60)
    out = tmp_path / "out"
    assert main(["demo", "--data", str(tmp_path / "course"), "--out", str(out), "--quick"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "data.h5mu", "generation_mrna.csv", "translation_mrna_meth.csv", "translation_mrna_prot.csv",
            "synthetic_gan.h5ad", "synthetic_smote.h5ad", "generation_pca.png", "latent.png"} <= names
    mdata = md.read_h5mu(out / "data.h5mu")
    assert "X_omixgan" in mdata.obsm
    assert "translated_from_mrna" in mdata["meth"].layers
    assert ad.read_h5ad(out / "synthetic_gan.h5ad").obs["synthetic"].all()
    report = (out / "report.md").read_text()
    assert "SMOTE" in report and "class-mean oracle" in report
    assert "generation_mrna.csv" in report


def test_demo_bad_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "course data folder not found" in capsys.readouterr().err
