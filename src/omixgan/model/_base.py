"""What every omixgan model shares: scvi-tools registration, data access, input checks, save/load.

Registration goes through scvi-tools' :class:`~scvi.data.AnnDataManager`, so ``setup_anndata`` /
``setup_mudata``, ``view_anndata_setup`` and ``save`` / ``load`` behave as in scvi-tools. Models
read their data through that registry, as scvi-tools models do: every entry point that takes data
validates it (``_validate_anndata``, or the registry transferred to new data), matrices come from
``get_from_registry`` (the registered modality and layer), labels from the registered categorical
field, sizes from ``summary_stats``. A matrix is then used as one dense float32 array: omics
tables fit in memory, and the training loops keep them resident on the device (see
:mod:`omixgan.train`).
"""

from __future__ import annotations

import functools
import inspect
import os
import pickle
import warnings
import zipfile
from collections.abc import Sequence
from uuid import uuid4

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch
from scvi import REGISTRY_KEYS
from scvi.data import AnnDataManager
from scvi.data._constants import (
    _DR_ATTR_KEY,
    _DR_ATTR_NAME,
    _FIELD_REGISTRIES_KEY,
    _SCVI_UUID_KEY,
    _STATE_REGISTRY_KEY,
)
from scvi.data._manager import AnnDataManagerValidationCheck
from scvi.data._utils import get_anndata_attribute
from scvi.data.fields import (
    CategoricalObsField,
    LayerField,
    MuDataCategoricalObsField,
    MuDataLayerField,
)
from scvi.model.base import BaseModelClass
from scvi.model.base._constants import SAVE_KEYS

from .._settings import settings, thread_limit
from .._utils import (
    DATA_TYPE_KEY,
    DataType,
    check_labels_key,
    check_modalities,
    check_unique_names,
    is_count_matrix,
    make_mudata,
    missing_layer,
    raise_feature_mismatch,
    row_blocks,
    stacklevel_outside_package,
    to_dense,
)
from ..pp import Pipeline, declared_data_type, resolve_data_type
from ..train import check_seed, isolated_rng

#: Registry key of a modality's matrix; the first modality also uses scvi's plain "X".
X_PREFIX = "X_"


def x_key(modality: str | None) -> str:
    return REGISTRY_KEYS.X_KEY if modality is None else f"{X_PREFIX}{modality}"


def register(
    cls, data, setup_locals: dict, *, modalities: Sequence[str] | None, labels_key, layer
) -> None:
    """Register ``data`` with an scvi-tools AnnDataManager for model class ``cls``."""
    check_unique_names(data, modalities)
    check_layer_present(data, modalities, layer)
    setup_method_args = cls._get_setup_method_args(**setup_locals)
    # Partly paired MuData (samples lacking a modality) is what imputation is for: allow it.
    checks = AnnDataManagerValidationCheck(check_fully_paired_mudata=False)
    if modalities is None:
        fields = [
            LayerField(REGISTRY_KEYS.X_KEY, layer, is_count_data=False),
            CategoricalObsField(REGISTRY_KEYS.LABELS_KEY, labels_key),
        ]
    else:
        fields = [
            MuDataLayerField(
                REGISTRY_KEYS.X_KEY if i == 0 else x_key(mod),
                layer,
                mod_key=mod,
                is_count_data=False,
                mod_required=True,
            )
            for i, mod in enumerate(modalities)
        ]
        fields.append(MuDataCategoricalObsField(REGISTRY_KEYS.LABELS_KEY, labels_key, mod_key=None))
    manager = AnnDataManager(
        fields=fields, setup_method_args=setup_method_args, validation_checks=checks
    )
    manager.register_fields(data, **setup_locals.get("kwargs", {}))
    cls.register_manager(manager)


