"""Balance classes with synthetic samples (SMOTE or a GAN), keeping real and synthetic apart."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from .._utils import (
    MIN_SAMPLES_PER_CLASS,
    check_labels_key,
    check_modalities,
    check_unique_names,
    raise_feature_mismatch,
)
from ..model import OmicsGAN
from ._baselines import smote

METHODS = ("gan", "smote")


def oversample(
    data: ad.AnnData | md.MuData,
    *,
    labels_key: str,
    method: str = "gan",
    target_counts: dict | None = None,
    modality: str | None = None,
    model: OmicsGAN | None = None,
    random_state: int = 0,
    **train_kwargs,
) -> ad.AnnData:
    """Add synthetic samples until every class reaches its target size.

    Parameters
    ----------
    data
        One modality (AnnData), or a MuData with ``modality``.
    labels_key
        ``.obs`` column with the class.
    method
        ``"gan"`` (an :class:`~omixgan.models.OmicsGAN`, trained here with defaults unless ``model``
        is given; ``per_class=False`` when a class is too small for its own GAN) or ``"smote"``.
    target_counts
        ``{class: total size}``; None balances every class to the size of the largest.
    modality
        The modality to oversample when ``data`` is a MuData.
    model
        A trained OmicsGAN of the same features to sample from (``method="gan"``); its features
        are matched to ``data``'s by name (another order is fine, other features an error).
    random_state
        Seed of training and sampling.
    **train_kwargs
        Passed to :meth:`OmicsGAN.train` when a GAN is trained here.

    Returns
    -------
    A new AnnData: the real samples followed by the synthetic ones, ``obs["synthetic"]`` telling
    them apart. ``data`` is not modified.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    if model is not None and method != "gan":
        raise ValueError(
            f"model= is a GAN to sample from; it needs method='gan', got method={method!r}."
        )
    if model is not None and not isinstance(model, OmicsGAN):
        raise TypeError(f"model must be a trained OmicsGAN, got {type(model).__name__}.")
    check_unique_names(
        data, [modality] if isinstance(data, md.MuData) and modality in data.mod else None
    )
    if isinstance(data, md.MuData):
        if modality is None:
            raise ValueError(
                f"data is a MuData: name the modality to oversample, one of {list(data.mod)}."
            )
        check_modalities(data, [modality], "modality")
        check_labels_key(data, labels_key)
        adata = data.mod[modality].copy()
        adata.obs[labels_key] = data.obs.loc[adata.obs_names, labels_key].to_numpy()
    else:
        check_labels_key(data, labels_key)
        adata = data.copy()
    sizes = adata.obs[labels_key].astype(str).value_counts()
    if target_counts is None:
        target_counts = {c: int(sizes.max()) for c in sizes.index}
    target_counts = {str(k): int(v) for k, v in target_counts.items()}
    unknown = [c for c in target_counts if c not in sizes.index]
    if unknown:
        raise KeyError(
            f"unknown class(es) {unknown} in target_counts; classes: {list(sizes.index)}."
        )
    n_new = {c: max(0, target_counts[c] - int(sizes[c])) for c in target_counts}
    if method == "smote":
        new = smote(adata, labels_key=labels_key, n_per_class=n_new, random_state=random_state)
    else:
        needed = [c for c, n in n_new.items() if n > 0]
        if model is not None:
            _check_model_features(model, adata, modality)
        if model is None:
            per_class = bool(sizes.min() >= MIN_SAMPLES_PER_CLASS)
            # per-class GANs are independent: train only those of the classes that grow
            fit_on = (
                adata[adata.obs[labels_key].astype(str).isin(needed)].copy()
                if per_class
                else adata.copy()
            )
            OmicsGAN.setup_anndata(fit_on, labels_key=labels_key)
            model = OmicsGAN(fit_on, per_class=per_class)
            model.train(seed=random_state, **{"progress_bar": False, **train_kwargs})
        new = model.sample({c: n_new[c] for c in needed}, seed=random_state)
        new = new[:, adata.var_names].copy()  # the model's features, in data's order by name
        if model.labels_key not in (None, labels_key):
            new.obs[labels_key] = new.obs[model.labels_key]
        new.obs[labels_key] = new.obs[labels_key].astype(str)
    real = ad.AnnData(
        X=np.asarray(adata.X, dtype=np.float32),
        obs=pd.DataFrame(
            {labels_key: adata.obs[labels_key].astype(str).to_numpy(), "synthetic": False},
            index=adata.obs_names,
        ),
        var=adata.var[[]],
    )
    new.obs = new.obs[[labels_key, "synthetic"]]
    out = ad.concat([real, new], merge="same")
    out.obs[labels_key] = out.obs[labels_key].astype("category")
    out.obs["synthetic"] = out.obs["synthetic"].astype(bool)
    out.uns["oversample"] = {
        "params": {
            "method": method,
            "labels_key": labels_key,
            "random_state": random_state,
            "n_new": n_new,
        }
    }
    return out


def _check_model_features(model: OmicsGAN, adata: ad.AnnData, modality: str | None) -> None:
    """A given GAN must generate exactly ``adata``'s features (in any order)."""
    model._check_if_trained(
        warn=False, message="model is not trained yet: call model.train() first."
    )
    trained = np.asarray(model.var_names_, dtype=str)
    given = adata.var_names.to_numpy(dtype=str)
    if len(trained) != len(given) or set(trained) != set(given):
        raise_feature_mismatch(modality, trained, given)
