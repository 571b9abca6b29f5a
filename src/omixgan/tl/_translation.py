"""Scanpy-style translation, imputation, embedding and the translation report."""

from __future__ import annotations

import time
import warnings

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .. import metrics
from ..io._course import make_mudata
from ..model import CrossModalVAE, OmicsVAE
from ..model._base import check_labels_key, check_modalities


def _update_quietly(mdata: md.MuData) -> None:
    """``mdata.update()`` without mudata's notices about its future defaults and shared feature
    names, which concern columns omixgan never pulls."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="mudata")
        warnings.filterwarnings("ignore", message="Cannot join columns with the same name")
        mdata.update()


def _check_source_target(mdata: md.MuData, source: str, target: str) -> None:
    if not isinstance(mdata, md.MuData):
        raise TypeError(f"expected a MuData, got {type(mdata).__name__}.")
    check_modalities(mdata, [source], "source")
    check_modalities(mdata, [target], "target")
    if source == target:
        raise ValueError(f"source and target are both {source!r}.")
    for mod in (source, target):
        X = np.asarray(mdata[mod].X, dtype=np.float64)
        n_nan, n_inf = int(np.isnan(X).sum()), int(np.isinf(X).sum())
        if n_nan or n_inf:
            what = " and ".join(p for p in (f"{n_nan} missing values (NaN)" if n_nan else "",
                                             f"{n_inf} infinite values (inf)" if n_inf else "") if p)
            raise ValueError(
                f"modality {mod!r} has {what}; fill them with omixgan.pp.impute_mean (or drop those "
                "samples) before translating."
            )
    if not len(mdata[source].obs_names.intersection(mdata[target].obs_names)):
        raise ValueError(f"no sample has both {source!r} and {target!r}; a translator needs paired samples to learn from.")


def _check_key_added(mdata: md.MuData, key_added: str, source: str, target: str, overwrite: bool) -> None:
    if not isinstance(key_added, str) or not key_added:
        raise ValueError(f"key_added must be a non-empty string, got {key_added!r}.")
    if key_added in (source, target):
        raise ValueError(
            f"key_added={key_added!r} names the {'source' if key_added == source else 'target'} "
            "modality; predictions never replace measured data. Choose another name."
        )
    params = mdata.uns.get(key_added, {}).get("params", {}) if isinstance(mdata.uns.get(key_added), dict) else {}
    ours = "source" in params and "target" in params  # written by an earlier translate()
    if key_added in mdata.mod and not ours and not overwrite:
        raise ValueError(
            f"key_added={key_added!r} names an existing modality of this MuData, which translate() "
            "did not write; pass overwrite=True to replace it, or choose another name."
        )


def _by_target_names(model, prediction: np.ndarray, target_adata: ad.AnnData, target: str) -> np.ndarray:
    """The prediction's columns (the model's target features) in the order of the MuData's target
    features, matched by name: a different order must not put values under other names."""
    trained = np.asarray(model.var_names_[target], dtype=str)
    given = target_adata.var_names.to_numpy(dtype=str)
    if np.array_equal(trained, given):
        return prediction
    order = pd.Index(trained).get_indexer(given)
    if (order < 0).any() or len(given) != len(trained) or target_adata.var_names.has_duplicates:
        missing = [v for v in given if v not in set(trained)]
        raise ValueError(
            f"the target modality {target!r} has features the model was not trained on "
            f"({len(given)} given, {len(trained)} trained; e.g. {', '.join(missing[:3]) or 'duplicates'}). "
            f"Subset it to the model's features: mdata.mod[{target!r}] = mdata[{target!r}][:, model.var_names_[{target!r}]]."
        )
    return prediction[:, order]


def translate(
    mdata: md.MuData,
    source: str = "mrna",
    target: str = "meth",
    *,
    model: CrossModalVAE | None = None,
    key_added: str | None = None,
    overwrite: bool = False,
    copy: bool = False,
    seed: int = 0,
    **train_kwargs,
) -> md.MuData | None:
    """Translate ``source`` into ``target`` for every sample, and impute ``target`` where it is missing.

    Trains a default :class:`~omixgan.models.CrossModalVAE` on ``source`` and ``target`` when no
    model is given (on every sample: paired ones teach translation, unpaired ones the source's
    own structure), then predicts the target for every sample that has the source.

    Parameters
    ----------
    mdata
        MuData with both modalities; samples may lack the target.
    source, target
        Modality names.
    model
        A trained CrossModalVAE with both modalities; None trains one with defaults.
    key_added
        Name of the outputs; default ``f"{target}_from_{source}"``. It may not name ``source``
        or ``target``; naming another existing modality is an error unless ``overwrite=True``
        (re-running with the same ``key_added`` replaces this function's own earlier output).
    overwrite
        Allow ``key_added`` to replace an existing modality that this function did not write:
        measured data is never replaced by accident.
    copy
        Work on and return a copy instead of writing into ``mdata``.
    seed
        Seed of the default model's training.
    **train_kwargs
        Passed to :meth:`CrossModalVAE.train` when a model is trained here.

    Returns
    -------
    None, or the copy with ``copy=True``. Writes:

    - ``mdata.mod[key_added]``: a new modality with the predicted target (target features, original
      units) for every sample that has the source, and ``.obs["imputed"]``: True for samples that
      lack the target: these predictions are imputations.
    - ``mdata[target].layers[f"translated_from_{source}"]``: predictions for the samples that
      have the target, aligned with ``mdata[target]`` (compare with ``.X``).
    - ``mdata.uns[key_added]["params"]``: the parameters.
    """
    _check_source_target(mdata, source, target)
    key_added = key_added or f"{target}_from_{source}"
    _check_key_added(mdata, key_added, source, target, overwrite)
    mdata = mdata.copy() if copy else mdata
    started = time.perf_counter()
    if model is None:
        CrossModalVAE.setup_mudata(mdata, modalities=[source, target])
        model = CrossModalVAE(mdata)
        train_kwargs.setdefault("progress_bar", False)
        model.train(seed=seed, **train_kwargs)
        trained_here = True
    else:
        if not isinstance(model, CrossModalVAE):
            raise TypeError(f"model must be a CrossModalVAE, got {type(model).__name__}.")
        model._check_pair(source, target)
        trained_here = False
    prediction = _by_target_names(model, model.translate(mdata, source=source, target=target), mdata[target], target)
    obs_names = mdata[source].obs_names
    has_target = obs_names.isin(mdata[target].obs_names)
    result = ad.AnnData(
        X=prediction.astype(np.float32),
        obs=pd.DataFrame({"imputed": ~has_target}, index=obs_names.copy()),
        var=pd.DataFrame(index=mdata[target].var_names.copy()),
    )
    layer = np.full(mdata[target].shape, np.nan, dtype=np.float32)
    rows = obs_names.get_indexer(mdata[target].obs_names)
    layer[rows >= 0] = prediction[rows[rows >= 0]]
    mdata[target].layers[f"translated_from_{source}"] = layer
    mdata.mod[key_added] = result
    _update_quietly(mdata)
    mdata.uns[key_added] = {
        "params": {
            "source": source,
            "target": target,
            "model": "CrossModalVAE (trained here)" if trained_here else "CrossModalVAE (given)",
            "seed": seed,
            "n_translated": int(len(obs_names)),
            "n_imputed": int((~has_target).sum()),
            "seconds": round(time.perf_counter() - started, 2),
        }
    }
    return mdata if copy else None


def embed(mdata: md.MuData, model: CrossModalVAE, *, key_added: str = "X_omixgan", copy: bool = False) -> md.MuData | None:
    """Write the joint latent space of a trained CrossModalVAE into ``mdata.obsm[key_added]``.

    Every sample gets the average of the codes of the modalities it has; the per-modality codes
    go to ``mdata[mod].obsm[key_added]``. Params in ``mdata.uns[key_added]["params"]``.
    """
    if not isinstance(model, CrossModalVAE):
        raise TypeError(f"model must be a trained CrossModalVAE, got {type(model).__name__}.")
    mdata = mdata.copy() if copy else mdata
    mdata.obsm[key_added] = model.get_latent_representation(mdata)
    for mod in model.modalities:
        if mod in mdata.mod:
            mdata[mod].obsm[key_added] = model.get_latent_representation(mdata, modality=mod)
    mdata.uns[key_added] = {"params": {"modalities": list(model.modalities), "n_latent": int(model.module.n_latent)}}
    return mdata if copy else None


def _split(mdata: md.MuData, source: str, target: str, labels_key: str | None, test_size: float, random_state: int):
    paired = mdata[source].obs_names.intersection(mdata[target].obs_names)
    stratify = mdata.obs.loc[paired, labels_key].astype(str).to_numpy() if labels_key else None
    train, test = train_test_split(np.asarray(paired), test_size=test_size, stratify=stratify, random_state=random_state)
    return pd.Index(train), pd.Index(test)


def evaluate_translation(
    mdata: md.MuData,
    source: str = "mrna",
    target: str = "meth",
    *,
    labels_key: str | None = None,
    test_size: float = 0.25,
    random_state: int = 0,
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    naive: bool = True,
    mofa: bool = True,
) -> pd.DataFrame:
    """Train a CrossModalVAE on a split and score it against baselines on held-out samples.

    The samples that have both modalities are split (stratified by ``labels_key`` when given);
    the held-out samples' target is hidden from every method. The CrossModalVAE also sees the
    samples that have only one of the modalities (never the held-out ones' target).

    Parameters
    ----------
    mdata
        MuData with ``source`` and ``target``.
    source, target
        Modality names.
    labels_key
        ``mdata.obs`` column with classes: stratifies the split and enables the class-mean oracle.
    test_size
        Fraction of paired samples held out.
    random_state
        Seed of the split and of every model.
    model_kwargs, train_kwargs
        Passed to :class:`~omixgan.models.CrossModalVAE` and its ``train``.
    naive
        Also score the course's naive recipe: two separately trained OmicsVAEs, translated by
        the source's encoder and the target's decoder (no shared latent space).
    mofa
        Also score MOFA+ (``mofapy2``, an existing multi-omics factor model; the one
        ``muon.tl.mofa`` wraps) with 10 factors: fitted on the training samples and the held-out
        samples with their target missing, the target predicted from the factors; see
        :func:`omixgan.metrics.predict_mofa`. Its cost grows with the data: on one thread, about
        1 s on TCGA-BRCA (220 samples), 30 s on course 2000, 45-80 s on course 5000.

    Returns
    -------
    DataFrame, one row per method (``CrossModalVAE``; ``CrossModalVAE, VAE part only``: the same
    model with ``linear_blend=0``; ``feature mean``, ``class-mean oracle``, ``ridge``,
    ``kNN (PCA 50)``, ``MOFA+ (10 factors)``, ``naive two-VAE swap``), columns
    ``per_feature_pearson`` (the headline: does the prediction order samples right, per
    feature), ``per_sample_pearson``, ``rmse`` (target's original units) and ``seconds`` (fit +
    predict; for the "VAE part only" row, prediction only: it reuses the trained model).
    ``table.attrs["per_feature"]`` holds a DataFrame of the per-feature Pearson r of every method
    (features x methods), and ``table.attrs["split"]`` the held-out sample names.
    """
    _check_source_target(mdata, source, target)
    check_labels_key(mdata, labels_key)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}.")
    train_names, test_names = _split(mdata, source, target, labels_key, test_size, random_state)
    X_train = np.asarray(mdata[source][train_names].X, dtype=np.float64)
    Y_train = np.asarray(mdata[target][train_names].X, dtype=np.float64)
    X_test = np.asarray(mdata[source][test_names].X, dtype=np.float64)
    Y_test = np.asarray(mdata[target][test_names].X, dtype=np.float64)
    predictions, seconds = {}, {}

    def timed(name, fn):
        start = time.perf_counter()
        predictions[name] = np.asarray(fn())
        seconds[name] = time.perf_counter() - start

    # The model sees every sample except the held-out targets; held-out sources are not used in
    # training either, so the model is judged exactly like the baselines.
    keep = {
        source: mdata[source][mdata[source].obs_names.difference(test_names)].copy(),
        target: mdata[target][mdata[target].obs_names.difference(test_names)].copy(),
    }
    train_mdata = make_mudata(keep)
    test_mdata = make_mudata({source: mdata[source][test_names].copy()})

    trained = {}

    def deep():
        CrossModalVAE.setup_mudata(train_mdata, modalities=[source, target])
        trained["model"] = CrossModalVAE(train_mdata, **(model_kwargs or {}))
        trained["model"].train(seed=random_state, **{"progress_bar": False, **(train_kwargs or {})})
        return trained["model"].translate(test_mdata, source=source, target=target)

    timed("CrossModalVAE", deep)
    if trained["model"].linear_blend > 0:
        # the same trained members without the ridge path: what the deep part does on its own
        timed("CrossModalVAE, VAE part only", lambda: trained["model"].translate(test_mdata, source=source, target=target, linear_blend=0.0))
    timed("feature mean", lambda: metrics.predict_feature_mean(Y_train, len(test_names)))
    if labels_key is not None:
        labels = mdata.obs[labels_key].astype(str)
        timed("class-mean oracle", lambda: metrics.predict_class_mean(Y_train, labels.loc[train_names].to_numpy(), labels.loc[test_names].to_numpy()))
    timed("ridge", lambda: metrics.predict_ridge(X_train, Y_train, X_test))
    timed("kNN (PCA 50)", lambda: metrics.predict_knn(X_train, Y_train, X_test))
    if mofa:
        # the held-out samples' source takes part in the factor fit (their target is missing):
        # that is how MOFA+ imputes a view
        timed("MOFA+ (10 factors)", lambda: metrics.predict_mofa(X_train, Y_train, X_test, n_factors=10, seed=random_state))
    if naive:

        def swap():
            vaes = {}
            for mod in (source, target):
                adata = keep[mod]
                OmicsVAE.setup_anndata(adata)
                vaes[mod] = OmicsVAE(adata)
                single = {k: v for k, v in (train_kwargs or {}).items() if k not in ("align_weight", "cross_weight")}
                vaes[mod].train(seed=random_state, **{"progress_bar": False, **single})
            return vaes[target].decode(vaes[source].get_latent_representation(mdata[source][test_names].copy()))

        timed("naive two-VAE swap", swap)

    rows = {name: {**metrics.translation_scores(Y_test, pred), "seconds": seconds[name]} for name, pred in predictions.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "method"
    table.attrs["per_feature"] = pd.DataFrame(
        {name: metrics.per_feature_pearson(Y_test, pred) for name, pred in predictions.items()}, index=mdata[target].var_names
    )
    table.attrs["split"] = {"train": list(train_names), "test": list(test_names)}
    table.attrs["params"] = {"source": source, "target": target, "labels_key": labels_key, "test_size": test_size, "random_state": random_state}
    return table
