"""One table that says whether a generator earned its cost, next to the baselines."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV

from .. import metrics
from .._utils import check_labels_key, get_matrix
from ..pp import declared_data_type, infer_data_type
from ._baselines import class_gaussian, copy_training

COLUMNS = [
    "two_sample_auc",
    "dcr_ratio",
    "mean_difference",
    "log_variance_ratio",
    "correlation_distance",
    "mmd",
    "tstr_accuracy",
    "tstr_macro_f1",
    "n_samples",
]


def _stratified_half(labels: np.ndarray, random_state: int) -> np.ndarray:
    """A mask of half of every class: the held-out control scores one half against the other."""
    rng = np.random.default_rng(random_state)
    half = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        half[rng.choice(idx, len(idx) // 2, replace=False)] = True
    return half


def _score(train, train_y, reference, reference_y, synthetic, synthetic_y, random_state) -> dict:
    acc, f1 = metrics.train_synthetic_test_real(
        synthetic, synthetic_y, reference, reference_y, random_state=random_state
    )
    return {
        "two_sample_auc": metrics.two_sample_auc(reference, synthetic, random_state=random_state),
        "dcr_ratio": metrics.dcr_ratio(train, synthetic, reference),
        "mean_difference": metrics.mean_difference(reference, synthetic),
        "log_variance_ratio": metrics.log_variance_ratio(reference, synthetic),
        "correlation_distance": metrics.correlation_distance(reference, synthetic),
        "mmd": metrics.mmd_rbf(reference, synthetic, random_state=random_state),
        "tstr_accuracy": acc,
        "tstr_macro_f1": f1,
        "n_samples": len(synthetic),
    }


def _aligned(
    adata: ad.AnnData, var_names: pd.Index, name: str, layer: str | None = None
) -> np.ndarray:
    if not adata.var_names.equals(var_names):
        raise ValueError(
            f"{name} must have the training data's features in the same order "
            f"({len(var_names)} expected, {adata.n_vars} given)."
        )
    return get_matrix(adata, layer, dtype=np.float64, allow_nan=False)


def evaluate_generation(
    train: ad.AnnData,
    synthetic: dict[str, ad.AnnData],
    *,
    reference: ad.AnnData | None = None,
    labels_key: str | None,
    baselines: bool = True,
    layer: str | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Score generators against held-out real samples, with baselines in the same table.

    Parameters
    ----------
    train
        The real samples the generators were trained on (one modality).
    synthetic
        ``{name: AnnData}`` of generated samples, e.g. ``{"GAN": gan.sample(...), "SMOTE": ...}``.
    reference
        Held-out real samples never seen in training: the yardstick. Scoring against the
        training samples would reward copying.
    labels_key
        ``.obs`` column with the class in every object (None: unlabelled).
    baselines
        Add rows computed in the same run: ``held-out real (control)`` (one half of the
        reference scored against the other half: the best any generator can do),
        ``class Gaussian`` (:func:`class_gaussian`), ``Gaussian copula`` (:func:`class_gaussian`
        with ``marginals="empirical"``) and ``copy of train`` (:func:`copy_training`), each with
        as many samples per class as the reference has.
    layer
        Matrix to use instead of ``.X`` in ``train`` and ``reference``.
    random_state
        Seed of the classifiers, subsampling and baselines.

    Returns
    -------
    DataFrame, one row per generator, columns:

    - ``two_sample_auc``: cross-validated random-forest AUC, synthetic vs reference (0.5 ideal).
    - ``dcr_ratio``: median distance to the closest training sample, synthetic over reference
      (about 1 ideal; well below 1 means copying).
    - ``mean_difference``: mean absolute difference of feature means, in reference standard
      deviations.
    - ``log_variance_ratio``: mean absolute log ratio of feature variances (0 ideal).
    - ``correlation_distance``: RMS difference of the feature correlation matrices.
    - ``mmd``: squared MMD, Gaussian kernel.
    - ``tstr_accuracy``, ``tstr_macro_f1``: a classifier trained on the synthetic samples, tested
      on the reference (class structure preserved); the row ``real train`` gives the same
      classifier trained on the real training samples.
    - ``n_samples``.

    All scores are computed after standardising every feature with the training samples' mean
    and standard deviation, so features count equally whatever their units.
    """
    if reference is None:
        raise ValueError(
            "reference: pass held-out real samples that no generator saw in training (e.g. split "
            "with sklearn's train_test_split before training). Scoring against the training "
            "samples would reward a generator that copies them."
        )
    for name, obj in (("train", train), ("reference", reference)):
        if not isinstance(obj, ad.AnnData):
            raise TypeError(f"{name} must be an AnnData (one modality), got {type(obj).__name__}.")
        check_labels_key(obj, labels_key)
    if not isinstance(synthetic, dict) or not synthetic:
        raise TypeError("synthetic must be a non-empty dict {name: AnnData}.")
    X_train = _aligned(train, train.var_names, "train", layer)
    mean, sd = X_train.mean(axis=0), X_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)

    def scale(X):
        return (X - mean) / sd

    def labels(obj):
        return (
            np.full(obj.n_obs, "all")
            if labels_key is None
            else obj.obs[labels_key].astype(str).to_numpy()
        )

    X_tr, y_tr = scale(X_train), labels(train)
    X_ref, y_ref = (
        scale(_aligned(reference, train.var_names, "reference", layer)),
        labels(reference),
    )
    rows: dict[str, dict] = {}

    if baselines:
        half = _stratified_half(y_ref, random_state)
        rows["held-out real (control)"] = _score(
            X_tr, y_tr, X_ref[~half], y_ref[~half], X_ref[half], y_ref[half], random_state
        )
        acc, f1 = metrics.train_synthetic_test_real(
            X_tr, y_tr, X_ref, y_ref, random_state=random_state
        )
        counts = {c: int((y_ref == c).sum()) for c in np.unique(y_ref)}
        baseline_sets = {
            "class Gaussian": class_gaussian(
                train,
                labels_key=labels_key,
                n_per_class=counts,
                layer=layer,
                random_state=random_state,
            ),
            "Gaussian copula": class_gaussian(
                train,
                labels_key=labels_key,
                n_per_class=counts,
                marginals="empirical",
                layer=layer,
                random_state=random_state,
            ),
            "copy of train": copy_training(
                train,
                labels_key=labels_key,
                n_per_class=counts,
                layer=layer,
                random_state=random_state,
            ),
        }
    else:
        baseline_sets = {}

    for name, obj in {**synthetic, **baseline_sets}.items():
        if not isinstance(obj, ad.AnnData):
            raise TypeError(f"synthetic[{name!r}] must be an AnnData, got {type(obj).__name__}.")
        if labels_key is not None and labels_key not in obj.obs:
            raise KeyError(f"synthetic[{name!r}] has no obs[{labels_key!r}] column.")
        X_syn = scale(_aligned(obj, train.var_names, f"synthetic[{name!r}]"))
        rows[name] = _score(X_tr, y_tr, X_ref, y_ref, X_syn, labels(obj), random_state)

    table = pd.DataFrame.from_dict(rows, orient="index")[COLUMNS]
    if baselines:
        table.loc["real train", ["tstr_accuracy", "tstr_macro_f1", "n_samples"]] = [
            acc,
            f1,
            len(X_tr),
        ]
    table.index.name = "generator"
    return table


