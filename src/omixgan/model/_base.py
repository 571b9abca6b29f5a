"""What every omixgan model shares: scvi-tools registration, data access, input checks, save/load.

Registration goes through scvi-tools' :class:`~scvi.data.AnnDataManager`, so ``setup_anndata`` /
``setup_mudata``, ``view_anndata_setup`` and ``save`` / ``load`` behave as in scvi-tools. Data is
then read straight from the registered modality as one dense float32 matrix: omics tables fit in
memory, and the training loops keep them resident on the device (see :mod:`omixgan.train`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch
from scvi import REGISTRY_KEYS
from scvi.data import AnnDataManager
from scvi.data._manager import AnnDataManagerValidationCheck
from scvi.data.fields import (
    CategoricalObsField,
    LayerField,
    MuDataCategoricalObsField,
    MuDataLayerField,
)
from scvi.model.base import BaseModelClass
from scvi.model.base._constants import SAVE_KEYS

from ..pp import Pipeline, infer_data_type
from ..pp._transforms import _row_blocks as row_blocks

#: Registry key of a modality's matrix; the first modality also uses scvi's plain "X".
X_PREFIX = "X_"


def x_key(modality: str | None) -> str:
    return REGISTRY_KEYS.X_KEY if modality is None else f"{X_PREFIX}{modality}"


def check_modalities(mdata: md.MuData, modalities: Sequence[str], argument: str) -> None:
    for mod in modalities:
        if mod not in mdata.mod:
            raise KeyError(f"{argument}: {mod!r} is not a modality of this MuData; it has {list(mdata.mod)}.")


def check_modality_list(mdata: md.MuData, modalities) -> list[str]:
    """``modalities`` as a list of two or more modalities of ``mdata``, or a clear error."""
    if isinstance(modalities, str) or len(modalities) < 2:
        raise ValueError(f"modalities must name at least two modalities, got {modalities!r}.")
    modalities = list(modalities)
    check_modalities(mdata, modalities, "modalities")
    return modalities


def check_labels_key(data: ad.AnnData | md.MuData, labels_key: str | None) -> None:
    if labels_key is not None and labels_key not in data.obs:
        where = "mdata.obs" if isinstance(data, md.MuData) else "adata.obs"
        raise KeyError(
            f"labels_key={labels_key!r} is not a column of {where}; columns: {list(data.obs.columns)}. "
            "For a MuData, run mdata.pull_obs() if the labels live on a modality."
        )
    if labels_key is not None and data.obs[labels_key].isna().any():
        missing = data.obs_names[data.obs[labels_key].isna().to_numpy()]
        raise ValueError(
            f"labels_key={labels_key!r} has no label for {len(missing)} sample(s), e.g. "
            f"{', '.join(map(str, missing[:3]))}; label them or drop them."
        )


def register(cls, data, setup_locals: dict, *, modalities: Sequence[str] | None, labels_key, layer) -> None:
    """Register ``data`` with an scvi-tools AnnDataManager for model class ``cls``."""
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
                REGISTRY_KEYS.X_KEY if i == 0 else x_key(mod), layer, mod_key=mod, is_count_data=False, mod_required=True
            )
            for i, mod in enumerate(modalities)
        ]
        fields.append(MuDataCategoricalObsField(REGISTRY_KEYS.LABELS_KEY, labels_key, mod_key=None))
    manager = AnnDataManager(fields=fields, setup_method_args=setup_method_args, validation_checks=checks)
    manager.register_fields(data, **setup_locals.get("kwargs", {}))
    cls.register_manager(manager)


class OmixModel(BaseModelClass):
    """Base class of omixgan models (scvi-tools :class:`~scvi.model.base.BaseModelClass`)."""

    def __repr__(self) -> str:
        # plain text: scvi-tools' rich summary prints terminal colour codes into notebooks
        status = "trained" if self.is_trained_ else "not trained yet"
        return f"{self._model_summary_string}\nTraining status: {status}"

    # --- registered data ---------------------------------------------------------------------
    @property
    def setup_args(self) -> dict:
        return dict(self.registry_["setup_args"])

    @property
    def labels_key(self) -> str | None:
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

    def _modality_adata(self, data: ad.AnnData | md.MuData, modality: str | None) -> ad.AnnData:
        if isinstance(data, md.MuData):
            if modality is None:
                raise TypeError("this model was set up on an AnnData; pass an AnnData, not a MuData.")
            check_modalities(data, [modality], "modality")
            return data.mod[modality]
        return data  # an AnnData: the modality itself

    def _matrix(self, adata: ad.AnnData, modality: str | None) -> np.ndarray:
        """The registered layer of ``adata`` as dense float32, with a clear error on NaN."""
        layer = self.setup_args.get("layer")
        if layer is not None and layer not in adata.layers:
            raise KeyError(f"layer {layer!r} (from setup) not found; available layers: {list(adata.layers)}.")
        X = adata.X if layer is None else adata.layers[layer]
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        X = np.asarray(X, dtype=np.float32)
        # counted in row blocks: a boolean mask of a large matrix would cost a quarter of it
        n_nan = sum(int(np.isnan(X[rows]).sum()) for rows in row_blocks(X))
        if n_nan:
            rows = np.flatnonzero(np.isnan(X).any(axis=1))
            name = f"modality {modality!r}" if modality else "the data"
            raise ValueError(
                f"{name} has {n_nan} missing values (NaN) in {len(rows)} sample(s), e.g. "
                f"{', '.join(map(str, adata.obs_names[rows[:3]]))}. Models need complete data: fill them "
                "with omixgan.pp.impute_mean or drop those samples."
            )
        return X

    def _labels(self, data: ad.AnnData | md.MuData, obs_names: pd.Index) -> np.ndarray:
        """Labels (as strings) of ``obs_names``; all one class when no labels_key was set up."""
        key = self.labels_key
        if key is None:
            return np.full(len(obs_names), "all", dtype=object)
        check_labels_key(data, key)
        return data.obs.loc[obs_names, key].astype(str).to_numpy()

    def _check_features(self, data, modality: str | None, var_names: np.ndarray) -> None:
        adata = self._modality_adata(data, modality)
        if not np.array_equal(adata.var_names.to_numpy(dtype=str), np.asarray(var_names, dtype=str)):
            _raise_feature_mismatch(modality, np.asarray(var_names, dtype=str), adata.var_names.to_numpy(dtype=str))

    # --- save / load -------------------------------------------------------------------------
    @classmethod
    def load(cls, dir_path: str, adata=None, *, accelerator: str = "auto", device="auto", prefix: str | None = None):
        """Load a saved model; ``adata`` must have the features the model was trained on.

        Unlike scvi-tools, which only warns, a model refuses data whose features differ from
        training (names or order): its outputs would silently mean something else.
        """
        path = os.path.join(dir_path, f"{prefix or ''}{SAVE_KEYS.MODEL_FNAME}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no saved omixgan model in '{dir_path}' (missing '{path}').")
        if adata is not None:
            saved = torch.load(path, map_location="cpu", weights_only=False)
            _check_saved_var_names(adata, saved[SAVE_KEYS.VAR_NAMES_KEY], saved[SAVE_KEYS.ATTR_DICT_KEY]["registry_"])
        return super().load(dir_path, adata, accelerator=accelerator, device=device, prefix=prefix)


def _raise_feature_mismatch(modality, expected: np.ndarray, given: np.ndarray):
    where = f"modality {modality!r}" if modality else "the data"
    missing = [v for v in expected if v not in set(given)]
    extra = [v for v in given if v not in set(expected)]
    detail = []
    if missing:
        detail.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if extra:
        detail.append(f"{len(extra)} unknown (e.g. {', '.join(extra[:3])})")
    if not detail:
        detail.append("the same names in another order")
    raise ValueError(
        f"features of {where} differ from those the model was trained on ({len(expected)} expected, "
        f"{len(given)} given): {'; '.join(detail)}. Subset/reorder with adata[:, model_var_names]."
    )


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
                _raise_feature_mismatch(mod, expected, given)
    else:
        adata = data.mod[mods[0]] if isinstance(data, md.MuData) and mods else data
        given = adata.var_names.to_numpy(dtype=str)
        expected = np.asarray(saved_var_names, dtype=str)
        if not np.array_equal(given, expected):
            _raise_feature_mismatch(mods[0] if mods else None, expected, given)


def default_pipeline(X: np.ndarray, data_type: str | None) -> tuple[Pipeline, str]:
    """The transform a model applies to a modality: logit + z-score for beta values, else z-score."""
    data_type = data_type or infer_data_type(X)
    return Pipeline.default_for(X, data_type), data_type


def resolve_counts(n_per_class: int | dict, classes: Sequence[str]) -> dict[str, int]:
    """``n_per_class`` as ``{class: count}``; an int means that many of every class.

    A dict may name a subset of the classes; naming a class that does not exist is an error.
    """
    classes = [str(c) for c in classes]
    if isinstance(n_per_class, dict):
        counts = {str(k): v for k, v in n_per_class.items()}
        unknown = [k for k in counts if k not in classes]
        if unknown:
            raise KeyError(f"unknown class(es) {unknown} in n_per_class; known classes: {classes}.")
    else:
        counts = {c: n_per_class for c in classes}
    for cls_name, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n_per_class must be a non-negative integer per class, got {n!r} for class {cls_name!r}.")
    return {c: int(n) for c, n in counts.items()}


def synthetic_adata(X: np.ndarray, labels: np.ndarray, var_names, labels_key: str | None, *, prefix: str) -> ad.AnnData:
    """The AnnData every generator returns: ``obs[labels_key]`` (categorical), ``obs["synthetic"]``."""
    obs = pd.DataFrame(index=pd.Index([f"{prefix}_{i}" for i in range(len(X))]))
    if labels_key is not None:
        obs[labels_key] = pd.Categorical(np.asarray(labels, dtype=str))
    obs["synthetic"] = True
    return ad.AnnData(X=np.asarray(X, dtype=np.float32), obs=obs, var=pd.DataFrame(index=pd.Index(var_names)))
