"""Data beyond memory (backed AnnData) and data-parallel training (DDP with CPU processes)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch

import omixgan as og
from omixgan.model._base import default_pipeline
from omixgan.train import IndexBatches
from omixgan.train._ondisk import OnDiskBatches, OnDiskMatrix, fit_pipeline_on_disk


def _low_rank(n, p, seed=0, beta=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) @ rng.normal(size=(4, p)) + 0.5 * rng.normal(size=(n, p))
    if beta:
        X = 1 / (1 + np.exp(-X / 3))
    return ad.AnnData(
        X.astype(np.float32),
        obs=pd.DataFrame(index=[f"s{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(p)]),
    )


@pytest.fixture
def backed(tmp_path):
    adata = _low_rank(3000, 40)
    path = tmp_path / "data.h5ad"
    adata.write_h5ad(path)
    return adata, ad.read_h5ad(path, backed="r")


def test_index_batches_share_rows_between_processes():
    shares = []
    for rank in range(3):
        rng = torch.Generator().manual_seed(0)
        shares.append(
            [b.tolist() for b in IndexBatches(100, 8, rng, drop_last=True, rank=rank, world_size=3)]
        )
    assert len({len(s) for s in shares}) == 1  # DDP needs the same number of steps everywhere
    rows = [set(np.concatenate(s)) for s in shares]
    assert not (rows[0] & rows[1]) and not (rows[1] & rows[2]) and not (rows[0] & rows[2])


@pytest.mark.parametrize("beta", [False, True])
def test_pipeline_fitted_on_disk_equals_in_memory(tmp_path, beta):
    adata = _low_rank(1000, 30, beta=beta)
    adata.write_h5ad(tmp_path / "x.h5ad")
    disk = OnDiskMatrix(
        ad.read_h5ad(tmp_path / "x.h5ad", backed="r"), buffer_mb=0.05
    )  # many small blocks
    assert disk.block_rows < 200
    name = "meth" if beta else "mrna"  # beta values are recognised by name, not by their range
    pipeline, data_type = fit_pipeline_on_disk(disk, None, name)
    expected, expected_type = default_pipeline(adata.X, None, name)
    assert data_type == expected_type == ("beta" if beta else "gaussian")
    np.testing.assert_allclose(
        pipeline.transform(adata.X), expected.fit_transform(adata.X), atol=1e-4
    )


def test_on_disk_batches_cover_each_row_once_per_epoch(backed):
    _, disk_adata = backed
    disk = OnDiskMatrix(disk_adata, buffer_mb=0.1)
    pipeline, _ = fit_pipeline_on_disk(disk, None)
    exclude = np.arange(0, 3000, 10)
    batches = OnDiskBatches(
        disk, pipeline, 50, torch.Generator().manual_seed(0), exclude=exclude, device="cpu"
    )
    rows = np.concatenate([xs["X"].numpy() for xs, _ in batches])
    expected = pipeline.transform(np.asarray(disk_adata.X[:]))
    kept = np.delete(expected, exclude, axis=0)
    assert len(rows) == len(kept) // 50 * 50
    # every batch row is a distinct training row; no validation row leaks in
    matched = {int(np.argmin(((kept - r) ** 2).sum(axis=1))) for r in rows[:200]}
    assert len(matched) == 200
    assert np.min(((expected[exclude][:, None, :] - rows[None, :200, :]) ** 2).sum(axis=2)) > 1e-6
    # two processes: the same number of batches, disjoint rows
    per_rank = [
        [
            xs["X"].numpy()
            for xs, _ in OnDiskBatches(
                disk,
                pipeline,
                50,
                torch.Generator().manual_seed(1),
                exclude=exclude,
                device="cpu",
                rank=r,
                world_size=2,
            )
        ]
        for r in range(2)
    ]
    assert len(per_rank[0]) == len(per_rank[1]) > 0
    a, b = np.concatenate(per_rank[0]), np.concatenate(per_rank[1])
    assert np.min(((a[:100, None, :] - b[None, :100, :]) ** 2).sum(axis=2)) > 1e-6


def test_vae_trains_from_disk_like_in_memory(backed):
    adata, disk_adata = backed
    errors = {}
    for name, data in (("memory", adata), ("disk", disk_adata)):
        og.models.OmicsVAE.setup_anndata(data)
        vae = og.models.OmicsVAE(data, n_hidden=32, n_latent=4)
        vae.train(max_epochs=15, batch_size=64, buffer_mb=0.2, progress_bar=False)
        latent = vae.get_latent_representation()
        assert latent.shape == (3000, 4)
        recon = vae.decode(latent)
        errors[name] = float(np.mean((recon - adata.X) ** 2))
    # a rank-4 signal with noise variance 0.25 relative to total variance ~4.25 per feature
    assert errors["disk"] < 0.5 * np.var(adata.X)
    assert errors["disk"] < 1.3 * errors["memory"]
    assert disk_adata.isbacked  # the user's object is still backed, nothing was loaded into it


def test_nan_on_disk_names_the_sample(tmp_path):
    adata = _low_rank(300, 10)
    adata.X[123, 4] = np.nan
    adata.write_h5ad(tmp_path / "nan.h5ad")
    disk_adata = ad.read_h5ad(tmp_path / "nan.h5ad", backed="r")
    og.models.OmicsVAE.setup_anndata(disk_adata)
    with pytest.raises(ValueError, match="s123"):
        og.models.OmicsVAE(disk_adata)


def test_cross_modal_vae_refuses_backed_modalities(tmp_path):
    mdata = md.MuData({"mrna": _low_rank(200, 10, seed=1), "prot": _low_rank(200, 6, seed=2)})
    mdata.write(tmp_path / "x.h5mu")
    backed_mdata = md.read_h5mu(tmp_path / "x.h5mu", backed=True)
    og.models.CrossModalVAE.setup_mudata(backed_mdata, modalities=["mrna", "prot"])
    with pytest.raises(ValueError, match="to_memory"):
        og.models.CrossModalVAE(backed_mdata)


#: Start of the scripts that measure a training's peak memory in a fresh process.
MEMORY_PREAMBLE = """
import json, sys
import anndata as ad, numpy as np, torch
import omixgan as og

