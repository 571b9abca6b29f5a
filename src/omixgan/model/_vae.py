"""OmicsVAE (one modality) and CrossModalVAE (several modalities, one shared latent space)."""

from __future__ import annotations

import functools
import warnings

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch

from .._utils import (
    BETA_EPS,
    check_labels_key,
    check_modalities,
    check_modality_list,
    make_mudata,
    synthetic_adata,
)
from ..metrics import conformal_quantile, conformal_scores
from ..module._vae import VAEEnsembleModule, product_of_experts, source_sets
from ..pp import Pipeline
from ..train import make_fabric, seed_everything
from ..train import progress_bar as make_progress_bar
from ..train._loop import device_generator
from ..train._ondisk import (
    POOLED_BLOCKS,
    OnDiskBatches,
    OnDiskMatrix,
    data_type_on_disk,
    fit_typed_pipeline_on_disk,
    validation_rows,
)
from ..train._vae import ResidentBatches, VAETrainConfig, train_vae, validation_error
from ._base import OmixModel, default_pipeline, register

_ARCHITECTURE_DOC = """
    n_latent
        Dimension of the shared latent space. Far smaller than the features on purpose: omics
        modalities of a few hundred features share few axes of variation, and a small latent
        space regularises translation from few samples.
    n_hidden
        Width of the hidden layers of encoders and decoders.
    n_layers
        Hidden layers of encoders and decoders.
    dropout_rate
        Dropout in the hidden layers (regularisation for small cohorts).
    input_dropout
        Dropout on the encoders' input features: forces a translation to rely on many features,
        not a few, which helps on small real cohorts.
    linear_path
        Add an affine map beside the MLP of every encoder and decoder. Omics layers are largely
        linearly related; the linear path represents that exactly (a ridge-like translation), and
        the MLP only learns what is not linear. Without it, deep translators lose to ridge on
        small data.
    data_types
        ``{modality: "beta" | "gaussian" | "counts"}``; missing entries are inferred (see
        :func:`omixgan.pp.resolve_data_type`; non-negative whole numbers are ``"counts"``). Beta
        values are modelled in logit space (a logit-normal likelihood), so outputs stay in
        (0, 1). Counts are modelled in log1p space with a negative binomial likelihood, each
        cell's library size an offset to rates at the training cells' median library (scVI's
        library handling); outputs are expected counts at that median library (not whole
        numbers). For single-cell data, :class:`~omixgan.models.CountVAE` is the dedicated model
        (see the single-cell benchmarks)."""


#: Candidate penalties of the ridge maps blended into translations (model space: z-scored data).
RIDGE_ALPHAS = np.logspace(-2, 4, 25)
#: Target features on which the ridge penalty is chosen (see ``_ridge_maps``).
ALPHA_SELECTION_TARGETS = 512
#: Fewest calibration samples for a source set and target: below it the blend weight and the
#: interval's quantile would rest on too few samples (with 10, a 90 % interval's conformal
#: quantile is the largest but one of the per-sample scores' pooled distribution).
MIN_CALIBRATION = 10
#: Ways of combining several sources (``source_combination`` of CrossModalVAE).
SOURCE_COMBINATIONS = ("stack", "select", "all")
#: Modalities a CrossModalVAE takes: it keeps a ridge map per set of sources and target, so
#: 2^(k-1) - 1 maps per target.
MAX_MODALITIES = 6


def calibration_key(sources: tuple[str, ...], target: str) -> str:
    return f"{'+'.join(sources)}->{target}"