def _complete(
    mdata: md.MuData, modalities: list[str], labels_key: str | None, features: dict | None = None
) -> tuple[dict, np.ndarray]:
    """Per modality, the dense matrix of the samples that have every modality, columns matched
    by name to ``features`` (``{mod: var_names}``, default: as they are); and their labels."""
    names = mdata.obs_names
    for mod in modalities:
        names = names[names.isin(mdata.mod[mod].obs_names)]
    labels = (
        np.full(len(names), "all")
        if labels_key is None
        else mdata.obs.loc[names, labels_key].astype(str).to_numpy()
    )
    for mod in modalities if features is not None else ():
        absent = features[mod][~features[mod].isin(mdata.mod[mod].var_names)]
        if len(absent) or len(features[mod]) != mdata.mod[mod].n_vars:
            raise ValueError(
                f"modality {mod!r} of a compared object lacks {len(absent)} of the training "
                f"features (e.g. {', '.join(map(str, absent[:3]))}) or has others; every object "
                "needs the same features."
            )
    cols = {mod: (features[mod] if features is not None else slice(None)) for mod in modalities}
    matrices = {
        mod: get_matrix(mdata.mod[mod][names, cols[mod]], dtype=np.float64, allow_nan=False)
        for mod in modalities
    }
    return matrices, labels


