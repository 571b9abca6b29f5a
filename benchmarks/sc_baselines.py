"""Baselines of the single-cell benchmarks: translators (ridge, kNN, class mean, totalVI) and
count generators (SMOTE, class Gaussian in PCA space, copy, scVI posterior predictive samples)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sc_data import lognorm
from sklearn.covariance import LedoitWolf

from omixgan.metrics import predict_class_mean, predict_knn, predict_ridge

# --------------------------------------------------------------------------- translation


def translate_ridge(rna, prot, tr, te):
    X = lognorm(rna)
    return predict_ridge(X[tr], np.log1p(prot[tr]), X[te])


def translate_knn(rna, prot, tr, te):
    X = lognorm(rna)
    return predict_knn(X[tr], np.log1p(prot[tr]), X[te], n_neighbors=15, n_pcs=50)


def translate_knn_unscaled(rna, prot, tr, te):
    """kNN as scanpy's pipeline without ``sc.pp.scale`` would see the cells: the PCA-50 of the
    log-normalised RNA, genes centred but not scaled, and 30 neighbours. The strongest of 16
    kNN variants (scaled, clipped at 10 or unscaled; 10, 15, 20 or 30 neighbours; uniform or
    distance weights) on the held-out cells of seeds 0-5, so an optimistic baseline: it was
    chosen on the test cells."""
    X = lognorm(rna)
    return predict_knn(X[tr], np.log1p(prot[tr]), X[te], n_neighbors=30, n_pcs=50, scale=False)


def translate_class_mean(prot, labels, tr, te):
    return predict_class_mean(np.log1p(prot[tr]), labels[tr], labels[te])


def translate_totalvi(mdata, tr, te, *, seed: int, max_epochs: int = 200):
    """totalVI trained on every labelled cell's RNA, with the proteins of the held-out cells set
    to zero in a batch of their own, which totalVI treats as missing measurements (its documented
    route for cells without proteins); the prediction is the denoised protein expression
    (foreground + background, posterior mean over 25 samples) of the held-out cells as if they
    were in the training batch. Transductive: totalVI sees the held-out cells' RNA during
    training, which our model does not. Returns log1p of the predicted counts."""
    import scvi

    scvi.settings.seed = seed
    rna = mdata["rna"].copy()
    prot = np.asarray(
        mdata["prot"].X.toarray() if sp.issparse(mdata["prot"].X) else mdata["prot"].X,
        dtype=np.float32,
    )
    prot = prot.copy()
    prot[te] = 0.0
    batch = np.array(["train"] * rna.n_obs, dtype=object)
    batch[te] = "heldout"
    rna.obs = rna.obs[[]].copy()
    rna.obs["batch"] = batch
    rna.obsm["protein_expression"] = prot
    scvi.model.TOTALVI.setup_anndata(
        rna, batch_key="batch", protein_expression_obsm_key="protein_expression"
    )
    model = scvi.model.TOTALVI(rna)
    model.train(max_epochs=max_epochs, accelerator="cpu", enable_progress_bar=False)
    _, protein = model.get_normalized_expression(
        indices=te,
        transform_batch="train",
        include_protein_background=True,
        sample_protein_mixing=False,
        n_samples=25,
        return_mean=True,
    )
    return np.log1p(np.asarray(protein)), model.history["elbo_train"].shape[0]


# --------------------------------------------------------------------------- generation


def per_class(labels_train, counts: dict, draw):
    out, lab = [], []
    for c, n in counts.items():
        if n > 0:
            out.append(draw(c, np.flatnonzero(labels_train == c), n))
            lab += [c] * n
    return np.vstack(out), np.asarray(lab)


def gen_smote(X_lognorm_train, labels_train, counts, seed):
    """SMOTE (imbalanced-learn, k=5) within each class, on the log-normalised expression."""
    from imblearn.over_sampling import SMOTE

    def draw(c, idx, n):
        members = X_lognorm_train[idx]
        stand_in = members[:6]
        Xc = np.vstack([members, stand_in])
        yc = np.r_[np.ones(len(members), dtype=int), np.zeros(len(stand_in), dtype=int)]
        s = SMOTE(sampling_strategy={1: len(members) + n}, k_neighbors=5, random_state=seed)
        return s.fit_resample(Xc, yc)[0][len(Xc) :]

    return per_class(labels_train, counts, draw)


def gen_class_gaussian(P_train, labels_train, counts, seed):
    """Class mean and Ledoit-Wolf covariance in the evaluation's PCA-50 space (not counts)."""
    rng = np.random.default_rng(seed)

    def draw(c, idx, n):
        m = P_train[idx]
        return rng.multivariate_normal(m.mean(axis=0), LedoitWolf().fit(m).covariance_, size=n)

    return per_class(labels_train, counts, draw)


def gen_copy(counts_train, labels_train, counts, seed):
    rng = np.random.default_rng(seed)
    dense = counts_train.toarray() if sp.issparse(counts_train) else counts_train
    return per_class(
        labels_train, counts, lambda c, idx, n: dense[rng.choice(idx, n, replace=True)]
    )


def gen_scvi(adata_train, labels_train, counts, seed, max_epochs: int = 200):
    """scVI (NB likelihood, 10-d latent) trained on the training cells' counts; for each class,
    posterior predictive samples (scVI's own ``posterior_predictive_sample``) of training cells of
    that class drawn with replacement: whole-number counts with each cell's library size."""
    import scvi

    scvi.settings.seed = seed
    a = adata_train.copy()
    a.obs = a.obs[[]].copy()
    scvi.model.SCVI.setup_anndata(a)
    model = scvi.model.SCVI(a, gene_likelihood="nb")
    model.train(max_epochs=max_epochs, accelerator="cpu", enable_progress_bar=False)
    rng = np.random.default_rng(seed)
    out, lab = [], []
    for c, n in counts.items():
        idx = rng.choice(np.flatnonzero(labels_train == c), n, replace=True)
        # duplicates in indices are not allowed by every scvi version: sample unique ones in rounds
        rows = []
        remaining = idx
        while len(remaining):
            uniq, first = np.unique(remaining, return_index=True)
            x = model.posterior_predictive_sample(indices=uniq, n_samples=1)
            x = x.todense() if hasattr(x, "todense") else x
            rows.append(np.asarray(x).reshape(len(uniq), -1))
            remaining = np.delete(remaining, first)
        out.append(np.vstack(rows))
        lab += [c] * n
    return np.vstack(out), np.asarray(lab)
