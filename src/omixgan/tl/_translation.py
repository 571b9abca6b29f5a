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
from .._utils import check_labels_key, check_modalities, check_modality_list, make_mudata
from ..model import CrossModalVAE, OmicsVAE


def _update_quietly(mdata: md.MuData) -> None:
    """``mdata.update()`` without mudata's notices about its future defaults and shared feature
    names, which concern columns omixgan never pulls."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="mudata")
        warnings.filterwarnings("ignore", message="Cannot join columns with the same name")
        mdata.update()


def _as_list(source) -> list[str]:
    return [source] if isinstance(source, str) else list(source)


def _check_source_target(mdata: md.MuData, source, target: str) -> list[str]:
    """``source`` as a list, after checking that every modality exists, is complete and that
    some samples have all sources and the target."""
    if not isinstance(mdata, md.MuData):
        raise TypeError(f"expected a MuData, got {type(mdata).__name__}.")
    sources = _as_list(source)
    if not sources:
        raise ValueError("source is empty: name one modality or a list of modalities.")
    check_modalities(mdata, sources, "source")
    check_modalities(mdata, [target], "target")
    if target in sources:
        raise ValueError(f"source and target both contain {target!r}.")
    if len(set(sources)) != len(sources):
        raise ValueError(f"source names a modality twice: {sources}.")
    for mod in (*sources, target):
        X = np.asarray(mdata[mod].X, dtype=np.float64)
        n_nan, n_inf = int(np.isnan(X).sum()), int(np.isinf(X).sum())
        if n_nan or n_inf:
            what = " and ".join(
                p
                for p in (
                    f"{n_nan} missing values (NaN)" if n_nan else "",
                    f"{n_inf} infinite values (inf)" if n_inf else "",
                )
                if p
            )
            raise ValueError(
                f"modality {mod!r} has {what}; fill them with omixgan.pp.impute_mean (or drop "
                "those "
                "samples) before translating."
            )
    paired = _having(mdata, (*sources, target))
    if not len(paired):
        raise ValueError(
            f"no sample has all of {sources + [target]}; a translator needs paired samples to "
            "learn from."
        )
    return sources


def _having(mdata: md.MuData, modalities, obs: pd.Index | None = None) -> pd.Index:
    """The samples of ``obs`` (default: the first modality's, in its order) that have every one
    of ``modalities``."""
    obs = mdata[modalities[0]].obs_names if obs is None else obs
    for m in modalities:
        obs = obs[obs.isin(mdata[m].obs_names)]
    return obs


def _random_state(random_state: int, train_kwargs: dict, function: str) -> int:
    """``random_state``, or the deprecated ``seed=`` keyword (removed from ``train_kwargs``)."""
    if "seed" not in train_kwargs:
        return random_state
    warnings.warn(
        f"tl.{function}(seed=...) is deprecated; use random_state=..., as the other tl functions.",
        FutureWarning,
        stacklevel=3,
    )
    return train_kwargs.pop("seed")


def _check_key_added(
    mdata: md.MuData, key_added: str, sources: list[str], target: str, overwrite: bool
) -> None:
    if not isinstance(key_added, str) or not key_added:
        raise ValueError(f"key_added must be a non-empty string, got {key_added!r}.")
    if key_added in (*sources, target):
        raise ValueError(
            f"key_added={key_added!r} names the {'source' if key_added in sources else 'target'} "
            "modality; predictions never replace measured data. Choose another name."
        )
    params = (
        mdata.uns.get(key_added, {}).get("params", {})
        if isinstance(mdata.uns.get(key_added), dict)
        else {}
    )
    ours = "source" in params and "target" in params  # written by an earlier translate()
    if key_added in mdata.mod and not ours and not overwrite:
        raise ValueError(
            f"key_added={key_added!r} names an existing modality of this MuData, which translate() "
            "did not write; pass overwrite=True to replace it, or choose another name."
        )


def _check_layer(
    mdata: md.MuData, layer: str, key_added: str, target: str, overwrite: bool
) -> None:
    """Refuse to replace a layer of the target that an earlier translate() did not write."""
    existing = set(mdata[target].layers) & {layer, f"{layer}_lower", f"{layer}_upper"}
    if not existing or overwrite or layer.startswith("translated_from_"):
        return
    entries = [v.get("params", {}) for v in mdata.uns.values() if isinstance(v, dict)]
    if any(p.get("target") == target and p.get("layer") == layer for p in entries):
        return
    raise ValueError(
        f"mdata[{target!r}].layers already has {sorted(existing)}, which translate() did not "
        f"write; key_added={key_added!r} names the layer too. Pass overwrite=True to replace it, "
        "or choose another key_added."
    )


def _by_target_names(
    model, prediction: np.ndarray, target_adata: ad.AnnData, target: str
) -> np.ndarray:
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
            f"({len(given)} given, {len(trained)} trained; e.g. "
            f"{', '.join(missing[:3]) or 'duplicates'}). "
            f"Subset it to the model's features: mdata.mod[{target!r}] = mdata[{target!r}][:, "
            f"model.var_names_[{target!r}]]."
        )
    return prediction[:, order]


def translate(
    mdata: md.MuData,
    source: str | list[str] = "mrna",
    target: str = "meth",
    *,
    model: CrossModalVAE | None = None,
    key_added: str | None = None,
    overwrite: bool = False,
    interval: float | None = None,
    copy: bool = False,
    random_state: int = 0,
    **train_kwargs,
) -> md.MuData | None:
    """Translate ``source`` into ``target`` for every sample; impute ``target`` where it is missing.

    Trains a default :class:`~omixgan.models.CrossModalVAE` on the sources and the target when
    no model is given (on every sample: paired ones teach translation, unpaired ones each
    modality's own structure), then predicts the target for every sample that has every source.

    Parameters
    ----------
    mdata
        MuData with the modalities; samples may lack the target.
    source
        A modality or a list of modalities (combined: product of the posteriors, ridge on the
        concatenated sources).
    target
        Modality name.
    model
        A trained CrossModalVAE with these modalities; None trains one with defaults.
    key_added
        Name of the outputs: the new modality, its ``.uns`` entry and the target's layer (see
        below); default: modality ``f"{target}_from_{source}"`` and layer
        ``f"translated_from_{source}"`` (several sources joined by ``+``). It may not name a
        source or the target; naming another existing modality is an error unless
        ``overwrite=True`` (re-running with the same ``key_added`` replaces this function's own
        earlier output).
    overwrite
        Allow ``key_added`` to replace an existing modality (or target layer) that this function
        did not write: measured data is never replaced by accident.
    interval
        A level in (0, 1), e.g. 0.9: also write calibrated prediction intervals (see
        :meth:`~omixgan.models.CrossModalVAE.predict_interval`). None: none.
    copy
        Work on and return a copy instead of writing into ``mdata``.
    random_state
        Seed of the default model's training (the name the other ``tl`` functions use; the
        former ``seed=`` still works, with a FutureWarning).
    **train_kwargs
        Passed to :meth:`CrossModalVAE.train` when a model is trained here.

    Returns
    -------
    None, or the copy with ``copy=True``. Writes:

    - ``mdata.mod[key_added]``: a new modality with the predicted target (target features, original
      units) for every sample that has every source, and ``.obs["imputed"]``: True for samples that
      lack the target: these predictions are imputations. With ``interval``: layers ``"lower"``
      and ``"upper"``.
    - ``mdata[target].layers[layer]``: predictions for the samples that have the target and
      every source (NaN for the others), aligned with ``mdata[target]`` (compare with ``.X``);
      with ``interval`` also ``f"{layer}_lower"`` and ``f"{layer}_upper"``. ``layer`` is
      ``key_added`` when given, else ``f"translated_from_{source}"`` (several sources joined by
      ``+``); an existing layer of that name that translate() did not write is an error unless
      ``overwrite=True``.
    - ``mdata.uns[key_added]["params"]``: the parameters (``"layer"``: the layer's name).
    """
    random_state = _random_state(random_state, train_kwargs, "translate")
    sources = _check_source_target(mdata, source, target)
    if interval is not None and not (isinstance(interval, (int, float)) and 0 < interval < 1):
        raise ValueError(f"interval must be a level in (0, 1) or None, got {interval!r}.")
    name = "+".join(sources)
    layer_name = key_added or f"translated_from_{name}"
    key_added = key_added or f"{target}_from_{name}"
    _check_key_added(mdata, key_added, sources, target, overwrite)
    _check_layer(mdata, layer_name, key_added, target, overwrite)
    mdata = mdata.copy() if copy else mdata
    started = time.perf_counter()
    if model is None:
        CrossModalVAE.setup_mudata(mdata, modalities=[*sources, target])
        model = CrossModalVAE(mdata)
        train_kwargs.setdefault("progress_bar", False)
        model.train(seed=random_state, **train_kwargs)
        trained_here = True
    else:
        if not isinstance(model, CrossModalVAE):
            raise TypeError(f"model must be a CrossModalVAE, got {type(model).__name__}.")
        model._check_pair(sources, target)
        trained_here = False
    model_source = sources[0] if len(sources) == 1 else sources
    outputs = {"X": model.translate(mdata, source=model_source, target=target)}
    if interval is not None:
        outputs["lower"], outputs["upper"] = model.predict_interval(
            mdata, source=model_source, target=target, level=interval
        )
    outputs = {
        kind: _by_target_names(model, values, mdata[target], target)
        for kind, values in outputs.items()
    }
    obs_names = _having(mdata, sources)
    has_target = obs_names.isin(mdata[target].obs_names)
    result = ad.AnnData(
        X=outputs["X"].astype(np.float32),
        obs=pd.DataFrame({"imputed": ~has_target}, index=obs_names.copy()),
        var=pd.DataFrame(index=mdata[target].var_names.copy()),
    )
    rows = obs_names.get_indexer(mdata[target].obs_names)
    for kind, values in outputs.items():
        if kind != "X":
            result.layers[kind] = values.astype(np.float32)
        layer = np.full(mdata[target].shape, np.nan, dtype=np.float32)
        layer[rows >= 0] = values[rows[rows >= 0]]
        mdata[target].layers[layer_name + ("" if kind == "X" else f"_{kind}")] = layer
    mdata.mod[key_added] = result
    _update_quietly(mdata)
    mdata.uns[key_added] = {
        "params": {
            "source": sources if len(sources) > 1 else sources[0],
            "target": target,
            "model": "CrossModalVAE (trained here)" if trained_here else "CrossModalVAE (given)",
            "interval": interval,
            "random_state": random_state,
            "layer": layer_name,
            "n_translated": int(len(obs_names)),
            "n_imputed": int((~has_target).sum()),
            "seconds": round(time.perf_counter() - started, 2),
        }
    }
    return mdata if copy else None


def impute(
    mdata: md.MuData,
    model: CrossModalVAE | None = None,
    *,
    modalities: list[str] | None = None,
    interval: float | None = 0.9,
    key_added: str = "imputed",
    copy: bool = False,
    random_state: int = 0,
    **train_kwargs,
) -> md.MuData | None:
    """Impute every missing modality of every sample from all the modalities it has.

    For each modality of the model, every sample of ``mdata`` that lacks it (and has at least
    one other modality of the model) gets a prediction from the product of experts of all the
    modalities it has, blended with the ridge map of that source set
    (:meth:`~omixgan.models.CrossModalVAE.translate` with ``source=None``). Measured values
    are never touched: imputations go to new modalities.

    Parameters
    ----------
    mdata
        MuData whose samples may lack some modalities.
    model
        A trained :class:`~omixgan.models.CrossModalVAE`; None trains a default one on
        ``modalities`` of ``mdata`` (every sample teaches what it has).
    modalities
        Modalities to model when ``model`` is None; default every modality of ``mdata``.
    interval
        Level of the calibrated prediction intervals written next to the imputations (see
        :meth:`~omixgan.models.CrossModalVAE.predict_interval`): an imputed value should come with
        how far it can be trusted. None: no intervals (a model trained with
        ``calibration_fraction=0`` has none).
    key_added
        Name stem of the outputs (below).
    copy
        Work on and return a copy instead of writing into ``mdata``.
    random_state
        Seed of the default model's training (the name the other ``tl`` functions use; the
        former ``seed=`` still works, with a FutureWarning).
    **train_kwargs
        Passed to :meth:`CrossModalVAE.train` when a model is trained here.

    Returns
    -------
    None, or the copy with ``copy=True``. Writes, for every modality ``t`` that some sample lacks:

    - ``mdata.mod[f"{t}_{key_added}"]``: a new modality, one row per sample lacking ``t``, the
      features of ``t``, predictions in ``t``'s original units; ``.obs["imputed_from"]``: the
      modalities each prediction used, joined by ``+``; layers ``"lower"`` / ``"upper"`` with
      ``interval``.
    - ``mdata.obs[f"{key_added}_{t}"]``: True for the samples whose ``t`` was imputed.
    - ``mdata.obs[key_added]``: per sample, the imputed modalities joined by ``,`` (empty: none).
    - ``mdata.uns[key_added]``: ``"params"`` (parameters) and ``"n_imputed"`` per modality.

    A modality that every sample has gets no output. An existing output modality is an error
    (rename with ``key_added``): nothing is overwritten.
    """
    if not isinstance(mdata, md.MuData):
        raise TypeError(f"expected a MuData, got {type(mdata).__name__}.")
    if interval is not None and not (isinstance(interval, (int, float)) and 0 < interval < 1):
        raise ValueError(f"interval must be a level in (0, 1) or None, got {interval!r}.")
    random_state = _random_state(random_state, train_kwargs, "impute")
    started = time.perf_counter()
    mdata = mdata.copy() if copy else mdata
    if model is None:
        modalities = check_modality_list(
            mdata, list(mdata.mod) if modalities is None else modalities
        )
        CrossModalVAE.setup_mudata(mdata, modalities=modalities)
        model = CrossModalVAE(mdata)
        train_kwargs.setdefault("progress_bar", False)
        model.train(seed=random_state, **train_kwargs)
        trained_here = True
    else:
        if not isinstance(model, CrossModalVAE):
            raise TypeError(f"model must be a CrossModalVAE, got {type(model).__name__}.")
        if modalities is not None:
            raise ValueError(
                "modalities applies to a model trained here; a given model imputes its own "
                "modalities."
            )
        trained_here = False
    targets = []
    for t in model.modalities:
        others = [m for m in model.modalities if m != t and m in mdata.mod]
        if not others:
            continue
        has_other = np.column_stack([mdata.obs_names.isin(mdata[m].obs_names) for m in others]).any(
            axis=1
        )
        lacking = (
            ~mdata.obs_names.isin(mdata[t].obs_names)
            if t in mdata.mod
            else np.ones(mdata.n_obs, dtype=bool)
        )
        if (lacking & has_other).any():
            targets.append(t)
            if f"{t}_{key_added}" in mdata.mod:
                raise ValueError(
                    f"mdata already has a modality {t}_{key_added!r}; pass another key_added to "
                    "keep it."
                )
    out = mdata
    n_imputed, written = {}, {}
    for t in targets:
        others = [m for m in model.modalities if m != t and m in mdata.mod]
        has = np.column_stack([mdata.obs_names.isin(mdata[m].obs_names) for m in others])
        covered = has.any(axis=1)
        obs = mdata.obs_names[covered]
        lacking = ~obs.isin(mdata[t].obs_names) if t in mdata.mod else np.ones(len(obs), dtype=bool)
        # translate(source=None) covers exactly the samples with another modality, in this order
        pred = model.translate(mdata, source=None, target=t)[lacking]
        result = ad.AnnData(
            X=pred.astype(np.float32),
            obs=pd.DataFrame(
                {
                    "imputed_from": [
                        "+".join(m for m, p in zip(others, row) if p)
                        for row in has[covered][lacking]
                    ]
                },
                index=obs[lacking].copy(),
            ),
            var=pd.DataFrame(index=pd.Index(model.var_names_[t]).copy()),
        )
        if interval is not None:
            lower, upper = model.predict_interval(mdata, source=None, target=t, level=interval)
            result.layers["lower"], result.layers["upper"] = (
                lower[lacking].astype(np.float32),
                upper[lacking].astype(np.float32),
            )
        written[t] = result
        n_imputed[t] = int(lacking.sum())
    for t, result in written.items():
        out.mod[f"{t}_{key_added}"] = result
    _update_quietly(out)
    summary = pd.Series("", index=out.obs_names, dtype=object)
    for t, result in written.items():
        flag = out.obs_names.isin(result.obs_names)
        out.obs[f"{key_added}_{t}"] = flag
        summary[flag] = [f"{s},{t}" if s else t for s in summary[flag]]
    out.obs[key_added] = summary.to_numpy()
    out.uns[key_added] = {
        "params": {
            "modalities": list(model.modalities),
            "model": "CrossModalVAE (trained here)" if trained_here else "CrossModalVAE (given)",
            "interval": interval,
            "random_state": random_state,
            "seconds": round(time.perf_counter() - started, 2),
        },
        "n_imputed": n_imputed,
    }
    return mdata if copy else None


def embed(
    mdata: md.MuData, model: CrossModalVAE, *, key_added: str = "X_omixgan", copy: bool = False
) -> md.MuData | None:
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
    mdata.uns[key_added] = {
        "params": {"modalities": list(model.modalities), "n_latent": int(model.module.n_latent)}
    }
    return mdata if copy else None


def _split(
    mdata: md.MuData,
    modalities: list[str],
    labels_key: str | None,
    test_size: float,
    random_state: int,
):
    paired = _having(mdata, modalities)
    stratify = mdata.obs.loc[paired, labels_key].astype(str).to_numpy() if labels_key else None
    train, test = train_test_split(
        np.asarray(paired), test_size=test_size, stratify=stratify, random_state=random_state
    )
    return pd.Index(train), pd.Index(test)


def evaluate_translation(
    mdata: md.MuData,
    source: str | list[str] = "mrna",
    target: str | list[str] = "meth",
    *,
    modalities: list[str] | None = None,
    also_from: list[list[str]] | None = None,
    labels_key: str | None = None,
    test_size: float = 0.25,
    random_state: int = 0,
    seed: int | None = None,
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    interval: float | None = 0.9,
    naive: bool = True,
    mofa: bool = True,
) -> pd.DataFrame:
    """Train a CrossModalVAE on a split and score it against baselines on held-out samples.

    The samples that have every source and target are split (stratified by ``labels_key`` when
    given); the held-out samples are hidden from every method except for their sources (their
    targets and any other modality they have are never seen). The CrossModalVAE also trains on
    the samples that have only some of the modalities.

    Parameters
    ----------
    mdata
        MuData with the modalities.
    source
        A modality or a list of modalities (multi-source translation: the CrossModalVAE combines
        them as a product of experts, the baselines use the concatenated standardised sources).
    target
        A modality, or a list of modalities scored from one trained model (the split then
        needs every target; the table gets a ``target`` index level).
    modalities
        The modalities the CrossModalVAE trains on and MOFA+ factorises (e.g. all four of
        TCGA-BRCA 2012 to predict one from another); default the sources and targets.
    also_from
        Other source sets to score with the same trained model (and with ridge on the same
        sets), e.g. ``[["mrna", "mirna"]]`` next to ``source="mrna"``: rows
        ``CrossModalVAE, from mrna+mirna`` and ``ridge, from mrna+mirna`` for every target
        outside the set. Their modalities join ``modalities`` and the split needs them.
    labels_key
        ``mdata.obs`` column with classes: stratifies the split and enables the class-mean oracle.
    test_size
        Fraction of the samples held out.
    random_state
        Seed of the split.
    seed
        Seed of every model; None: ``random_state``. Several seeds on one split show how much
        of a difference is the models' own randomness.
    model_kwargs, train_kwargs
        Passed to :class:`~omixgan.models.CrossModalVAE` and its ``train``.
    interval
        Level of prediction intervals to score (coverage and mean width on the held-out
        samples, target's units) for the CrossModalVAE
        (:meth:`~omixgan.models.CrossModalVAE.predict_interval`) and for ridge calibrated the same
        way on the same calibration samples (:func:`omixgan.metrics.predict_interval_ridge`);
        None: no intervals.
    naive
        Also score the course's naive recipe (one source only): two separately trained
        OmicsVAEs, translated by the source's encoder and the target's decoder.
    mofa
        Also score MOFA+ (``mofapy2``, an existing multi-omics factor model; the one
        ``muon.tl.mofa`` wraps) with 10 factors on all ``modalities``: fitted on the training
        samples and the held-out samples with everything but their sources missing, the target
        predicted from the factors; see :func:`omixgan.metrics.predict_mofa`. Its cost grows with
        the data: on one thread, about 1 s on TCGA-BRCA (220 samples), 30 s on course 2000,
        45-80 s on course 5000.

    Returns
    -------
    DataFrame, one row per method (``CrossModalVAE``; ``CrossModalVAE, VAE part only``: the same
    model with ``linear_blend=0``; for several sources ``CrossModalVAE, from <s> only`` and
    ``ridge, from <s> only`` per source; ``feature mean``, ``class-mean oracle``, ``ridge``,
    ``kNN (PCA 50)``, ``MOFA+ (10 factors)``, ``naive two-VAE swap``), columns
    ``per_feature_pearson`` (the headline: does the prediction order samples right, per
    feature), ``per_sample_pearson``, ``rmse`` (target's original units), with ``interval``
    ``coverage`` and ``width`` (NaN for methods without intervals), and ``seconds`` (fit +
    predict; the CrossModalVAE's training counts for every target; for rows that reuse the
    trained model, prediction only). With a list of targets the index is ``(target, method)``.
    ``table.attrs["per_feature"]`` holds the per-feature Pearson r of every method (features x
    methods; a dict per target for a list), ``table.attrs["split"]`` the held-out sample names.
    """
    sources = _as_list(source)
    targets = _as_list(target)
    for t in targets:
        _check_source_target(mdata, sources, t)
    if len(set(targets)) != len(targets):
        raise ValueError(f"target names a modality twice: {targets}.")
    also_from = [_as_list(a) for a in (also_from or [])]
    extra_sources = [m for a in also_from for m in a]
    modalities = list(dict.fromkeys([*sources, *targets, *extra_sources, *(modalities or [])]))
    check_modalities(mdata, modalities, "modalities")
    check_labels_key(mdata, labels_key)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}.")
    train_names, test_names = _split(
        mdata,
        list(dict.fromkeys([*sources, *targets, *extra_sources])),
        labels_key,
        test_size,
        random_state,
    )
    seed = random_state if seed is None else seed
    # The model sees every sample except the held-out ones; held-out sources are not used in
    # training either, so the model is judged exactly like the baselines.
    train_mdata = make_mudata(
        {m: mdata[m][mdata[m].obs_names.difference(test_names)].copy() for m in modalities}
    )
    test_mdata = make_mudata(
        {m: mdata[m][test_names].copy() for m in dict.fromkeys([*sources, *extra_sources])}
    )
    model_source = sources[0] if len(sources) == 1 else sources

    def matrix(mod, names):
        return np.asarray(mdata[mod][names].X, dtype=np.float64)

    X_train = np.hstack([matrix(m, train_names) for m in sources])
    X_test = np.hstack([matrix(m, test_names) for m in sources])

    started = time.perf_counter()
    CrossModalVAE.setup_mudata(train_mdata, modalities=modalities)
    model = CrossModalVAE(train_mdata, **(model_kwargs or {}))
    model.train(seed=seed, **{"progress_bar": False, **(train_kwargs or {})})
    train_seconds = time.perf_counter() - started
    calibration = np.flatnonzero(train_names.isin(model.calibration_obs_names_))

    tables, per_feature = {}, {}
    for t in targets:
        Y_train, Y_test = matrix(t, train_names), matrix(t, test_names)
        predictions, seconds, intervals = {}, {}, {}

        def timed(name, fn, extra=0.0):
            start = time.perf_counter()
            predictions[name] = np.asarray(fn())
            seconds[name] = time.perf_counter() - start + extra

        timed(
            "CrossModalVAE",
            lambda: model.translate(test_mdata, source=model_source, target=t),
            extra=train_seconds,
        )
        if interval is not None and model.calibration_:
            intervals["CrossModalVAE"] = model.predict_interval(
                test_mdata, source=model_source, target=t, level=interval
            )
        timed(
            "CrossModalVAE, VAE part only",
            lambda: model.translate(test_mdata, source=model_source, target=t, linear_blend=0.0),
        )
        if len(sources) > 1:
            for s in sources:
                timed(
                    f"CrossModalVAE, from {s} only",
                    lambda: model.translate(test_mdata, source=s, target=t),
                )
        timed("feature mean", lambda: metrics.predict_feature_mean(Y_train, len(test_names)))
        if labels_key is not None:
            labels = mdata.obs[labels_key].astype(str)
            timed(
                "class-mean oracle",
                lambda: metrics.predict_class_mean(
                    Y_train, labels.loc[train_names].to_numpy(), labels.loc[test_names].to_numpy()
                ),
            )
        timed("ridge", lambda: metrics.predict_ridge(X_train, Y_train, X_test))
        if interval is not None and len(calibration) >= 2:
            bounds = (0.0, 1.0) if model.data_types_[t] == "beta" else None
            _, *intervals["ridge"] = metrics.predict_interval_ridge(
                X_train, Y_train, X_test, calibration, level=interval, bounds=bounds
            )
        if len(sources) > 1:
            for s in sources:
                timed(
                    f"ridge, from {s} only",
                    lambda: metrics.predict_ridge(
                        matrix(s, train_names), Y_train, matrix(s, test_names)
                    ),
                )
        for other in also_from:
            if t in other:
                continue
            label = "+".join(other)
            timed(
                f"CrossModalVAE, from {label}",
                lambda: model.translate(test_mdata, source=other, target=t),
            )
            if interval is not None and model.calibration_:
                intervals[f"CrossModalVAE, from {label}"] = model.predict_interval(
                    test_mdata, source=other, target=t, level=interval
                )
            timed(
                f"ridge, from {label}",
                lambda: metrics.predict_ridge(
                    np.hstack([matrix(m, train_names) for m in other]),
                    Y_train,
                    np.hstack([matrix(m, test_names) for m in other]),
                ),
            )
        timed("kNN (PCA 50)", lambda: metrics.predict_knn(X_train, Y_train, X_test))
        if mofa:
            # the held-out samples' sources take part in the factor fit (their target and other
            # modalities are missing): that is how MOFA+ imputes a view
            extra = []
            for m in modalities:
                if m in sources or m == t:
                    continue
                block = np.full((len(train_names), mdata[m].n_vars), np.nan)
                rows = train_names.get_indexer(mdata[m].obs_names)
                block[rows[rows >= 0]] = np.asarray(mdata[m].X, dtype=np.float64)[rows >= 0]
                extra.append(block)
            timed(
                "MOFA+ (10 factors)",
                lambda: metrics.predict_mofa(
                    [matrix(m, train_names) for m in sources],
                    Y_train,
                    [matrix(m, test_names) for m in sources],
                    extra_train=extra,
                    n_factors=10,
                    seed=seed,
                ),
            )
        if naive and len(sources) == 1:

            def swap():
                vaes = {}
                for mod in (sources[0], t):
                    adata = train_mdata[mod].copy()
                    OmicsVAE.setup_anndata(adata)
                    vaes[mod] = OmicsVAE(adata)
                    single = {
                        k: v
                        for k, v in (train_kwargs or {}).items()
                        if k not in ("align_weight", "cross_weight", "calibration_fraction")
                    }
                    vaes[mod].train(seed=seed, **{"progress_bar": False, **single})
                return vaes[t].decode(
                    vaes[sources[0]].get_latent_representation(test_mdata[sources[0]].copy())
                )

            timed("naive two-VAE swap", swap)

        rows = {}
        for name, pred in predictions.items():
            row = metrics.translation_scores(Y_test, pred)
            if interval is not None:
                row.update(
                    metrics.interval_scores(Y_test, *intervals[name])
                    if name in intervals
                    else {"coverage": np.nan, "width": np.nan}
                )
            rows[name] = {**row, "seconds": seconds[name]}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "method"
        tables[t] = table
        per_feature[t] = pd.DataFrame(
            {name: metrics.per_feature_pearson(Y_test, pred) for name, pred in predictions.items()},
            index=mdata[t].var_names,
        )
    if isinstance(target, str):
        table = tables[target]
        table.attrs["per_feature"] = per_feature[target]
    else:
        table = pd.concat(tables, names=["target", "method"])
        table.attrs["per_feature"] = per_feature
    table.attrs["split"] = {
        "train": list(train_names),
        "test": list(test_names),
        "calibration": list(train_names[calibration]),
    }
    table.attrs["params"] = {
        "source": source,
        "target": target,
        "modalities": modalities,
        "labels_key": labels_key,
        "test_size": test_size,
        "random_state": random_state,
        "seed": seed,
        "interval": interval,
    }
    return table
