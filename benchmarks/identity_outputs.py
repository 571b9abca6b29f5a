"""Fixed-seed outputs of every model on a course(2000) subset, saved to an .npz, to check that a
refactoring changes no number: run it before and after, then compare the files with
numpy.array_equal per key. Usage: python benchmarks/identity_outputs.py OUT.npz
"""

import sys

import mudata as md
import numpy as np
import torch

import omixgan as og

torch.set_num_threads(1)
out = sys.argv[1]
mdata = og.datasets.course(2000)
names = mdata.obs_names[:150]
sub = mdata[names].copy()
res = {}
# OmicsGAN on mrna with labels
og.models.OmicsGAN.setup_mudata(sub, modality="mrna", labels_key="cluster")
gan = og.models.OmicsGAN(sub, n_hidden=32, per_class=False)
gan.train(max_steps=30, eval_every=10, seed=3, progress_bar=False)
s = gan.sample(n_per_class=20, seed=5)
res["gan"] = s.X
res["gan_labels"] = s.obs["cluster"].astype(str).to_numpy()
# layer variant
sub2 = mdata[names].copy()
sub2["meth"].layers["raw"] = sub2["meth"].X.copy()
sub2["meth"].X = sub2["meth"].X * 0 + 0.5
og.models.OmicsGAN.setup_mudata(sub2, modality="meth", labels_key="cluster", layer="raw")
gan2 = og.models.OmicsGAN(sub2, n_hidden=32)
gan2.train(max_steps=20, eval_every=10, seed=1, progress_bar=False)
res["gan_layer"] = gan2.sample(n_per_class=10, seed=2).X
# CrossModalVAE, partly paired
part = mdata[names].copy()
part = md.MuData({"mrna": part["mrna"].copy(), "meth": part["meth"][:120].copy()})
part.obs = part.obs.join(mdata.obs[["cluster"]])
og.models.CrossModalVAE.setup_mudata(part, modalities=["mrna", "meth"], labels_key="cluster")
vae = og.models.CrossModalVAE(part, n_hidden=32, n_models=2)
vae.train(max_epochs=5, seed=7, progress_bar=False)
res["tr"] = vae.translate(source="mrna", target="meth")
res["tr_std"] = vae.translate(source="mrna", target="meth", n_samples=3, return_std=True)[1]
new = mdata[mdata.obs_names[150:200]].copy()
res["tr_new"] = vae.translate(new, source="mrna", target="meth")
res["lat_new"] = vae.get_latent_representation(new)
res["tr_ad"] = vae.translate(new["mrna"].copy(), source="mrna", target="meth")
# MultiOmicsGAN
mg_data = mdata[names].copy()
og.models.MultiOmicsGAN.setup_mudata(mg_data, modalities=["mrna", "meth"], labels_key="cluster")
mg = og.models.MultiOmicsGAN(mg_data, n_hidden=32)
mg.train(max_steps=20, eval_every=10, seed=4, progress_bar=False)
ms = mg.sample(n_per_class=5, seed=1)
res["mg_mrna"] = ms["mrna"].X
res["mg_meth"] = ms["meth"].X
# OmicsVAE on AnnData
ad1 = mdata["prot"][names].copy()
og.models.OmicsVAE.setup_anndata(ad1)
ov = og.models.OmicsVAE(ad1, n_hidden=32)
ov.train(max_epochs=5, seed=2, progress_bar=False)
res["ov_lat"] = ov.get_latent_representation(mdata["prot"][mdata.obs_names[150:170]].copy())
res["ov_sample"] = ov.sample(10, seed=3).X
np.savez(out, **res)
print("ok", {k: v.shape for k, v in res.items()})