torch.set_num_threads(1)
def status_mb(key):  # VmRSS: now; VmHWM: the peak since the last reset
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(key))
# a first, tiny training: imports and allocator pools are not the data's memory
warm = ad.AnnData(np.random.default_rng(1).normal(size=(300, 20)).astype(np.float32))
og.models.OmicsVAE.setup_anndata(warm)
og.models.OmicsVAE(warm, n_hidden=32, n_latent=8).train(max_epochs=1, progress_bar=False)
"""

ON_DISK_SCRIPT = (
    MEMORY_PREAMBLE
    + """
adata = ad.read_h5ad(sys.argv[1], backed="r")
# the peak from here on (ru_maxrss would keep the parent's)
open("/proc/self/clear_refs", "w").write("5")
before = status_mb("VmRSS")
og.models.OmicsVAE.setup_anndata(adata)
vae = og.models.OmicsVAE(adata, n_hidden=32, n_latent=8)
vae.train(max_epochs=2, batch_size=128, buffer_mb=4, progress_bar=False)
latent = vae.get_latent_representation()
result = {
    "growth_mb": status_mb("VmHWM") - before,
    "latent": list(latent.shape),
    "validation": vae.history["validation"].tolist(),
}
json.dump(result, open(sys.argv[2], "w"))
"""
)


def test_training_from_a_file_larger_than_the_memory_cap(tmp_path):
    """The file is 3x the memory cap; the process's peak memory grows by less than the cap."""
    n, p = 20_000, 2_000  # 153 MB of float32
    path = tmp_path / "big.h5ad"
    rng = np.random.default_rng(0)
    X = np.empty((n, p), dtype=np.float32)
    for start in range(0, n, 2_000):
        X[start : start + 2_000] = rng.normal(size=(2_000, 8)) @ rng.normal(
            size=(8, p)
        ) + rng.normal(size=(2_000, p))
    ad.AnnData(X).write_h5ad(path)
    del X
    file_mb = n * p * 4 / 2**20
    cap_mb = file_mb / 3
    script = tmp_path / "on_disk.py"
    script.write_text(ON_DISK_SCRIPT)
    out = tmp_path / "result.json"
    subprocess.run([sys.executable, str(script), str(path), str(out)], check=True, timeout=600)
    result = json.loads(out.read_text())
    assert result["latent"] == [n, 8]
    assert result["validation"][-1] < result["validation"][0]
    assert result["growth_mb"] < cap_mb, (
        f"peak memory grew by {result['growth_mb']:.0f} MB for a {file_mb:.0f} MB file"
    )


