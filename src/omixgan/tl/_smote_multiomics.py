"""SMOTE over several modalities at once: the interpolation baseline of multi-omics generation."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np

from .._utils import get_matrix, make_mudata
from ._baselines import smote


def smote_multiomics(
    mdata: md.MuData,
    *,
    labels_key: str | None,
    n_per_class: int | dict = 100,
    modalities: list[str] | None = None,
    k_neighbors: int = 5,
    random_state: int = 0,
) -> md.MuData:
    """SMOTE on the modalities side by side: new samples with every modality.

    Each modality is standardised with ``mdata``'s mean and standard deviation, so that every
    feature counts equally in SMOTE's neighbour search whatever its modality and units; the
    modalities are put side by side and every new sample interpolates *all* its modalities
    between the same two real samples of its class; the result is split back per modality and
    returned in the original units. The baseline that
    :class:`~omixgan.models.MultiOmicsGAN` is compared with in
    :func:`~omixgan.tl.evaluate_multiomics_generation` (rows ``SMOTE (modalities side by side)``).

    Parameters
    ----------
    mdata
        Real samples; only those that have every modality in ``modalities`` are used.
    labels_key
        ``mdata.obs`` column with the class; None treats all samples as one class.
    n_per_class
        New samples per class (an int for every class, or ``{class: n}``).
    modalities
        Modalities to generate; default every modality of ``mdata``.
    k_neighbors
        Neighbours SMOTE interpolates towards (as in :func:`~omixgan.tl.smote`).
    random_state
        Seed.

    Returns
    -------
    MuData
        Only the new samples (``obs_names`` ``smote_0``, ``smote_1``, ...), every modality with
        the features of ``mdata``, in its units; ``obs[labels_key]`` and
        ``obs["synthetic"] = True`` on the MuData and on every modality. ``mdata`` is not
        modified.
    """
    modalities = list(mdata.mod) if modalities is None else list(modalities)
    missing = [m for m in modalities if m not in mdata.mod]
    if missing:
        raise KeyError(f"modalities {missing} are not in this MuData; it has {list(mdata.mod)}.")
    if labels_key is not None and labels_key not in mdata.obs:
        raise KeyError(
            f"labels_key={labels_key!r} is not a column of mdata.obs; run mdata.pull_obs() if it "
            "lives on a modality."
        )
    complete = mdata.obs_names
    for m in modalities:
        complete = complete[complete.isin(mdata[m].obs_names)]
    if len(complete) == 0:
        raise ValueError(f"no sample has every modality of {modalities}.")
    # aligned by sample name, never by position
    blocks = [
        get_matrix(mdata[m], dtype=np.float64, allow_nan=False, name=f"modality {m!r}")[
            mdata[m].obs_names.get_indexer(complete)
        ]
        for m in modalities
    ]
    stats = []
    for X in blocks:
        sd = X.std(axis=0)
        stats.append((X.mean(axis=0), np.where(sd > 0, sd, 1.0)))
    joint = ad.AnnData(
        np.hstack([(X - mu) / sd for X, (mu, sd) in zip(blocks, stats)]).astype(np.float32)
    )
    joint.obs_names = complete
    if labels_key is not None:
        joint.obs[labels_key] = mdata.obs.loc[complete, labels_key].astype(str).to_numpy()
    new = smote(
        joint,
        labels_key=labels_key,
        n_per_class=n_per_class,
        k_neighbors=k_neighbors,
        random_state=random_state,
    )
    new.obs_names = [f"smote_{i}" for i in range(new.n_obs)]
    mods, start = {}, 0
    for m, (mu, sd) in zip(modalities, stats):
        width = len(mu)
        X = (np.asarray(new.X[:, start : start + width], dtype=np.float64) * sd + mu).astype(
            np.float32
        )
        mods[m] = ad.AnnData(X, obs=new.obs.copy(), var=mdata[m].var[[]].copy())
        start += width
    out = make_mudata(mods)
    out.obs = new.obs.copy()
    return out