def check_layer_present(data, modalities: Sequence[str] | None, layer: str | None) -> None:
    """``layer`` must be in every registered modality. A ValueError, as scvi-tools' own check
    raises, but naming the modality and the layers it has: a CITE-seq object often has
    ``layers["counts"]`` in ``rna`` alone."""
    if layer is None:
        return
    for mod in modalities or [None]:
        adata = data if mod is None else data.mod[mod]
        if layer not in adata.layers:
            where, name = (
                ("the AnnData", "adata")
                if mod is None
                else (
                    f"modality {mod!r} (setup reads it from every registered modality)",
                    f"mdata[{mod!r}]",
                )
            )
            raise ValueError(
                f"layer {layer!r} not found in {where}; its layers: {list(adata.layers)}. Add it "
                f"(e.g. `{name}.layers[{layer!r}] = {name}.X.copy()` when .X holds the raw "
                "values) or pass layer=None."
            )


#: Public model methods that compute with torch: they run on the thread count of
#: :data:`omixgan.settings` and with torch's global generators forked (see :class:`OmixModel`).
GUARDED_METHODS = (
    "__init__",
    "train",
    "sample",
    "translate",
    "predict_interval",
    "impute",
    "decode",
    "encode",
    "get_latent_representation",
)


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")


def _guard(method):
    """Wrap a model method: check ``seed`` / ``n_samples`` arguments, run on the thread count of
    ``omixgan.settings``, and leave torch's global generators as they were."""
    if getattr(method, "__omixgan_guarded__", False):
        return method
    signature = inspect.signature(method)

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return method(self, *args, **kwargs)  # let Python name the bad argument
        arguments = bound.arguments
        if "seed" in arguments:
            check_seed(arguments["seed"], allow_none=True)
        if "n_samples" in arguments:
            _check_count("n_samples", arguments["n_samples"])
        module = getattr(self, "module", None)
        n_parameters = sum(p.numel() for p in module.parameters()) if module is not None else 0
        with thread_limit(settings.threads_for(n_parameters)), isolated_rng():
            return method(self, *args, **kwargs)

    guarded.__omixgan_guarded__ = True
    return guarded