DDP_SCRIPT = """
import json, sys
import anndata as ad, numpy as np, pandas as pd, torch
import omixgan as og

if __name__ == "__main__":
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(loc=m, size=(200, 20)) for m in (0.0, 3.0)]).astype("float32")
    obs = pd.DataFrame({"cls": ["a"] * 200 + ["b"] * 200}, index=[f"s{i}" for i in range(400)])
    adata = ad.AnnData(X, obs=obs)
    og.models.OmicsGAN.setup_anndata(adata, labels_key="cls")
    gan = og.models.OmicsGAN(adata, per_class=False, n_hidden=32)
    ddp = {"accelerator": "cpu", "devices": 2, "strategy": "ddp", "progress_bar": False}
    gan.train(max_steps=60, batch_size=32, eval_every=20, **ddp)
    single = adata.copy()
    og.models.OmicsVAE.setup_anndata(single)
    vae = og.models.OmicsVAE(single, n_hidden=32, n_latent=4)
    vae.train(max_epochs=5, batch_size=32, **ddp)
    synthetic = gan.sample(n_per_class=50, seed=1)
    trained = [p.detach().clone() for p in gan.module.parameters()]
    gan.module.reset_parameters(0)  # the weights training started from
    moved = max(float((a - b).abs().max()) for a, b in zip(trained, gan.module.parameters()))
    rank = torch.distributed.get_rank()
    json.dump({
        "world_size": torch.distributed.get_world_size(),
        "weights": [float(p.double().sum()) for p in trained],
        "moved": moved,
        "n_synthetic": synthetic.n_obs,
        "mean_a": float(synthetic[synthetic.obs["cls"] == "a"].X.mean()),
        "mean_b": float(synthetic[synthetic.obs["cls"] == "b"].X.mean()),
        "gan_scores": gan.history["score"].tolist(),
        "vae_validation": vae.history["validation"].tolist(),
    }, open(f"{sys.argv[1]}/rank{rank}.json", "w"))
"""


def test_ddp_with_two_cpu_processes_trains_and_samples(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(DDP_SCRIPT))
    subprocess.run(
        [sys.executable, str(script), str(tmp_path)], check=True, timeout=600, cwd=tmp_path
    )
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert all(r["world_size"] == 2 for r in ranks)
    # gradients were averaged across processes: both hold the same model
    np.testing.assert_allclose(ranks[0]["weights"], ranks[1]["weights"], rtol=1e-5)
    result = ranks[0]
    assert result["n_synthetic"] == 100
    assert abs(result["mean_a"]) < 0.5 and abs(result["mean_b"] - 3.0) < 0.5
    assert result["moved"] > 1e-3 and np.isfinite(result["gan_scores"]).all()
    assert min(result["vae_validation"]) < result["vae_validation"][0]


IN_MEMORY_SCRIPT = (
    MEMORY_PREAMBLE
    + """
n, p = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
X = np.empty((n, p), dtype=np.float32)
for start in range(0, n, 1000):  # in blocks, so that making the data sets no peak of its own
    factors = rng.normal(size=(1000, 8)).astype(np.float32)
    X[start : start + 1000] = factors @ rng.normal(size=(8, p)).astype(np.float32) + 3.0
adata = ad.AnnData(X)
checksum, some_rows = float(X.sum(dtype=np.float64)), X[::997].copy()
# the peak from here on (ru_maxrss would keep the parent's)
open("/proc/self/clear_refs", "w").write("5")
before = status_mb("VmRSS")
og.models.OmicsVAE.setup_anndata(adata)
vae = og.models.OmicsVAE(adata, n_hidden=32, n_latent=8)
vae.train(max_epochs=1, batch_size=128, progress_bar=False)
unchanged = float(adata.X.sum(dtype=np.float64)) == checksum and np.array_equal(
    adata.X[::997], some_rows
)
result = {
    "growth_mb": status_mb("VmHWM") - before,
    "validation": vae.history["validation"].tolist(),
    "unchanged": bool(unchanged),
}
json.dump(result, open(sys.argv[3], "w"))
"""
)


def test_in_memory_training_keeps_no_transformed_copy(tmp_path):
    """Training on data in memory adds far less than the data's size: batches are transformed as
    they are drawn, the matrix is never copied whole (peak memory within 2x the float32 data)."""
    n, p = 40_000, 1_000  # 153 MB of float32
    data_mb = n * p * 4 / 2**20
    script = tmp_path / "in_memory.py"
    script.write_text(IN_MEMORY_SCRIPT)
    out = tmp_path / "result.json"
    subprocess.run([sys.executable, str(script), str(n), str(p), str(out)], check=True, timeout=600)
    result = json.loads(out.read_text())
    assert result["unchanged"]  # the user's matrix is used as it is, never written to
    assert np.isfinite(result["validation"]).all()
    assert result["growth_mb"] < 0.5 * data_mb, (
        f"training added {result['growth_mb']:.0f} MB to {data_mb:.0f} MB of data"
    )


def test_vae_trains_on_a_read_only_matrix_as_it_is():
    adata = _low_rank(300, 12)
    adata.X.setflags(write=False)
    original = adata.X.copy()
    og.models.OmicsVAE.setup_anndata(adata)
    vae = og.models.OmicsVAE(adata, n_hidden=16, n_latent=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        vae.train(max_epochs=3, progress_bar=False)
    np.testing.assert_array_equal(adata.X, original)
    assert vae.get_latent_representation().shape == (300, 4)
