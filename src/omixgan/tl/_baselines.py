"""Baseline generators, all returning the same AnnData shape as :meth:`OmicsGAN.sample`."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np

from .._utils import (
    EmpiricalMarginals,
    check_labels_key,
    get_matrix,
    resolve_counts,
    shrinkage_factor,
    synthetic_adata,
)
from ..pp import Logit, declared_data_type, resolve_data_type


def _class_data(adata: ad.AnnData, labels_key: str | None, layer: str | None):
    if isinstance(adata, md.MuData):
        raise TypeError("pass one modality (an AnnData), e.g. mdata['mrna'].")
    check_labels_key(adata, labels_key)
    X = get_matrix(adata, layer, dtype=np.float64, allow_nan=False)
    labels = (
        np.full(adata.n_obs, "all", dtype=object)
        if labels_key is None
        else adata.obs[labels_key].astype(str).to_numpy()
    )
    return X, labels


def _per_class(
    adata, labels_key, n_per_class, layer, draw, prefix: str, transform=None
) -> ad.AnnData:
    """Call ``draw(class_name, members, n)`` for every class that gets ``n > 0`` new samples and
    gather the draws into the AnnData every generator returns. With a ``transform`` (a
    :class:`~omixgan.pp.Transform`), classes are drawn in its space and the draws inverted."""
    X, labels = _class_data(adata, labels_key, layer)
    if transform is not None:
        X = transform.fit_transform(X).astype(np.float64)
    counts = resolve_counts(n_per_class, np.unique(labels))
    out_X, out_y = [np.empty((0, adata.n_vars))], []
    for cls_name, n in counts.items():
        if n > 0:
            out_X.append(draw(cls_name, X[labels == cls_name], n))
            out_y += [cls_name] * n
    X_new = np.vstack(out_X)
    if transform is not None:
        X_new = transform.inverse(X_new)
    return synthetic_adata(X_new, np.asarray(out_y), adata.var_names, labels_key, prefix=prefix)


def smote(
    adata: ad.AnnData,
    *,
    labels_key: str | None,
    n_per_class: int | dict = 100,
    k_neighbors: int = 5,
    layer: str | None = None,
    random_state: int = 0,
) -> ad.AnnData:
    """New samples by SMOTE (imbalanced-learn): points on segments between same-class neighbours.

    Parameters
    ----------
    adata
        One modality; samples in rows.
    labels_key
        ``.obs`` column with the class; None treats all samples as one class.
    n_per_class
        New samples per class (an int for every class, or ``{class: n}``).
    k_neighbors
        Neighbours SMOTE interpolates towards (imbalanced-learn's default, 5). Every class needs
        more samples than this.
    layer
        Matrix to use instead of ``.X``.
    random_state
        Seed.

    Returns
    -------
    AnnData of only the new samples, in the input's units, with ``obs[labels_key]`` and
    ``obs["synthetic"] = True``; ``adata`` is not modified.
    """
    from imblearn.over_sampling import SMOTE

    def draw(cls_name, members, n):
        if len(members) <= k_neighbors:
            raise ValueError(
                f"class {cls_name!r} has {len(members)} samples; SMOTE with "
                f"k_neighbors={k_neighbors} needs at least {k_neighbors + 1}. Lower k_neighbors."
            )
        # SMOTE oversamples a minority class against others; the other class here is a stand-in
        # that receives no new samples, so each class is interpolated only within itself.
        stand_in = members[: k_neighbors + 1]
        Xc = np.vstack([members, stand_in])
        yc = np.r_[np.ones(len(members), dtype=int), np.zeros(len(stand_in), dtype=int)]
        sampler = SMOTE(
            sampling_strategy={1: len(members) + n},
            k_neighbors=k_neighbors,
            random_state=random_state,
        )
        return sampler.fit_resample(Xc, yc)[0][len(Xc) :]

    return _per_class(adata, labels_key, n_per_class, layer, draw, "smote")


def class_gaussian(
    adata: ad.AnnData,
    *,
    labels_key: str | None,
    n_per_class: int | dict = 100,
    marginals: str = "gaussian",
    layer: str | None = None,
    data_type: str | None = None,
    random_state: int = 0,
) -> ad.AnnData:
    """New samples from a Gaussian per class (class mean, Ledoit-Wolf shrunk correlation), or
    from a Gaussian copula with empirical marginals.

    The simplest model-based baselines. On the course data a class Gaussian is the true
    generating family. Every class is standardised before the shrinkage, so the Ledoit-Wolf
    estimate shrinks the correlations and keeps each feature's variance (shrinking raw covariances
    towards a multiple of the identity would give every feature the average variance). Methylation
    beta values (``data_type="beta"``, or declared by the reader in ``.uns["omixgan_data_type"]``;
    never inferred from the value range alone) are modelled in
    logit space, as :class:`~omixgan.models.OmicsGAN` does, so draws stay in (0, 1).

    Parameters
    ----------
    adata, labels_key, n_per_class, layer, random_state
        As in :func:`smote`.
    marginals
        ``"gaussian"``: each class is a multivariate normal. ``"empirical"``: a Gaussian copula
        (the idea of SDV's GaussianCopula): every feature is mapped to normal scores through its
        empirical distribution over all samples (pooled: classes of a few samples give no usable
        marginal of their own), each class is a Gaussian in that space, and draws are mapped back
        through the empirical quantiles (linear beyond the observed range). Real omics features
        are skewed and heavy-tailed; the copula keeps their shape, a Gaussian does not.
    data_type
        ``"beta"``, ``"gaussian"`` or None (inferred).

    Returns
    -------
    AnnData of only the new samples, as :func:`smote`.
    """

    if marginals not in ("gaussian", "empirical"):
        raise ValueError(f"marginals must be 'gaussian' or 'empirical', got {marginals!r}.")
    rng = np.random.default_rng(random_state)
    X, _ = _class_data(adata, labels_key, layer)
    if data_type not in ("beta", "gaussian", None):
        raise ValueError(f"data_type must be 'beta', 'gaussian' or None, got {data_type!r}.")
    # declared by the caller or the reader (adata.uns["omixgan_data_type"]), never the range alone
    logit = (
        Logit() if resolve_data_type(X, data_type or declared_data_type(adata)) == "beta" else None
    )
    copula = (
        EmpiricalMarginals().fit(X if logit is None else Logit().fit_transform(X))
        if marginals == "empirical"
        else None
    )

    def draw(cls_name, members, n):
        if len(members) < 2:
            raise ValueError(
                f"class {cls_name!r} has {len(members)} sample(s); a Gaussian needs at least 2."
            )
        W = members if copula is None else copula.transform(members)
        mean, sd = W.mean(axis=0), W.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        loadings, diag = shrinkage_factor((W - mean) / sd, rank=min(len(members), W.shape[1]))
        noise = rng.standard_normal((n, loadings.shape[1] + W.shape[1]))
        out = mean + sd * (
            noise[:, : loadings.shape[1]] @ loadings.T + noise[:, loadings.shape[1] :] * diag
        )
        return out if copula is None else copula.inverse(out)

    prefix = "gaussian" if copula is None else "copula"
    return _per_class(adata, labels_key, n_per_class, layer, draw, prefix, transform=logit)


def copy_training(
    adata: ad.AnnData,
    *,
    labels_key: str | None,
    n_per_class: int | dict = 100,
    layer: str | None = None,
    random_state: int = 0,
) -> ad.AnnData:
    """ "Synthetic" samples that are copies of training samples, drawn with replacement as a
    generator that memorised its training set would: the baseline that shows what memorisation
    scores (DCR ratio 0; the repeated copies also give the two-sample classifier something to
    find). Same parameters and output as :func:`smote`."""
    rng = np.random.default_rng(random_state)
    return _per_class(
        adata,
        labels_key,
        n_per_class,
        layer,
        lambda _, members, n: members[rng.choice(len(members), n, replace=True)],
        "copy",
    )