class _VAEModel(OmixModel):
    """Shared machinery: per-modality transforms, resident data, training, encoding, decoding."""

    def __init__(
        self,
        adata,
        *,
        n_latent,
        n_hidden,
        n_layers,
        dropout_rate,
        input_dropout,
        linear_path,
        data_types,
        n_models,
    ):
        super().__init__(adata)
        data_types = dict(data_types or {})
        mods = self.modalities or [None]
        unknown = set(data_types) - {m for m in mods if m is not None}
        if unknown:
            raise KeyError(
                f"data_types names modalities the model was not set up with: {sorted(unknown)}."
            )
        # how each modality is modelled is decided here (it shapes the likelihoods, and the
        # summary shows it); the transforms are fitted in train(), saved with the model, so that
        # load() with other data never refits them
        self.data_types_, self.var_names_, self.pipeline_state_ = {}, {}, None
        dims = {}
        for mod in mods:
            source = self._modality_adata(adata, mod)
            if self._on_disk(source):
                if len(mods) > 1:
                    raise ValueError(
                        f"modality {mod!r} is backed on disk; training from disk is available for "
                        "one modality "
                        "(OmicsVAE). Load the MuData into memory (mdata = mdata.to_memory()) for a "
                        "CrossModalVAE."
                    )
                self.data_types_[self._key(mod)] = data_type_on_disk(
                    OnDiskMatrix(source, name=self._name(mod)), data_types.get(mod), mod
                )
            else:
                X = self._matrix(source, mod)
                _, self.data_types_[self._key(mod)] = default_pipeline(
                    X,
                    data_types.get(mod),
                    mod,
                    source,
                    from_x=self.setup_args.get("layer") is None,
                    # an AnnData's single modality has no name to declare a type under
                    declare=f"data_types={{{mod!r}: 'gaussian'}}" if mod else None,
                )
                del X
            self.var_names_[self._key(mod)] = source.var_names.to_numpy(dtype=str)
            dims[self._key(mod)] = self._n_vars(mod)
        self.history_ = None
        if (
            isinstance(n_models, bool)
            or not isinstance(n_models, (int, np.integer))
            or n_models < 1
        ):
            raise ValueError(f"n_models must be a positive integer, got {n_models!r}.")
        self.module = VAEEnsembleModule(
            dims,
            n_models=int(n_models),
            n_latent=n_latent,
            n_hidden=n_hidden,
            n_layers=n_layers,
            dropout_rate=dropout_rate,
            input_dropout=input_dropout,
            linear_path=linear_path,
            data_types=dict(self.data_types_),
        )

    def _fit_transforms(self) -> None:
        """Fit every modality's transform on the registered samples (and, for counts, the
        reference library of the negative binomial: the median library size)."""
        self.pipeline_state_ = {}
        for mod in self.modalities or [None]:
            key = self._key(mod)
            source = self._modality_adata(self.adata, mod)
            self._check_features(self.adata, mod, self.var_names_[key])
            if self._on_disk(source):
                disk = OnDiskMatrix(source, name=self._name(mod))
                pipeline = fit_typed_pipeline_on_disk(disk, str(self.data_types_[key]))
            else:
                X = self._matrix(source, mod)
                pipeline = Pipeline.default_for(X, str(self.data_types_[key]))
                pipeline.fit(X)
                if self.data_types_[key] == "counts":
                    # NB rates are per the median library; a cell's own library is an offset
                    library = max(float(np.median(X.sum(axis=1))), 1.0)
                    for member in self.module.members:
                        member.decoders[key].likelihood.set_reference_library(library)
            self.pipeline_state_[key] = pipeline.state()

    @staticmethod
    def _key(modality: str | None) -> str:
        return modality if modality is not None else "X"

    @staticmethod
    def _name(modality: str | None) -> str:
        return f"modality {modality!r}" if modality else "the data"

    def _on_disk(self, adata: ad.AnnData) -> bool:
        """Backed ``.X`` without a layer: read in blocks, never whole.

        Backed layers are in memory.
        """
        return bool(getattr(adata, "isbacked", False)) and self.setup_args.get("layer") is None

    def _pipeline(self, modality: str | None) -> Pipeline:
        if self.pipeline_state_ is None:  # fitted by train(), or restored by load()
            self._require_trained()
        return Pipeline.from_state(self.pipeline_state_[self._key(modality)])

    def _model_space(self, data, modality: str | None) -> tuple[np.ndarray, pd.Index]:
        source = self._modality_adata(data, modality)
        self._check_features(data, modality, self.var_names_[self._key(modality)])
        return self._pipeline(modality).transform(self._matrix(source, modality)), source.obs_names

    def _registered_rows(self) -> tuple[pd.Index, dict[str, np.ndarray]]:
        """Every sample that has at least one registered modality, and per modality the positions
        of its own samples among them."""
        mods = self.modalities or [None]
        obs = {self._key(m): self._modality_adata(self.adata, m).obs_names for m in mods}
        names = pd.Index(pd.unique(np.concatenate([np.asarray(o) for o in obs.values()])))
        return names, {m: names.get_indexer(o) for m, o in obs.items()}

    def _resident_data(self) -> tuple[pd.Index, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The registered samples (see :meth:`_registered_rows`) and every modality's matrix as
        given, float32: the user's own array when it already is dense float32 (no copy). Models
        transform it batch by batch (:meth:`~omixgan.pp.Pipeline.on_device`), so memory holds the
        data once, not a second, transformed copy."""
        names, positions = self._registered_rows()
        raw = {}
        for mod in self.modalities or [None]:
            self._check_features(self.adata, mod, self.var_names_[self._key(mod)])
            X = self._matrix(self._modality_adata(self.adata, mod), mod)
            self._pipeline(mod).check(X)
            raw[self._key(mod)] = X
        return names, raw, positions

    def _paired_model_space(
        self, raw: dict, positions: dict, s: str, t: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Model-space rows of modalities ``s`` and ``t`` for the samples that have both."""
        both = np.intersect1d(positions[s], positions[t])
        return tuple(
            Pipeline.from_state(self.pipeline_state_[m]).transform(
                raw[m][rows_of(positions[m], both)]
            )
            for m in (s, t)
        )

    def _train(
        self,
        *,
        calibration_fraction=0.0,
        refit=False,
        max_epochs,
        batch_size,
        lr,
        weight_decay,
        kl_weight,
        kl_warmup_fraction,
        align_weight,
        cross_weight,
        validation_fraction,
        patience,
        accelerator,
        devices,
        strategy,
        precision,
        seed,
        progress_bar,
        buffer_mb=256.0,
    ):
        for name, value in (("max_epochs", max_epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if patience is not None and (
            isinstance(patience, bool)
            or not isinstance(patience, (int, np.integer))
            or patience < 1
        ):
            raise ValueError(f"patience must be a positive integer or None, got {patience!r}.")
        if not 0 <= validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}.")
        if not 0 <= calibration_fraction < 1:
            raise ValueError(
                f"calibration_fraction must be in [0, 1), got {calibration_fraction!r}."
            )
        self._fit_transforms()
        seed_everything(seed)
        self.module.reset_parameters(seed)
        fabric = make_fabric(accelerator, devices, strategy, precision)
        mod = (self.modalities or [None])[0]
        source = self._modality_adata(self.adata, mod)
        if self._on_disk(source):
            data = _OnDiskData(self, source, mod, validation_fraction, buffer_mb, fabric)
        else:
            data = _ResidentData(
                self,
                validation_fraction,
                fabric,
                calibration_fraction=calibration_fraction,
                seed=seed,
            )
        steps_per_epoch = max(1, data.n_train // (batch_size * fabric.world_size))
        if patience is None:
            # about 150 optimiser steps without improvement, whatever the data size
            patience = int(np.clip(round(150 / steps_per_epoch), 5, 30))
        config = VAETrainConfig(
            int(max_epochs),
            int(batch_size),
            lr,
            weight_decay,
            kl_weight,
            kl_warmup_fraction,
            align_weight,
            cross_weight,
            int(patience),
        )
        n_members = len(self.module.members)
        runs = 2 if refit and len(data.calibration) else 1
        bar = make_progress_bar(
            int(max_epochs) * n_members * runs, enabled=progress_bar, desc=type(self).__name__
        )

        def fit_members(run: str) -> list[pd.DataFrame]:
            histories = []
            for k, member in enumerate(self.module.members):
                member_seed = seed + 1000 * k
                member_rng = torch.Generator()
                member_rng.manual_seed(member_seed)
                batches, validate = data.member(member, member_seed, int(batch_size), member_rng)
                member.train()
                history = train_vae(
                    fabric,
                    member,
                    batches,
                    validate,
                    config=config,
                    noise=device_generator(member_rng, fabric.device),
                    progress_bar=bar,
                )
                histories.append(pd.DataFrame(history).assign(member=k, run=run))
            self.module.to("cpu")
            return histories

        histories = fit_members("calibration" if runs == 2 else "final")
        if data.resident is not None and len(self.module.names) > 1:
            self._calibrate(*data.resident, data.calibration)
            if runs == 2:
                # the same training on every sample: the calibrated blend and scores carry over
                data.release_calibration()
                self.module.reset_parameters(seed)
                histories += fit_members("final")
            self._fit_linear_maps(*data.resident)
        bar.close()
        self.history_ = pd.concat(histories, ignore_index=True)
        self.is_trained_ = True

    def _ridge_maps(self, raw: dict, positions: dict, exclude: np.ndarray | None = None) -> dict:
        """Closed-form ridge maps from every set of source modalities (concatenated, model space)
        to every other modality, fitted on the samples that have all of them except ``exclude``
        (positions among the registered samples); penalty chosen by efficient leave-one-out.

        Leave-one-out costs samples x rank x targets per candidate penalty; for a target of more
        than :data:`ALPHA_SELECTION_TARGETS` features the penalty is chosen on that many features
        drawn at random (one penalty serves all features anyway), then one ridge is fitted to all.
        Returns ``{(sources, target): (coef (d_sources, d_target), intercept)}``.
        """
        from sklearn.linear_model import Ridge, RidgeCV

        maps = {}
        for t in self.module.names:
            for sources in source_sets(self.module.names, t):
                rows = functools.reduce(np.intersect1d, [positions[m] for m in (*sources, t)])
                if exclude is not None:
                    rows = np.setdiff1d(rows, exclude)
                if len(rows) < 3:
                    continue
                Xs = np.hstack([self._rows_model_space(raw, positions, m, rows) for m in sources])
                Yt = self._rows_model_space(raw, positions, t, rows)
                if Yt.shape[1] <= ALPHA_SELECTION_TARGETS:
                    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(Xs, Yt)
                else:
                    cols = np.sort(
                        np.random.default_rng(0).choice(
                            Yt.shape[1], ALPHA_SELECTION_TARGETS, replace=False
                        )
                    )
                    alpha = RidgeCV(alphas=RIDGE_ALPHAS).fit(Xs, Yt[:, cols]).alpha_
                    ridge = Ridge(alpha=alpha).fit(Xs, Yt)
                maps[(sources, t)] = (
                    ridge.coef_.T.astype(np.float32),
                    np.asarray(ridge.intercept_, dtype=np.float32),
                )
        return maps

    def _rows_model_space(self, raw: dict, positions: dict, m: str, rows: np.ndarray) -> np.ndarray:
        """Model-space rows of modality ``m`` for the registered samples at ``rows``."""
        return self._pipeline(m).transform(raw[m][rows_of(positions[m], rows)])

    def _fit_linear_maps(self, raw: dict, positions: dict) -> None:
        """The ridge maps of :meth:`_ridge_maps`, fitted on every training sample (calibration
        samples included: ridge is cheap to refit and better with them), into the module."""
        for (sources, t), (coef, intercept) in self._ridge_maps(raw, positions).items():
            self.module.set_linear_map(
                sources, t, torch.from_numpy(coef), torch.from_numpy(intercept)
            )

    def _calibrate(self, raw: dict, positions: dict, calibration: np.ndarray) -> None:
        """On the calibration samples (never used in training), per source set and target:
        choose how the translations are combined and record the conformal scores of the result.

        The ridge maps used here are fitted without the calibration samples, as the VAE was, so
        the residuals are those of new samples. Every source set ``S`` gets a *combination*: a
        list of ``(subset of S, weight of its VAE translation, weight of its ridge map)``, the
        weights non-negative and summing to 1 (see ``source_combination`` of
        :class:`CrossModalVAE`), chosen to minimise the squared error in model space pooled
        over features and samples. For one source this is the blend ``(1 - w) * VAE + w *
        ridge``. Scores: absolute residual of the combination in model space divided by the
        feature's root mean squared calibration residual computed without that sample
        (leave-one-out, so a calibration sample's scale does not contain its own residual, as a
        new sample's does not); see :meth:`CrossModalVAE.predict_interval`.
        """
        self.calibration_ = {}
        self.calibration_obs_names_ = np.asarray(self._registered_rows()[0][calibration], dtype=str)
        if not len(calibration):
            return
        maps = self._ridge_maps(raw, positions, exclude=calibration)
        for t in self.module.names:
            # every subset's VAE translation and ridge map on the calibration samples that have
            # the subset and the target, computed once and shared by the source sets above it
            parts = {}
            for sources in source_sets(self.module.names, t):
                rows = np.intersect1d(
                    calibration,
                    functools.reduce(np.intersect1d, [positions[m] for m in (*sources, t)]),
                )
                if len(rows) < MIN_CALIBRATION or (sources, t) not in maps:
                    continue
                xs = {
                    m: torch.from_numpy(self._rows_model_space(raw, positions, m, rows))
                    for m in sources
                }
                deep = self.module.translate(xs, t, linear_blend=0.0).numpy().astype(np.float64)
                coef, intercept = maps[(sources, t)]
                linear = torch.cat(list(xs.values()), dim=1).numpy() @ coef + intercept
                parts[sources] = (rows, deep, linear.astype(np.float64))
            for sources, (rows, _, _) in parts.items():
                Y = self._rows_model_space(raw, positions, t, rows).astype(np.float64)
                # a subset's calibration samples include those of the set (sorted positions)
                candidates = {}
                for sub, (sub_rows, deep, linear) in parts.items():
                    if set(sub) <= set(sources):
                        at = np.searchsorted(sub_rows, rows)
                        candidates[sub] = (deep[at], linear[at])
                combination = self._fit_combination(sources, candidates, Y)
                pred = sum(
                    a * candidates[sub][0] + b * candidates[sub][1] for sub, a, b in combination
                )
                scores, scale = conformal_scores(pred - Y)
                entry = {
                    "combination": combination,
                    "mse": float(np.mean((pred - Y) ** 2)),
                    "scale": scale.astype(np.float32),
                    "scores": scores.astype(np.float32),
                    "n_samples": len(rows),
                }
                if self.data_types_[t] != "gaussian":
                    # the transform is not affine: intervals calibrated in original units differ
                    # (see predict_interval); keep their scores and the predictions to compare
                    truth = raw[t][rows_of(positions[t], rows)].astype(np.float64)
                    scores, scale = conformal_scores(self._pipeline(t).inverse(pred) - truth)
                    entry["original"] = {
                        "scale": scale.astype(np.float32),
                        "scores": scores.astype(np.float32),
                        "prediction": pred.astype(np.float32),
                    }
                self.calibration_[calibration_key(sources, t)] = entry

    def _fit_combination(
        self, sources: tuple[str, ...], candidates: dict, Y: np.ndarray
    ) -> list[tuple[tuple[str, ...], float, float]]:
        """``[(subset, VAE weight, ridge weight), ...]`` for ``sources`` from the calibration
        predictions ``{subset: (VAE, ridge)}`` of its subsets and the truth ``Y`` (model space);
        entries with zero weight are left out."""
        mode = self.source_combination
        if self.linear_blend == "auto":

            def blends(sub):
                return [(sub, 1.0, 0.0), (sub, 0.0, 1.0)]

        else:
            w = float(self.linear_blend)

            def blends(sub):
                return [(sub, 1.0 - w, w)]

        def fit(subs):
            columns = [(sub, a, b) for s in subs for sub, a, b in blends(s)]
            preds = [a * candidates[sub][0] + b * candidates[sub][1] for sub, a, b in columns]
            weights = simplex_least_squares(preds, Y)
            merged = {}
            for (sub, a, b), weight in zip(columns, weights):
                if weight > 0:
                    old = merged.get(sub, (0.0, 0.0))
                    merged[sub] = (old[0] + weight * a, old[1] + weight * b)
            return [(sub, float(a), float(b)) for sub, (a, b) in merged.items()]

        if mode == "stack":
            return fit(list(candidates))
        if mode == "select" and len(sources) > 1:
            # each subset on its own; the one with the smallest error (the larger one on a tie)
            best = None
            for sub in candidates:
                combination = fit([sub])
                pred = sum(a * candidates[s][0] + b * candidates[s][1] for s, a, b in combination)
                key = (float(np.mean((pred - Y) ** 2)), -len(sub))
                if best is None or key < best[0]:
                    best = (key, combination)
            return best[1]
        return fit([sources])

    @property
    def history(self) -> pd.DataFrame | None:
        """Training history, one row per ``run``, ensemble ``member`` and epoch.

        ``run`` (CrossModalVAE): ``"calibration"``, the training without the calibration
        samples, then ``"final"``. Columns: ``loss`` and its terms (``reconstruction``, ``kl``,
        ``alignment``) on the training samples, and ``validation`` (translation error on
        held-out validation samples; the weights of each member's best epoch were kept).
        """
        return self.history_

    def _encode(self, data, modality: str | None) -> tuple[np.ndarray, pd.Index]:
        self._require_trained()
        source = self._modality_adata(data, modality)
        if self._on_disk(source):
            self._check_features(data, modality, self.var_names_[self._key(modality)])
            pipeline = self._pipeline(modality)
            codes = [
                self._encode_rows(modality, pipeline.transform(X))
                for _, X in OnDiskMatrix(source, name=self._name(modality)).blocks()
            ]
            return np.vstack(codes), source.obs_names
        Z, obs = self._model_space(data, modality)
        return self._encode_rows(modality, Z), obs

    def _encode_rows(self, modality: str | None, Z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            mu, _ = self.module.encode(self._key(modality), torch.from_numpy(Z))
        return mu.numpy()

    def _decode(self, modality: str | None, latent: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = self.module.decode(
                self._key(modality), torch.as_tensor(np.asarray(latent, dtype=np.float32))
            ).numpy()
        return self._pipeline(modality).inverse(out)


class OmicsVAE(_VAEModel):
    """Variational autoencoder for one omics modality (Tybalt-like).

    Encoder to a Gaussian latent space (reparameterisation trick), decoder back, KL term with
    warm-up (beta-VAE weight ``kl_weight``); a Gaussian likelihood in standardised space, in logit
    space for methylation beta values.

    Parameters
    ----------
    adata
        AnnData or MuData registered with :meth:`setup_anndata` / :meth:`setup_mudata`.
    """

    __doc__ += _ARCHITECTURE_DOC

    def __init__(
        self,
        adata: ad.AnnData | md.MuData,
        n_latent: int = 32,
        n_hidden: int = 256,
        n_layers: int = 1,
        dropout_rate: float = 0.2,
        input_dropout: float = 0.0,
        linear_path: bool = True,
        data_types: dict | None = None,
    ):
        super().__init__(
            adata,
            n_latent=n_latent,
            n_hidden=n_hidden,
            n_layers=n_layers,
            dropout_rate=dropout_rate,
            input_dropout=input_dropout,
            linear_path=linear_path,
            data_types=data_types,
            n_models=1,
        )
        mod = self.modalities[0] if self.modalities else None
        where = f"modality {mod!r}" if mod else "AnnData"
        self._model_summary_string = (
            f"OmicsVAE on {where} ({self.data_types_[self._key(mod)]}), n_latent={n_latent}"
        )
        self.init_params_ = self._get_init_params(locals())

    @classmethod
    def setup_anndata(
        cls, adata: ad.AnnData, labels_key: str | None = None, layer: str | None = None, **kwargs
    ):
        """Register an AnnData (one modality). ``labels_key`` is only recorded (for plots)."""
        check_labels_key(adata, labels_key)
        register(cls, adata, locals(), modalities=None, labels_key=labels_key, layer=layer)

    @classmethod
    def setup_mudata(
        cls,
        mdata: md.MuData,
        modality: str = "mrna",
        labels_key: str | None = None,
        layer: str | None = None,
        **kwargs,
    ):
        """Register one modality of a MuData."""
        check_modalities(mdata, [modality], "modality")
        check_labels_key(mdata, labels_key)
        register(cls, mdata, locals(), modalities=[modality], labels_key=labels_key, layer=layer)

    def train(
        self,
        max_epochs: int = 300,
        *,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-3,
        kl_weight: float = 1.0,
        kl_warmup_fraction: float = 0.3,
        validation_fraction: float = 0.1,
        patience: int | None = None,
        accelerator: str = "auto",
        devices="auto",
        strategy: str = "auto",
        precision: str | int | None = None,
        buffer_mb: float = 256.0,
        seed: int = 0,
        progress_bar: bool = True,
    ) -> None:
        """Fit the transform (z-score; logit first for beta values, log1p for counts) on every
        registered sample, then train on them, from weights drawn anew from ``seed``. What is
        fitted is saved with the model: :meth:`load` with other data never refits it.

        Parameters are those of :meth:`CrossModalVAE.train` without the cross-modal weights;
        early stopping watches the reconstruction error of held-out validation samples, plus:

        Parameters
        ----------
        buffer_mb
            Only for data on disk (an AnnData opened with ``backed="r"``, or a modality of a
            backed MuData): memory for training rows. Rows are read in blocks of a quarter of it,
            four blocks are pooled and shuffled together, so memory stays bounded whatever the
            file size; larger mixes rows better, smaller uses less memory. Validation keeps at most
            2048 rows in memory.
        """
        self._train(
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            kl_weight=kl_weight,
            kl_warmup_fraction=kl_warmup_fraction,
            align_weight=0.0,
            cross_weight=0.0,
            validation_fraction=validation_fraction,
            patience=patience,
            accelerator=accelerator,
            devices=devices,
            strategy=strategy,
            precision=precision,
            buffer_mb=buffer_mb,
            seed=seed,
            progress_bar=progress_bar,
        )

    def get_latent_representation(self, adata: ad.AnnData | md.MuData | None = None) -> np.ndarray:
        """Posterior means of the latent space, one row per sample of the modality."""
        mod = self.modalities[0] if self.modalities else None
        return self._encode(self.adata if adata is None else adata, mod)[0]

    def decode(self, latent: np.ndarray) -> np.ndarray:
        """Decode latent codes into the modality's original units (the course's "decoder").

        With another OmicsVAE's latent codes this is the course's naive translation, which fails
        because two separately trained VAEs do not share a latent space.
        """
        self._require_trained()
        latent = np.asarray(latent, dtype=np.float32)
        if latent.ndim != 2 or latent.shape[1] != self.module.n_latent:
            raise ValueError(
                f"latent must have shape (n, {self.module.n_latent}), got {latent.shape}."
            )
        return self._decode(self.modalities[0] if self.modalities else None, latent)

    def sample(self, n_samples: int = 100, seed: int | None = None) -> ad.AnnData:
        """Decode ``n_samples`` draws of the prior N(0, I) into new samples (original units).

        Returns an AnnData with the modality's ``var_names`` and ``obs["synthetic"] = True``.
        """
        self._require_trained()
        generator = torch.Generator()
        generator.manual_seed(int(seed) if seed is not None else int(torch.seed() % 2**63))
        z = torch.randn(int(n_samples), self.module.n_latent, generator=generator).numpy()
        mod = self.modalities[0] if self.modalities else None
        return synthetic_adata(
            self.decode(z), np.array([]), self.var_names_[self._key(mod)], None, prefix="vae"
        )


class CrossModalVAE(_VAEModel):
    """Cross-modal VAE: one encoder and one decoder per modality, one shared latent space.

    Trained on self-reconstruction of every modality a sample has, cross-reconstruction of every
    other modality for samples that have several, reconstruction from the product of experts of
    all (and of a random half) of a sample's modalities, a KL term with warm-up, and alignment
    of the posteriors of paired modalities. Translation = product of the sources' posteriors
    (and the prior) + decoder of the target, blended with a ridge map from the concatenated
    sources. Samples with only some modalities are used for what they have.

    Parameters
    ----------
    mdata
        MuData registered with :meth:`setup_mudata`.
    """

    __doc__ += (
        _ARCHITECTURE_DOC
        + """
    n_models
        Independently trained members (seeds ``seed``, ``seed + 1000``, ...) whose translations are
        averaged: on cohorts of about a hundred samples, seed-to-seed variance is the largest error
        a single VAE makes. Training time grows linearly.
    linear_blend
        Weight ``w`` of a closed-form ridge map (concatenated sources to target, penalty by
        leave-one-out) in every translation: ``(1 - w) * VAE + w * ridge``. ``"auto"`` (default):
        chosen per source set and target on the calibration samples (held out from training, see
        :meth:`train`) to minimise the squared error; omics layers are largely linearly related
        and on a few hundred samples ridge is hard to beat, so the VAE earns only the weight it
        shows on new samples, and a translation is never much worse than ridge's. A number fixes
        it (0: the VAE alone).
    source_combination
        How a translation from several sources ``S`` uses them, fitted per source set and target
        on the calibration samples:

        - ``"stack"`` (default): a weighted sum of the VAE translations and ridge maps of
          **every** non-empty subset of ``S``, the weights non-negative and summing to 1,
          chosen to minimise the squared error on the calibration samples (stacking). Why: a
          modality that carries little extra information about the target still adds
          estimation noise on a few hundred samples (miRNA next to mRNA for methylation in
          TCGA-BRCA), yet choosing one subset on about 50 calibration samples is itself noisy,
          and a weighted average of the subsets' translations hedges between them. With
          ``linear_blend="auto"`` this is for one source exactly the ``"auto"`` blend. The weights
          are a few numbers fitted on thousands of values (samples x features); on simulated
          data a source of pure noise gets zero weight, but on about 50 real calibration samples
          they can still overfit: on TCGA-BRCA 2012, mRNA + miRNA -> methylation is on par with
          mRNA alone on average (0.478 vs 0.476), mRNA + miRNA -> protein below it (0.396 vs
          0.410; see the translation benchmarks).
        - ``"select"``: the one subset whose blend had the smallest calibration error.
        - ``"all"``: the blend of every source given, the subsets unused.

        With a number for ``linear_blend``, each subset's translation is that fixed blend and
        the weights are over subsets."""
    )

    def __init__(
        self,
        mdata: md.MuData,
        n_latent: int = 32,
        n_hidden: int = 256,
        n_layers: int = 1,
        dropout_rate: float = 0.2,
        input_dropout: float = 0.3,
        linear_path: bool = True,
        data_types: dict | None = None,
        n_models: int = 3,
        linear_blend: float | str = "auto",
        source_combination: str = "stack",
    ):
        if not isinstance(mdata, md.MuData):
            raise TypeError(f"CrossModalVAE needs a MuData, got {type(mdata).__name__}.")
        if linear_blend != "auto" and not (
            isinstance(linear_blend, (int, float)) and 0 <= linear_blend <= 1
        ):
            raise ValueError(f"linear_blend must be 'auto' or in [0, 1], got {linear_blend!r}.")
        super().__init__(
            mdata,
            n_latent=n_latent,
            n_hidden=n_hidden,
            n_layers=n_layers,
            dropout_rate=dropout_rate,
            input_dropout=input_dropout,
            linear_path=linear_path,
            data_types=data_types,
            n_models=n_models,
        )
        self.linear_blend = "auto" if linear_blend == "auto" else float(linear_blend)
        if source_combination not in SOURCE_COMBINATIONS:
            raise ValueError(
                f"source_combination must be one of {SOURCE_COMBINATIONS}, got "
                f"{source_combination!r}."
            )
        self.source_combination = source_combination
        self.calibration_, self.calibration_obs_names_ = {}, np.empty(0, dtype=str)
        names, positions = self._registered_rows()
        n_paired = len(functools.reduce(np.intersect1d, positions.values()))
        n_multi = int(
            (
                sum(
                    (rows_of(p, np.arange(len(names))) >= 0).astype(int) for p in positions.values()
                )
                >= 2
            ).sum()
        )
        if n_multi == 0:
            raise ValueError(
                f"no sample has all of the modalities {self.modalities}, nor two of them; a "
                "translator needs paired samples."
            )
        self._model_summary_string = (
            "CrossModalVAE on "
            f"{', '.join(f'{m} ({self.data_types_[m]})' for m in self.modalities)}: "
            f"{len(names)} samples, {n_paired} with every modality; n_latent={n_latent}, "
            f"{n_models} member(s), linear_blend={linear_blend}"
        )
        self.init_params_ = self._get_init_params(locals())

    @classmethod
    def setup_mudata(
        cls,
        mdata: md.MuData,
        modalities: list[str] = ("mrna", "meth"),
        labels_key: str | None = None,
        layer: str | None = None,
        **kwargs,
    ):
        """Register two or more modalities of a MuData.

        Parameters
        ----------
        mdata
            The data; samples may lack some modalities (they train what they have).
        modalities
            The modalities to model, e.g. ``["mrna", "meth", "mirna", "prot"]`` (at most
            :data:`MAX_MODALITIES`).
        labels_key
            ``mdata.obs`` column with a class label; recorded for evaluation and plots, not used
            in training.
        layer
            Matrix of each modality to model instead of ``.X``.
        """
        modalities = check_modality_list(mdata, modalities)
        if len(modalities) > MAX_MODALITIES:
            raise ValueError(
                f"a CrossModalVAE takes at most {MAX_MODALITIES} modalities (one ridge map per "
                f"source set), got {len(modalities)}."
            )
        check_labels_key(mdata, labels_key)
        register(cls, mdata, locals(), modalities=modalities, labels_key=labels_key, layer=layer)

    @classmethod
    def setup_anndata(cls, adata, **kwargs):
        """Not available: a cross-modal model needs a MuData with several modalities."""
        raise TypeError(
            "CrossModalVAE needs several modalities: use CrossModalVAE.setup_mudata on a MuData."
        )

    def train(
        self,
        max_epochs: int = 300,
        *,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-3,
        kl_weight: float = 1.0,
        kl_warmup_fraction: float = 0.3,
        align_weight: float = 1.0,
        cross_weight: float = 1.0,
        validation_fraction: float = 0.1,
        calibration_fraction: float = 0.2,
        refit: bool = True,
        patience: int | None = None,
        accelerator: str = "auto",
        devices="auto",
        strategy: str = "auto",
        precision: str | int | None = None,
        seed: int = 0,
        progress_bar: bool = True,
    ) -> None:
        """Fit every modality's transform on the registered samples, then train on them except
        the calibration samples, from weights drawn anew from ``seed``. What is fitted is saved
        with the model: :meth:`load` with other data never refits it.

        Parameters
        ----------
        max_epochs
            Upper bound; training stops when the validation translation error stops improving.
        batch_size
            Samples per step.
        lr
            Adam learning rate.
        weight_decay
            L2 penalty on all weights (regularisation for small cohorts).
        kl_weight
            Weight of the KL term (1: the evidence lower bound).
        kl_warmup_fraction
            Fraction of the steps over which the KL weight rises linearly from 0.
        align_weight
            Weight of the squared distance between posterior means of paired modalities: pulls
            a sample's codes from different modalities to the same point.
        cross_weight
            Weight of cross-reconstruction (decoding modality B from A's code): the term that
            makes translation work.
        validation_fraction
            Fraction of the (non-calibration) samples with every modality held out to pick the
            best epoch.
        calibration_fraction
            Fraction of the samples with two or more modalities (at least
            :data:`MIN_CALIBRATION`) held out from training altogether: on them the weights of
            the ridge maps and source subsets are chosen (``linear_blend``,
            ``source_combination``) and the conformal intervals of :meth:`predict_interval` are
            calibrated, on the same samples: the intervals' residuals are in-sample for those
            few weights (measured coverage of 90 % intervals on held-out samples: 0.89-0.92).
            Interval coverage on new samples is only guaranteed by samples the model never saw.
            0.2 trades a fifth of the training samples (the ridge maps are then
            refitted on all of them) for a calibration set of about 50 samples in a cohort of
            250. 0: no intervals, and ``linear_blend="auto"`` falls back to 0.5.
        refit
            After calibrating, train the members again on every sample (calibration samples
            included; same seeds), and use those. On a few hundred samples a fifth more data
            is worth much to the VAE; the blend weights and interval scores from the first
            training are kept: the refitted model is at least as accurate on average, so its
            intervals err on the wide side. Doubles the training time; False keeps the first
            training (exactly calibrated, less accurate).
        patience
            Epochs without improvement before stopping; None: about 150 optimiser steps
            worth, between 5 and 30 epochs, so small and large data sets stop alike.
        accelerator, devices
            Lightning Fabric's hardware arguments; ``"auto"`` uses a GPU when one is visible, and
            the data then lives on the GPU for the whole training.
        strategy
            Lightning's strategy, e.g. ``"ddp"`` with ``devices=4`` for data-parallel training
            on four GPUs (or CPU processes); ``batch_size`` is per process. Run DDP from a script:
            Lightning starts the other processes by running it again.
        precision
            Lightning's precision, e.g. ``"bf16-mixed"`` or ``"16-mixed"`` on a GPU; None: 32-bit.
        seed
            Seed of weights, noise, batch order, validation and calibration split.
        progress_bar
            Show a progress bar over epochs.
        """
        self._train(
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            kl_weight=kl_weight,
            kl_warmup_fraction=kl_warmup_fraction,
            align_weight=align_weight,
            cross_weight=cross_weight,
            validation_fraction=validation_fraction,
            calibration_fraction=calibration_fraction,
            refit=refit,
            patience=patience,
            accelerator=accelerator,
            devices=devices,
            strategy=strategy,
            precision=precision,
            seed=seed,
            progress_bar=progress_bar,
        )

    def _check_pair(self, source, target: str) -> tuple[str, ...]:
        """``source`` (a name or a list) as a tuple in the model's modality order, checked."""
        if target not in self.modalities:
            raise KeyError(
                f"target={target!r}: the model was trained on {self.modalities}, not on {target!r}."
            )
        sources = [source] if isinstance(source, str) else list(source)
        if not sources:
            raise ValueError(
                "source is empty: name one or more modalities, or None for every modality a sample "
                "has."
            )
        for mod in sources:
            if mod not in self.modalities:
                raise KeyError(
                    f"source={mod!r}: the model was trained on {self.modalities}, not on {mod!r}."
                )
        if target in sources:
            raise ValueError(
                f"source and target both contain {target!r}; translation needs two modalities."
            )
        if len(set(sources)) != len(sources):
            raise ValueError(f"source names a modality twice: {sources}.")
        return tuple(m for m in self.modalities if m in sources)

    def blend_weights(self, source, target: str) -> pd.DataFrame:
        """How :meth:`translate` combines its predictors for ``source`` -> ``target``.

        One row per subset of the sources that gets weight: ``vae_weight`` (its VAE translation)
        and ``ridge_weight`` (its ridge map), non-negative and summing to 1 over the table; see
        ``linear_blend`` and ``source_combination``. Calibrated on the samples that training held
        out (``calibration`` column True); without calibration samples, the fixed fallback
        (False). The weights that the stored model uses, in a readable form: the same as
        ``calibration_[...]["combination"]``.

        Parameters
        ----------
        source
            A modality name or a list of them.
        target
            The modality translated into.
        """
        self._require_trained()
        sources = self._check_pair(source, target)
        calibrated = calibration_key(sources, target) in self.calibration_
        rows = [
            {
                "sources": "+".join(sub),
                "vae_weight": float(a),
                "ridge_weight": float(b),
                "calibration": calibrated,
            }
            for sub, a, b in self._combination(sources, target, None)
        ]
        return pd.DataFrame(rows, columns=["sources", "vae_weight", "ridge_weight", "calibration"])

    def _groups(
        self, data, source, target: str
    ) -> tuple[pd.Index, list[tuple[tuple[str, ...], np.ndarray]]]:
        """The samples a translation covers, and which of them use which source set.

        An explicit ``source``: the samples that have every source (in the first source's order),
        one group. ``None``: every sample of ``data.obs_names`` with at least one modality
        besides ``target``, grouped by the set of modalities it has.
        """
        if source is not None:
            sources = self._check_pair(source, target)
            first = source if isinstance(source, str) else list(source)[0]
            obs = self._modality_adata(data, first).obs_names
            for m in sources:
                obs = obs[obs.isin(self._modality_adata(data, m).obs_names)]
            return obs, [(sources, np.arange(len(obs)))]
        self._check_pair([m for m in self.modalities if m != target], target)
        if not isinstance(data, md.MuData):
            raise TypeError(
                "source=None needs a MuData (a sample's modalities are read from it); pass source= "
                "for an AnnData."
            )
        available = [m for m in self.modalities if m != target and m in data.mod]
        if not available:
            raise KeyError(
                "the data has none of the modalities "
                f"{[m for m in self.modalities if m != target]} to translate {target!r} from."
            )
        has = np.column_stack([data.obs_names.isin(data.mod[m].obs_names) for m in available])
        keep = has.any(axis=1)
        obs = data.obs_names[keep]
        patterns = has[keep]
        groups = []
        for pattern in np.unique(patterns, axis=0):
            rows = np.flatnonzero((patterns == pattern).all(axis=1))
            groups.append((tuple(m for m, p in zip(available, pattern) if p), rows))
        return obs, groups

    def _combination(
        self, sources: tuple[str, ...], target: str, linear_blend
    ) -> list[tuple[tuple[str, ...], float, float]]:
        """``[(subset of sources, VAE weight, ridge weight), ...]`` that translate ``sources``
        into ``target``: the calibrated combination (see ``source_combination``), or with
        ``linear_blend`` given, ``sources`` alone with that ridge weight."""
        if linear_blend is not None:
            if not (isinstance(linear_blend, (int, float)) and 0 <= linear_blend <= 1):
                raise ValueError(f"linear_blend must be in [0, 1], got {linear_blend!r}.")
            return [(sources, 1.0 - float(linear_blend), float(linear_blend))]
        entry = self.calibration_.get(calibration_key(sources, target))
        if entry is not None:
            return [(tuple(sub), a, b) for sub, a, b in entry["combination"]]
        w = 0.5 if self.linear_blend == "auto" else float(self.linear_blend)
        return [(sources, 1.0 - w, w)]

    def _model_space_prediction(
        self, data, source, target: str, linear_blend, n_samples: int = 0, generator=None
    ):
        """Model-space translation of every covered sample: ``(obs_names, prediction, groups)``;
        with ``n_samples`` draws, the prediction has a leading axis of draws."""
        self._require_trained()
        obs, groups = self._groups(data, source, target)
        d = self.module.n_inputs[target]
        lead = () if n_samples == 0 else (n_samples * len(self.module.members),)
        out = np.empty((*lead, len(obs), d), dtype=np.float32)
        cache = {}
        for sources, rows in groups:
            xs = {}
            for m in sources:
                if m not in cache:
                    cache[m] = self._model_space(data, m)
                Z, names = cache[m]
                xs[m] = torch.from_numpy(np.ascontiguousarray(Z[names.get_indexer(obs[rows])]))
            pred = 0.0
            for sub, a, b in self._combination(sources, target, linear_blend):
                part = {m: xs[m] for m in sub}
                if a > 0:
                    deep = self.module.translate(
                        part, target, linear_blend=0.0, n_samples=n_samples, generator=generator
                    )
                    pred = pred + a * deep.numpy()
                if b > 0:  # no draws: broadcast over them
                    pred = pred + b * self.module.linear_map(part, target).numpy()
            out[..., rows, :] = pred
        return obs, out, groups

    def translate(
        self,
        mdata: md.MuData | ad.AnnData | None = None,
        *,
        source: str | list[str] | None = "mrna",
        target: str = "meth",
        n_samples: int = 1,
        return_std: bool = False,
        seed: int | None = 0,
        linear_blend: float | None = None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predict ``target`` from one or several source modalities.

        Parameters
        ----------
        mdata
            Data with the source modalities (a MuData, or for one source the source AnnData
            itself); default: the registered data. Its features must equal those of training.
        source
            A modality, a list of modalities, or None: for every sample, every modality it has
            besides ``target``. Several sources: the VAE's posteriors of a set of sources are
            combined as a product of experts with the prior, its ridge map uses the
            concatenated sources, and the translations of the subsets of the sources are
            combined as calibrated (``source_combination`` of the model).
        target
            The modality to predict.
        n_samples
            1: decode the posterior mean (the best point prediction). More: decode that many
            posterior draws per ensemble member and return their mean, so that ``return_std`` can
            show the spread.
        return_std
            Also return the per-value standard deviation over the posterior draws (needs
            ``n_samples > 1``). This spread is the VAE's own and is not calibrated: for intervals
            that cover the truth as often as promised, use :meth:`predict_interval`.
        seed
            Seed of the posterior draws.
        linear_blend
            Override the blend weight of the ridge map for this call (0: the VAE alone), using
            the sources given together only (no combination of their subsets); None: the
            model's calibrated combination.

        Returns
        -------
        Array (covered samples, target features) in the target's original units (beta values
        stay in (0, 1)). Rows: one source: the source modality's ``obs_names``; a list: those of
        them that have every source; None: ``mdata.obs_names`` of the samples with at least one
        modality besides the target.
        """
        if (
            isinstance(n_samples, bool)
            or not isinstance(n_samples, (int, np.integer))
            or n_samples < 1
        ):
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        self._require_trained()
        if return_std and n_samples < 2:
            raise ValueError("return_std needs n_samples > 1 posterior draws.")
        self._check_pair(
            source if source is not None else [m for m in self.modalities if m != target], target
        )
        data = self._as_mudata(mdata, source)
        pipeline = self._pipeline(target)
        if n_samples == 1:
            return pipeline.inverse(
                self._model_space_prediction(data, source, target, linear_blend)[1]
            )
        generator = torch.Generator()
        generator.manual_seed(int(seed) if seed is not None else int(torch.seed() % 2**63))
        draws = self._model_space_prediction(
            data, source, target, linear_blend, n_samples=int(n_samples), generator=generator
        )[1]
        values = np.stack([pipeline.inverse(d) for d in draws])
        mean = values.mean(axis=0)
        return (mean, values.std(axis=0)) if return_std else mean

    def _as_mudata(self, mdata, source):
        data = self.adata if mdata is None else mdata
        if isinstance(data, ad.AnnData):
            if not isinstance(source, str):
                raise TypeError(
                    "an AnnData holds one modality: pass source=<its modality name>, or pass a "
                    "MuData."
                )
            data = make_mudata({source: data})
        return data

    def predict_interval(
        self,
        mdata: md.MuData | ad.AnnData | None = None,
        *,
        source: str | list[str] | None = "mrna",
        target: str = "meth",
        level: float = 0.9,
        space: str = "auto",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Prediction intervals for :meth:`translate`, calibrated on samples held out from training.

        Split-conformal on normalised residuals: on the calibration samples (see
        :meth:`train`), in model space (z-scored; beta values in logit space), each residual is
        divided by its feature's root mean squared calibration residual; the interval is the
        point translation plus or minus that feature's scale times the ``level`` quantile of
        these scores, pooled over all features, and is then mapped back to the original units
        (monotone per feature, so beta values stay in (0, 1)).

        Why normalised and pooled: features differ widely in how well they can be predicted, so
        one width for all would over-cover the easy ones and under-cover the hard ones; a
        quantile per feature would rest on the few dozen calibration samples alone and be
        noisy (and wider, by the finite-sample correction). Pooling the normalised scores over
        features estimates one quantile from thousands of values; the per-feature scale carries
        the differences. Coverage is guaranteed on average over features and new samples
        exchangeable with the calibration ones, not for every feature separately.

        Parameters
        ----------
        mdata, source, target
            As in :meth:`translate`; the same rows.
        level
            Intended fraction of true values inside their interval, in (0, 1).
        space
            Where the residuals are normalised and the interval built, for targets whose
            transform is not affine (beta values: logit; counts: log1p); for z-scored data both
            are the same interval. ``"model"``: model space, as above (intervals narrow towards
            0 and 1, as beta values do). ``"original"``: the same calibration on residuals in
            original units, the interval clipped to the data type's range (beta values:
            ``[1e-6, 1 - 1e-6]``). ``"auto"`` (default): per source set, the one whose
            intervals are narrower on average on the calibration samples at this ``level``
            (both have the intended coverage there). Why: which one is narrower depends on the
            data, and neither is right everywhere: on real tumours (TCGA-BRCA 2012, mRNA ->
            methylation) logit-space intervals were narrower by up to 3 %, on the course data
            (5000 samples) those in beta units by 5-6 %, at the same coverage of held-out
            samples.
            Choosing the narrower of two calibrations on the same samples weakens the guarantee
            (by a union bound, coverage >= ``2 * level - 1`` at worst); in the benchmarks the
            coverage of the choice stayed that of either calibration.

        Returns
        -------
        ``(lower, upper)``, arrays shaped like :meth:`translate`'s output, original units.
        """
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise ValueError(f"level must be in (0, 1), got {level!r}.")
        self._require_trained()
        self._check_pair(
            source if source is not None else [m for m in self.modalities if m != target], target
        )
        data = self._as_mudata(mdata, source)
        if space not in ("auto", "model", "original"):
            raise ValueError(f"space must be 'auto', 'model' or 'original', got {space!r}.")
        obs, pred, groups = self._model_space_prediction(data, source, target, None)
        lower = np.empty(pred.shape, dtype=np.float64)
        upper = np.empty(pred.shape, dtype=np.float64)
        for sources, rows in groups:
            entry = self.calibration_.get(calibration_key(sources, target))
            if entry is None:
                raise ValueError(
                    f"no calibration for {'+'.join(sources)} -> {target}: train with "
                    "calibration_fraction > 0 "
                    f"and at least {MIN_CALIBRATION} held-out samples that have "
                    f"{', '.join((*sources, target))}."
                )
            if self._interval_space(entry, target, level, space) == "model":
                lower[rows], upper[rows] = self._model_interval(entry, target, pred[rows], level)
            else:
                lower[rows], upper[rows] = self._original_interval(
                    entry, target, self._pipeline(target).inverse(pred[rows]), level
                )
        return lower, upper

    def _model_interval(self, entry, target, center, level):
        """``center`` (model space) plus or minus the model-space calibration's half width, in
        original units and clipped to the data type's range (log1p counts can reach -1 below)."""
        pipeline = self._pipeline(target)
        half = conformal_quantile(entry["scores"], entry["n_samples"], level) * entry["scale"]
        lower, upper = pipeline.inverse(center - half), pipeline.inverse(center + half)
        if self.data_types_[target] == "counts":  # beta values: the inverse logit is in (0, 1)
            lower = np.maximum(lower, 0.0)
        return lower, upper

    def _original_interval(self, entry, target, center, level):
        """``center`` (original units) plus or minus the original-unit calibration's half width,
        clipped to the data type's range."""
        cal = entry["original"]
        half = conformal_quantile(cal["scores"], entry["n_samples"], level) * cal["scale"]
        lo, hi = {"beta": (BETA_EPS, 1 - BETA_EPS), "counts": (0.0, None)}[self.data_types_[target]]
        return np.clip(center - half, lo, hi), np.clip(center + half, lo, hi)

    def _interval_space(self, entry, target: str, level: float, space: str) -> str:
        """``"model"`` or ``"original"``: where the interval of ``entry`` is calibrated (see
        :meth:`predict_interval`)."""
        if "original" not in entry or space == "model":
            return "model"  # an affine transform (z-score): both are the same interval
        if space == "original":
            return "original"
        cal = entry["original"]["prediction"]
        model_lower, model_upper = self._model_interval(entry, target, cal, level)
        model_width = np.mean(model_upper - model_lower)
        lower, upper = self._original_interval(
            entry, target, self._pipeline(target).inverse(cal), level
        )
        return "original" if np.mean(upper - lower) < model_width else "model"

    def get_latent_representation(
        self, mdata: md.MuData | None = None, modality: str | None = None
    ) -> np.ndarray:
        """Posterior means of the shared latent space (the first ensemble member's).

        ``modality=None``: the joint code of every sample of ``mdata``, the product of experts of
        the modalities it has (rows in ``mdata.obs_names`` order). ``modality="mrna"``: the code
        from that modality's encoder, for the samples that have it.
        """
        data = self.adata if mdata is None else mdata
        if modality is not None:
            if modality not in self.modalities:
                raise KeyError(
                    f"modality={modality!r}: the model was trained on {self.modalities}."
                )
            return self._encode(data, modality)[0]
        self._require_trained()
        member = self.module.members[0]
        experts, weights = [], []
        for mod in self.modalities:
            if mod not in data.mod:
                continue
            Z, obs = self._model_space(data, mod)
            rows = data.obs_names.get_indexer(obs)
            full = np.zeros((data.n_obs, Z.shape[1]), dtype=np.float32)
            full[rows] = Z
            present = np.zeros(data.n_obs, dtype=np.float32)
            present[rows] = 1
            with torch.no_grad():
                experts.append(member.encoders[mod](torch.from_numpy(full)))
            weights.append(torch.from_numpy(present))
        count = torch.stack(weights).sum(dim=0).numpy() if weights else np.zeros(data.n_obs)
        if (count == 0).any():
            missing = data.obs_names[count == 0]
            raise ValueError(
                f"{len(missing)} sample(s) have none of the modalities {self.modalities}, e.g. "
                f"{missing[0]}."
            )
        with torch.no_grad():
            mu, _ = product_of_experts(experts, weights)
        return mu.numpy()


def rows_of(positions: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Rows of a modality whose samples sit at ``positions`` that hold ``samples`` (-1: absent)."""
    row = np.full(
        max(int(positions.max(initial=-1)), int(np.max(samples, initial=-1))) + 1,
        -1,
        dtype=np.int64,
    )
    row[positions] = np.arange(len(positions))
    return row[samples]


def simplex_least_squares(columns: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """Weights ``w >= 0``, ``sum(w) = 1`` minimising ``||sum_k w_k columns[k] - y||^2``, pooled
    over every entry of the arrays (samples x features).

    Exact, by a reduction to non-negative least squares: with ``c_k = columns[k] - y`` the
    objective is ``||C w||^2`` (the weights sum to 1), and ``v = argmin_{v >= 0} ||C v||^2 +
    (sum(v) - 1)^2`` is ``w / (1 + min ||C w||^2)``, so ``w = v / sum(v)``. ``C`` enters only
    through its k x k Gram matrix (square root by eigendecomposition), so the cost does not grow
    with the data. Among columns that cannot be told apart (equal ones), the solver's choice
    gets the weight.
    """
    from scipy.optimize import nnls

    C = np.stack([np.asarray(c, dtype=np.float64).ravel() for c in columns], axis=1)
    C -= np.asarray(y, dtype=np.float64).ravel()[:, None]
    gram = C.T @ C
    k = gram.shape[0]
    norm = np.trace(gram) / k
    if k == 1 or norm <= 0:
        return np.full(k, 1.0 / k)
    values, vectors = np.linalg.eigh(gram / norm)  # scale-free: the weights do not depend on it
    root = np.sqrt(np.clip(values, 0, None))[:, None] * vectors.T
    v, _ = nnls(np.vstack([root, np.ones((1, k))]), np.r_[np.zeros(k), 1.0])
    return v / v.sum()


class _ResidentData:
    """Every sample that has a registered modality, in memory and on the training device: the
    matrices as given (on the CPU, the user's own arrays), transformed batch by batch."""

    def __init__(
        self,
        model: _VAEModel,
        validation_fraction: float,
        fabric,
        *,
        calibration_fraction: float = 0.0,
        seed: int = 0,
    ):
        names, raw, positions = model._resident_data()
        self.resident = (raw, positions)
        self.fabric = fabric
        self.n_obs = len(names)
        every = np.arange(self.n_obs)
        self.X, self.row_of, self.present, self.transform = {}, {}, {}, {}
        for m, X in raw.items():
            with (
                warnings.catch_warnings()
            ):  # a read-only array is fine: training never writes to it
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                self.X[m] = fabric.to_device(torch.from_numpy(X))
            row = rows_of(positions[m], every)
            self.present[m] = fabric.to_device(torch.from_numpy((row >= 0).astype(np.float32)))
            if not np.array_equal(row, every):  # else every sample, in order: rows index X directly
                self.row_of[m] = fabric.to_device(torch.from_numpy(row))
            self.transform[m] = Pipeline.from_state(model.pipeline_state_[m]).on_device(
                fabric.device
            )
        # Calibration samples (for blend weights and intervals) come from samples with two or
        # more modalities, drawn from the seed; they take no part in training at all.
        count = sum((rows_of(p, every) >= 0).astype(int) for p in positions.values())
        multi = np.flatnonzero(count >= 2)
        n_cal = int(round(calibration_fraction * len(multi)))
        if 0 < n_cal < MIN_CALIBRATION:
            warnings.warn(
                f"calibration_fraction={calibration_fraction} gives {n_cal} calibration samples, "
                "fewer than "
                f"{MIN_CALIBRATION}: none are held out, so there are no intervals and "
                "linear_blend='auto' falls "
                "back to 0.5.",
                stacklevel=4,
            )
            n_cal = 0
        self.calibration = (
            np.sort(np.random.default_rng([seed, 1]).permutation(multi)[:n_cal])
            if n_cal
            else np.empty(0, dtype=np.int64)
        )
        self.all_complete = functools.reduce(np.intersect1d, positions.values())
        self.validation_fraction = validation_fraction
        self._split()

    def _split(self) -> None:
        # Validation rows come from samples with every modality: translation is what is validated.
        self.complete = np.setdiff1d(self.all_complete, self.calibration)
        self.n_val = int(round(self.validation_fraction * len(self.complete)))
        self.n_train = self.n_obs - len(self.calibration) - self.n_val

    def release_calibration(self) -> None:
        """Train on the calibration samples too from now on."""
        self.calibration = np.empty(0, dtype=np.int64)
        self._split()

    def take(self, rows: torch.Tensor) -> tuple[dict, dict]:
        """Model-space rows (zeros where a sample lacks a modality) and presence masks."""
        xs, present = {}, {}
        for m, X in self.X.items():
            present[m] = self.present[m][rows]
            if m not in self.row_of:
                xs[m] = self.transform[m](X[rows])
                continue
            row = self.row_of[m][rows]
            xs[m] = self.transform[m](X[row.clamp(min=0)]).masked_fill_((row < 0)[:, None], 0.0)
        return xs, present

    def member(self, member, member_seed: int, batch_size: int, rng: torch.Generator):
        val_idx = np.sort(
            np.random.default_rng(member_seed).permutation(self.complete)[: self.n_val]
        )
        train_idx = np.setdiff1d(np.arange(self.n_obs), np.union1d(val_idx, self.calibration))
        batches = ResidentBatches(
            self.take,
            train_idx,
            batch_size,
            rng,
            device=self.fabric.device,
            rank=self.fabric.global_rank,
            world_size=self.fabric.world_size,
        )
        val_t = torch.as_tensor(val_idx, dtype=torch.long, device=self.fabric.device)
        n_features = sum(X.shape[1] for X in self.X.values())
        validate = (
            (lambda: validation_error(member, self.take, val_t, n_features))
            if len(val_idx)
            else None
        )
        return batches, validate


class _OnDiskData:
    """A backed modality: blocks read from disk per epoch; only the validation rows in memory."""

    resident = None  # no closed-form linear maps: they would need the whole matrix
    calibration = np.empty(0, dtype=np.int64)

    def __init__(
        self,
        model: _VAEModel,
        adata: ad.AnnData,
        modality: str | None,
        validation_fraction: float,
        buffer_mb: float,
        fabric,
    ):
        self.key, self.fabric = model._key(modality), fabric
        self.disk = OnDiskMatrix(adata, buffer_mb=buffer_mb, name=model._name(modality))
        self.pipeline = model._pipeline(modality)
        self.validation_fraction = validation_fraction
        # validation rows stay in memory: at most a pool's worth (and 2048)
        self.max_validation = min(2048, POOLED_BLOCKS * self.disk.block_rows)
        self.n_train = self.disk.n_obs - len(self._validation_rows(0))

    def _validation_rows(self, seed: int) -> np.ndarray:
        return validation_rows(
            self.disk.n_obs, self.validation_fraction, seed, maximum=self.max_validation
        )

    def member(self, member, member_seed: int, batch_size: int, rng: torch.Generator):
        val_idx = self._validation_rows(member_seed)
        batches = OnDiskBatches(
            self.disk,
            self.pipeline,
            batch_size,
            rng,
            exclude=val_idx,
            device=self.fabric.device,
            key=self.key,
            rank=self.fabric.global_rank,
            world_size=self.fabric.world_size,
        )
        if not len(val_idx):
            return batches, None
        X_val = self.fabric.to_device(
            torch.from_numpy(self.disk.rows(val_idx, self.pipeline.transform))
        )
        ones = torch.ones(len(val_idx), device=self.fabric.device)
        rows = torch.arange(len(val_idx), device=self.fabric.device)
        return batches, lambda: validation_error(
            member, lambda r: ({self.key: X_val[r]}, {self.key: ones[r]}), rows, X_val.shape[1]
        )