def _cross_correlation_distance(reference: dict, synthetic: dict, modalities: list[str]) -> float:
    """RMS difference of the between-modality correlation blocks (the coupling of modalities)."""
    diffs = []
    for i, a in enumerate(modalities):
        for b in modalities[i + 1 :]:
            for data, sign in ((reference, -1), (synthetic, 1)):
                pa, pb = data[a].shape[1], data[b].shape[1]
                block = np.nan_to_num(
                    np.corrcoef(data[a], data[b], rowvar=False)[:pa, pa : pa + pb]
                )
                diffs.append(sign * block)
    blocks = [diffs[k] + diffs[k + 1] for k in range(0, len(diffs), 2)]
    return float(np.sqrt(np.mean(np.concatenate([blk.ravel() for blk in blocks]) ** 2)))


#: below this held-out real translator r (mean over pairs) there is no coupling worth preserving
#: and ``translator_consistency`` is left NaN rather than dividing by noise.
_MIN_REAL_TRANSLATOR_R = 0.05


def _fit_translators(S_tr: dict, modalities: list[str]) -> dict:
    """One ridge translator per pair (first modality -> each other one), fitted on the training
    samples.

    The inputs are already standardised with the training samples; the penalty is chosen by
    efficient leave-one-out over the same grid as :func:`omixgan.metrics.predict_ridge`.
    """
    source = modalities[0]
    return {
        (source, t): RidgeCV(alphas=np.logspace(-2, 5, 29)).fit(S_tr[source], S_tr[t])
        for t in modalities[1:]
    }


def _translator_r(translators: dict, data: dict) -> dict:
    """Mean per-feature Pearson r between each target and its prediction from the source."""
    return {
        f"translator_r_{s}_to_{t}": float(
            np.mean(metrics.per_feature_pearson(data[t], model.predict(data[s])))
        )
        for (s, t), model in translators.items()
    }