class OmixModel(BaseModelClass):
    """Base class of omixgan models (scvi-tools :class:`~scvi.model.base.BaseModelClass`).

    Every public method that computes (:data:`GUARDED_METHODS`, in any subclass, the
    constructor too: building layers draws their initial weights) runs with torch's global
    random generators forked, so seeding or drawing inside (dropout needs the global one) never
    changes the caller's generators, and on the CPU thread count of
    :data:`omixgan.settings` (torch's own setting is restored afterwards).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in GUARDED_METHODS:
            if name in cls.__dict__ and callable(cls.__dict__[name]):
                setattr(cls, name, _guard(cls.__dict__[name]))

    def __repr__(self) -> str:
        # plain text: scvi-tools' rich summary prints terminal colour codes into notebooks
        status = "trained" if self.is_trained_ else "not trained yet"
        return f"{self._model_summary_string}\n{self._data_type_summary()}Training status: {status}"

    def _require_trained(self) -> None:
        """A RuntimeError naming the model class when it has been neither trained nor loaded."""
        self._check_if_trained(
            warn=False,
            message=f"this {type(self).__name__} is not trained yet: call train() first.",
        )

    def _data_type_summary(self) -> str:
        """One line per modality: how it is modelled and why (see ``resolve_data_type``)."""
        types = getattr(self, "data_types_", None)
        if types is None and getattr(self, "data_type_", None) is not None:
            types = {(self.modalities or ["X"])[0]: self.data_type_}
        lines = []
        for mod, data_type in (types or {}).items():
            reason = getattr(data_type, "reason", "")
            lines.append(f"Data type of {mod}: {data_type}{f' ({reason})' if reason else ''}\n")
        return "".join(lines)

    # --- registered data ---------------------------------------------------------------------
    @property
    def setup_args(self) -> dict:
        """The arguments given to ``setup_anndata`` / ``setup_mudata`` (a copy).

        Saved with the model and checked on :meth:`load`, so a loaded model reads the same
        modalities, layer and label column as the one that was trained.
        """
        return dict(self.registry_["setup_args"])

    @property
    def labels_key(self) -> str | None:
        """The ``.obs`` column of class labels registered at setup (None when there is none)."""
        return self.setup_args.get("labels_key")

    @property
    def modalities(self) -> list[str] | None:
        """Registered modalities (None for a model set up on an AnnData)."""
        args = self.setup_args
        if "modalities" in args:
            return list(args["modalities"])
        if "modality" in args:
            return [args["modality"]]
        return None

    def _validated_manager(
        self, data: ad.AnnData | md.MuData | None = None, *, remember: bool = True
    ) -> AnnDataManager:
        """The scvi-tools :class:`~scvi.data.AnnDataManager` through which this model reads
        ``data`` (default: the registered data), as scvi-tools models do.

        Data this model knows (the registered data, or new data seen before) goes through
        :meth:`_validate_anndata`, which replays the setup when another setup has overwritten
        it since. New data gets the registry transferred to it
        (:meth:`~scvi.data.AnnDataManager.transfer_fields`: the same number of features per
        modality, the registered layer, the label categories), which is then remembered for
        the model, as in scvi-tools, with two differences that keep omixgan's use cases
        working: a MuData may lack registered modalities or the labels column (translating
        needs the source modality only, and labels play no part in translating or encoding),
        and then only the fields it has are transferred (not remembered); and unseen labels
        extend the categories instead of failing. A view is read from a copy: scvi-tools would
        turn the caller's view into a copy in place. Errors name the modality, layer or
        feature instead of scvi-tools' generic ones. ``remember=False``: do not remember the
        transfer (for a container made inside the model).
        """
        data = self.adata if data is None else data
        if data is None:
            raise ValueError("this model has no registered data; pass the data to use.")
        self._check_registered_fields(data)
        parts = [data] + (list(data.mod.values()) if isinstance(data, md.MuData) else [])
        if any(part.is_view for part in parts):
            data, remember = data.copy(), False
        known = self._per_instance_manager_store.get(self.id, {}).get(data.uns.get(_SCVI_UUID_KEY))
        if self.adata_manager is None or (known is not None and known.adata is data):
            self._validate_anndata(data, copy_if_view=False)
            manager = self.get_anndata_manager(data, required=True)
        else:
            fields = [f for f in self.adata_manager.fields if self._field_applies(f, data)]
            manager = AnnDataManager(
                fields=fields,
                setup_method_args=self.adata_manager._get_setup_method_args(),
                validation_checks=self.adata_manager.validation_checks,
            )
            if known is not None:  # a copy of data the model knows: its own uuid, as in scvi
                data.uns[_SCVI_UUID_KEY] = str(uuid4())
            manager.register_fields(data, self.registry_, extend_categories=True)
            if remember and len(fields) == len(self.adata_manager.fields):
                self._register_manager_for_instance(manager)
        self._last_manager = manager
        return manager

    def _field_applies(self, field, data) -> bool:
        """Whether registered ``field`` can be transferred to ``data`` (see
        :meth:`_validated_manager`)."""
        mod_key = getattr(field, "mod_key", None)
        if mod_key is not None:
            return isinstance(data, md.MuData) and mod_key in data.mod
        if field.registry_key == REGISTRY_KEYS.LABELS_KEY and self.labels_key is not None:
            return self.labels_key in data.obs
        return True

    def _check_registered_fields(self, data) -> None:
        """Clear errors for what scvi-tools would report cryptically: a MuData given to an
        AnnData model, a missing registered layer, another number of features than the
        model's."""
        if isinstance(data, md.MuData) and self.modalities is None:
            raise TypeError("this model was set up on an AnnData; pass an AnnData, not a MuData.")
        if isinstance(data, ad.AnnData) and self.modalities is not None:
            raise TypeError(
                f"this model was set up on a MuData; pass a MuData with modality "
                f"{self.modalities[0]!r}."
            )
        layer = self.setup_args.get("layer")
        for mod in self.modalities or [None]:
            if mod is not None and mod not in data.mod:
                continue
            adata = data if mod is None else data.mod[mod]
            if layer is not None and layer not in adata.layers:
                where = f" in modality {mod!r}" if mod else ""
                raise missing_layer(layer, adata, where, from_setup=True)
            expected = self._registered_var_names(mod)
            if expected is not None and adata.n_vars != len(expected):
                raise_feature_mismatch(mod, expected, adata.var_names.to_numpy(dtype=str))

    def _registered_var_names(self, modality: str | None) -> np.ndarray | None:
        """The features registered for ``modality`` (the field's state registry)."""
        field = self.registry_[_FIELD_REGISTRIES_KEY].get(x_key(self._registry_modality(modality)))
        names = (field or {}).get(_STATE_REGISTRY_KEY, {}).get("column_names")
        return None if names is None else np.asarray(names, dtype=str)

    def _registry_modality(self, modality: str | None) -> str | None:
        """The registry names the first modality's matrix scvi's plain "X" (see :func:`x_key`)."""
        return None if modality is None or modality == (self.modalities or [None])[0] else modality

    def _n_vars(self, modality: str | None) -> int:
        """Number of features of ``modality``, from the registry's summary statistics."""
        key = x_key(self._registry_modality(modality))
        return int(self.summary_stats["n_vars" if key == REGISTRY_KEYS.X_KEY else f"n_{key}"])

    def _modality_adata(self, data: ad.AnnData | md.MuData, modality: str | None) -> ad.AnnData:
        """The AnnData of ``modality`` in ``data``, located through the registry once ``data``
        is validated (:meth:`_validated_manager`). An AnnData given to a model set up on a
        MuData is taken as that modality itself."""
        remember = True
        if isinstance(data, ad.AnnData) and modality is not None:
            # a container only (the AnnData is not copied), made anew on every call
            data, remember = make_mudata({modality: data.copy() if data.is_view else data}), False
        elif isinstance(data, md.MuData) and modality is not None:
            check_modalities(data, [modality], "modality")
        manager = self._validated_manager(data, remember=remember)
        if modality is None:
            return manager.adata
        return manager.adata.mod[modality]

    def _trained_var_names(self, modality: str | None) -> np.ndarray | None:
        """The features (in order) the model was fitted on for ``modality``; None before fitting."""
        names = getattr(self, "var_names_", None)
        if isinstance(names, dict):
            names = names.get(modality if modality is not None else "X")
        return None if names is None else np.asarray(names, dtype=str)

    def _registered_matrix(self, adata: ad.AnnData, modality: str | None):
        """``adata``'s registered matrix: ``get_from_registry`` of the manager that holds it
        (the data last validated); for a subset of it (rows taken inside a model), the same
        registered location (modality, ``.X`` or layer) read from the subset."""
        key = x_key(self._registry_modality(modality))
        manager = getattr(self, "_last_manager", None)
        if manager is not None and key in manager.data_registry:
            holder = manager.adata
            if holder is adata or (
                isinstance(holder, md.MuData) and holder.mod.get(modality) is adata
            ):
                return manager.get_from_registry(key)
        layer = self.setup_args.get("layer")
        if layer is not None and layer not in adata.layers:
            raise missing_layer(layer, adata, from_setup=True)
        location = AnnDataManager._get_data_registry_from_registry(self.registry_)[key]
        return get_anndata_attribute(adata, location[_DR_ATTR_NAME], location[_DR_ATTR_KEY])

    def _matrix(self, adata: ad.AnnData, modality: str | None) -> np.ndarray:
        """The registered matrix (modality, ``.X`` or layer) of ``adata`` as dense float32,
        columns in the order of the model's features (matched by name), with a clear error on NaN
        or infinite values."""
        X = self._registered_matrix(adata, modality)
        X = to_dense(X)
        expected = self._trained_var_names(modality)
        if expected is not None and X.ndim == 2 and X.shape[1] == len(expected):
            given = adata.var_names.to_numpy(dtype=str)
            if not np.array_equal(given, expected):
                order = pd.Index(given).get_indexer(expected)
                if (order < 0).any() or adata.var_names.has_duplicates:
                    raise_feature_mismatch(modality, expected, given)
                X = X[:, order]  # the same features in another order: align them by name
        # counted in row blocks: a boolean mask of a large matrix would cost a quarter of it
        n_nan = sum(int(np.isnan(X[rows]).sum()) for rows in row_blocks(X))
        n_inf = sum(int(np.isinf(X[rows]).sum()) for rows in row_blocks(X))
        if n_nan or n_inf:
            rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
            name = f"modality {modality!r}" if modality else "the data"
            what = " and ".join(
                part
                for part in (
                    f"{n_nan} missing values (NaN)" if n_nan else "",
                    f"{n_inf} infinite values (inf)" if n_inf else "",
                )
                if part
            )
            raise ValueError(
                f"{name} has {what} in {len(rows)} sample(s), e.g. "
                f"{', '.join(map(str, adata.obs_names[rows[:3]]))}. Models need complete, finite "
                "data: "
                "fill them with omixgan.pp.impute_mean (which also replaces inf) or drop those "
                "samples."
            )
        return X

    def _labels(self, data: ad.AnnData | md.MuData, obs_names: pd.Index) -> np.ndarray:
        """Labels (as strings) of ``obs_names``, read through the registered categorical field
        (codes mapped back to the category names with its state registry); all one class when
        no labels_key was set up."""
        key = self.labels_key
        if key is None:
            return np.full(len(obs_names), "all", dtype=object)
        check_labels_key(data, key)
        manager = self._validated_manager(data)
        codes = np.asarray(manager.get_from_registry(REGISTRY_KEYS.LABELS_KEY)).ravel()
        mapping = manager.get_state_registry(REGISTRY_KEYS.LABELS_KEY).categorical_mapping
        names = np.asarray(mapping)[codes.astype(np.int64)].astype(str).astype(object)
        return names[data.obs_names.get_indexer(obs_names)]

    def _check_features(self, data, modality: str | None, var_names: np.ndarray) -> None:
        """Refuse data without the model's features or with duplicated names. The same features
        in another order are fine in memory (:meth:`_matrix` aligns them by name), but not in a
        file-backed matrix, which is read as it lies."""
        check_unique_names(data, [modality] if modality is not None else None)
        adata = self._modality_adata(data, modality)
        given = adata.var_names.to_numpy(dtype=str)
        expected = np.asarray(var_names, dtype=str)
        if np.array_equal(given, expected):
            return
        same_set = len(given) == len(expected) and set(given) == set(expected)
        if not same_set or getattr(adata, "isbacked", False):
            raise_feature_mismatch(modality, expected, given)

    # --- save / load -------------------------------------------------------------------------
    def save(self, dir_path: str, *args, **kwargs) -> None:
        """Save the trained model to ``dir_path`` (scvi-tools'
        :meth:`~scvi.model.base.BaseModelClass.save`; same arguments).

        An untrained model is refused: it holds nothing fitted, and loading it would give a
        model whose outputs are random weights.
        """
        self._require_trained()
        super().save(dir_path, *args, **kwargs)

    @classmethod
    def load(
        cls,
        dir_path: str,
        adata=None,
        *,
        accelerator: str = "auto",
        device="auto",
        prefix: str | None = None,
    ):
        """Load a saved model; ``adata`` must have the features the model was trained on.

        Unlike scvi-tools, which only warns, a model refuses data whose features differ from
        training: its outputs would silently mean something else. A missing, empty, truncated or
        foreign file is an error that names it.
        """
        path = os.path.join(dir_path, f"{prefix or ''}{SAVE_KEYS.MODEL_FNAME}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no saved omixgan model in '{dir_path}' (missing '{path}').")
        if os.path.getsize(path) == 0:
            raise ValueError(
                f"the saved model '{path}' is empty (0 bytes): saving was interrupted? Save it "
                "again."
            )
        try:
            saved = torch.load(path, map_location="cpu", weights_only=False)
        except (
            EOFError,
            pickle.UnpicklingError,
            zipfile.BadZipFile,
            RuntimeError,
            OSError,
            ValueError,
        ) as err:
            raise ValueError(
                f"cannot read the saved model '{path}': the file is corrupted or not an omixgan "
                "model "
                f"({type(err).__name__}: {err}). Save the model again."
            ) from err
        if not isinstance(saved, dict) or SAVE_KEYS.ATTR_DICT_KEY not in saved:
            raise ValueError(f"'{path}' is not a saved omixgan model (no model attributes in it).")
        model_class = saved[SAVE_KEYS.ATTR_DICT_KEY].get("registry_", {}).get("model_name")
        if model_class is not None and model_class != cls.__name__:
            raise TypeError(
                f"'{path}' holds a {model_class}, not a {cls.__name__}; load it with "
                f"{model_class}.load."
            )
        if adata is not None:
            check_unique_names(adata)
            _check_saved_var_names(
                adata, saved[SAVE_KEYS.VAR_NAMES_KEY], saved[SAVE_KEYS.ATTR_DICT_KEY]["registry_"]
            )
        return super().load(dir_path, adata, accelerator=accelerator, device=device, prefix=prefix)


def _check_saved_var_names(data, saved_var_names, registry: dict) -> None:
    args = registry.get("setup_args", {})
    mods = list(args.get("modalities", [])) or ([args["modality"]] if "modality" in args else [])
    if isinstance(saved_var_names, dict):
        if not isinstance(data, md.MuData):
            raise TypeError("this model was set up on a MuData; pass a MuData to load.")
        for mod in mods or saved_var_names:
            check_modalities(data, [mod], "load")
            given = data.mod[mod].var_names.to_numpy(dtype=str)
            expected = np.asarray(saved_var_names[mod], dtype=str)
            if not np.array_equal(given, expected):
                raise_feature_mismatch(mod, expected, given)
    else:
        adata = data.mod[mods[0]] if isinstance(data, md.MuData) and mods else data
        given = adata.var_names.to_numpy(dtype=str)
        expected = np.asarray(saved_var_names, dtype=str)
        if not np.array_equal(given, expected):
            raise_feature_mismatch(mods[0] if mods else None, expected, given)


def default_pipeline(
    X: np.ndarray,
    data_type: str | None,
    modality: str | None = None,
    adata: ad.AnnData | None = None,
    *,
    from_x: bool = False,
    declare: str | None = "data_type='gaussian'",
) -> tuple[Pipeline, str]:
    """The transform a model applies to a modality: logit + z-score for beta values, else z-score.

    The data type comes from :func:`~omixgan.pp.resolve_data_type`: the declared ``data_type``,
    else the type a reader recorded on ``adata`` (``.uns["omixgan_data_type"]``, e.g. the course
    format's ``meth.txt``), else the ``modality`` name with the data; never the value range
    alone. The returned type carries the reason (``.reason``), which the model's summary shows.
    ``from_x``: ``X`` is ``adata.X`` (no layer was set up): an undeclared type other than counts
    is then a warning when a layer of ``adata`` holds counts (:func:`_warn_unused_counts_layer`;
    ``declare``: the argument that would have declared the type, named in the warning).
    """
    recorded = declared_data_type(adata) if data_type is None and adata is not None else None
    resolved = resolve_data_type(X, data_type or recorded, name=modality)
    if recorded is not None:
        resolved = DataType(
            str(resolved), f"declared {recorded!r} by the reader (.uns['{DATA_TYPE_KEY}'])"
        )
    elif data_type is None and from_x and declare and adata is not None and resolved == "gaussian":
        _warn_unused_counts_layer(adata, resolved, modality, declare)
    return Pipeline.default_for(X, resolved), resolved


def _warn_unused_counts_layer(
    adata: ad.AnnData, resolved: DataType, modality: str | None, declare: str
) -> None:
    """Warn when ``.X`` is modelled as Gaussian while a layer named like counts holds counts:
    the scanpy habit of keeping raw counts in ``layers["counts"]`` and log-normalised values in
    ``.X`` makes a forgotten ``layer=`` a model of another kind, which would otherwise only show
    in the model's summary. ``declare``: the argument that keeps ``.X`` and silences this."""
    layers = [
        k for k in adata.layers if "count" in str(k).lower() and is_count_matrix(adata.layers[k])
    ]
    if layers:
        what = f"modality {modality!r}" if modality else "the data"
        every = " (a setup layer applies to every modality)" if modality else ""
        warnings.warn(
            f"{what} is modelled from .X as {str(resolved)!r} ({resolved.reason}), but "
            f"layers[{layers[0]!r}] holds raw counts. To model the counts, set the model up with "
            f"layer={layers[0]!r}{every}; to model .X, declare {declare} (which silences this "
            "warning).",
            UserWarning,
            stacklevel=stacklevel_outside_package(),
        )