def evaluate_multiomics_generation(
    train: md.MuData,
    synthetic: dict[str, md.MuData],
    *,
    reference: md.MuData | None = None,
    modalities: list[str] | None = None,
    labels_key: str | None,
    baselines: bool = True,
    random_state: int = 0,
) -> pd.DataFrame:
    """Score multi-omics generators: every modality alone, all of them jointly, and their coupling.

    Parameters
    ----------
    train
        The real samples the generators were trained on (MuData; samples lacking a modality are
        left out of the scores).
    synthetic
        ``{name: MuData}`` of generated samples with the same modalities, e.g.
        ``{"MultiOmicsGAN": gan.sample(...)}``.
    reference
        Held-out real samples never seen in training.
    modalities
        Modalities to score; default: those every object has.
    labels_key
        ``mdata.obs`` column with the class (None: unlabelled).
    baselines
        Add rows computed in the same run: ``held-out real (control)``, ``class Gaussian per
        modality`` (independent Gaussians per class and modality: on data whose modalities are
        coupled only through the class, such as the course data, this is the true model),
        ``Gaussian copula per modality`` (the same with empirical marginals, see
        :func:`class_gaussian`) and ``copy of train``.
    random_state
        Seed.

    Returns
    -------
    DataFrame, one row per generator, columns:

    - ``{mod}_two_sample_auc`` and ``{mod}_dcr_ratio`` for every modality (as in
      :func:`evaluate_generation`: 0.5 and about 1 ideal).
    - ``joint_two_sample_auc`` and ``joint_dcr_ratio``: the same on the modalities side by side
      (each standardised with the training samples).
    - ``cross_correlation_distance``: RMS difference between the real and synthetic correlation
      blocks of every pair of modalities (0 ideal; a generator that treats modalities
      independently loses what couples them).
    - ``translator_r_{source}_to_{target}``, for the first modality as source and every other
      one as target (the translation direction omixgan is about, e.g. mRNA -> meth, mRNA -> prot):
      a ridge regression (penalty by leave-one-out) is fit on the *real training* samples to
      predict the target from the source; the column is its mean per-feature Pearson r between
      this row's target values and the prediction from this row's source values. For the
      control row it is measured on one half of the held-out real samples.
    - ``translator_consistency``: this row's ``translator_r`` columns averaged over pairs,
      divided by the same average on all held-out real samples (the value a real sample gets).
      About 1 ideal; well below 1 means the generator breaks the coupling between modalities
      (e.g. modalities paired only by class score what the class alone explains); above 1 means
      the modalities are *more* predictable from each other than in real samples: a copy of the
      training data (the translator was fit on those very samples), or samples pulled towards
      their class mean when the class drives the coupling. NaN when the held-out real r is below
      0.05: nothing to preserve. On data whose modalities are coupled only through the class (the
      course data), the real r itself comes from the class.
    """
    if reference is None:
        raise ValueError("reference: pass held-out real samples that no generator saw in training.")
    for name, obj in (
        ("train", train),
        ("reference", reference),
        *((f"synthetic[{k!r}]", v) for k, v in synthetic.items()),
    ):
        if not isinstance(obj, md.MuData):
            raise TypeError(f"{name} must be a MuData, got {type(obj).__name__}.")
        check_labels_key(obj, labels_key)
    common = [
        m for m in train.mod if m in reference.mod and all(m in s.mod for s in synthetic.values())
    ]
    modalities = list(modalities) if modalities is not None else common
    missing = [m for m in modalities if m not in common]
    if len(modalities) < 2 or missing:
        raise ValueError(
            f"need at least two modalities present in every object; got {modalities}, missing "
            f"{missing}."
        )
    X_tr, y_tr = _complete(train, modalities, labels_key)
    features = {m: train.mod[m].var_names for m in modalities}  # every object aligned by name
    X_ref, y_ref = _complete(reference, modalities, labels_key, features)
    stats = {
        m: (X_tr[m].mean(axis=0), np.where(X_tr[m].std(axis=0) > 0, X_tr[m].std(axis=0), 1.0))
        for m in modalities
    }

    def scale(data):
        return {m: (data[m] - stats[m][0]) / stats[m][1] for m in modalities}

    def joint(data):
        return np.hstack([data[m] for m in modalities])

    S_tr, S_ref = scale(X_tr), scale(X_ref)
    candidates = {}
    for name, obj in synthetic.items():
        X_syn, _ = _complete(obj, modalities, labels_key, features)
        candidates[name] = scale(X_syn)
    if baselines:
        rng = np.random.default_rng(random_state)
        half = _stratified_half(y_ref, random_state)
        counts = {c: int((y_ref == c).sum()) for c in np.unique(y_ref)}
        gauss, copula = {}, {}
        for m in modalities:
            adata = ad.AnnData(
                X_tr[m].astype(np.float32),
                obs=pd.DataFrame({"label": y_tr}, index=[f"s{i}" for i in range(len(y_tr))]),
            )
            kind = declared_data_type(train.mod[m]) or infer_data_type(
                X_tr[m], name=m
            )  # beta stays in (0, 1)
            gauss[m] = class_gaussian(
                adata,
                labels_key="label",
                n_per_class=counts,
                data_type=kind,
                random_state=random_state,
            ).X
            copula[m] = class_gaussian(
                adata,
                labels_key="label",
                n_per_class=counts,
                marginals="empirical",
                data_type=kind,
                random_state=random_state,
            ).X
        order = np.concatenate(
            [rng.choice(np.flatnonzero(y_tr == c), n, replace=True) for c, n in counts.items()]
        )
        copies = {m: X_tr[m][order] for m in modalities}
        candidates = {
            "held-out real (control)": None,
            **candidates,
            "class Gaussian per modality": scale(gauss),
            "Gaussian copula per modality": scale(copula),
            "copy of train": scale(copies),
        }

    translators = _fit_translators(S_tr, modalities)
    real_r = float(np.mean(list(_translator_r(translators, S_ref).values())))
    rows = {}
    for name, S_syn in candidates.items():
        ref = S_ref
        if S_syn is None:  # the control: one half of the reference against the other half
            ref, S_syn = (
                {m: S_ref[m][~half] for m in modalities},
                {m: S_ref[m][half] for m in modalities},
            )
        row = {}
        for m in modalities:
            row[f"{m}_two_sample_auc"] = metrics.two_sample_auc(
                ref[m], S_syn[m], random_state=random_state
            )
            row[f"{m}_dcr_ratio"] = metrics.dcr_ratio(S_tr[m], S_syn[m], ref[m])
        row["joint_two_sample_auc"] = metrics.two_sample_auc(
            joint(ref), joint(S_syn), random_state=random_state
        )
        row["joint_dcr_ratio"] = metrics.dcr_ratio(joint(S_tr), joint(S_syn), joint(ref))
        row["cross_correlation_distance"] = _cross_correlation_distance(ref, S_syn, modalities)
        row.update(_translator_r(translators, S_syn))
        syn_r = float(
            np.mean([row[f"translator_r_{modalities[0]}_to_{t}"] for t in modalities[1:]])
        )
        row["translator_consistency"] = (
            syn_r / real_r if real_r >= _MIN_REAL_TRANSLATOR_R else np.nan
        )
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "generator"
    return table
