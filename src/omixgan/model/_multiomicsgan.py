"""MultiOmicsGAN: all modalities of a sample generated jointly, class-conditional."""

from __future__ import annotations

import mudata as md
import numpy as np

from ..io._course import make_mudata
from ..module._gan import MultiOmicsGANModule
from ..pp import Pipeline
from ._base import (
    check_labels_key,
    check_modality_list,
    default_pipeline,
    register,
    synthetic_adata,
)
from ._omicsgan import _GANModel, check_class_sizes


class MultiOmicsGAN(_GANModel):
    """Class-conditional WGAN-GP that generates every modality of a sample at once.

    A shared latent trunk with one head per modality (each head also has a linear path from the
    noise, so cross-modality coupling can start as a joint Gaussian), and a critic that encodes
    each modality separately, joins the codes and scores them with a class projection term. Each
    modality is modelled in its own space (logit for beta values), every class z-scored. Only
    samples that have every modality are used for training.

    Parameters
    ----------
    mdata
        MuData registered with :meth:`setup_mudata`.
    n_latent
        Noise dimension; None: the total number of features, clipped to [64, 512], so the linear
        paths can represent the joint correlation structure.
    n_hidden
        Width of the generator's trunk; the critic is half as wide (as in
        :class:`~omixgan.models.OmicsGAN`).
    n_layers
        Hidden layers of the trunk and of the critic.
    data_types
        ``{modality: "beta" | "gaussian"}``; missing entries are inferred.
    """

    def __init__(
        self,
        mdata: md.MuData,
        n_latent: int | None = None,
        n_hidden: int = 256,
        n_layers: int = 2,
        data_types: dict | None = None,
    ):
        if not isinstance(mdata, md.MuData):
            raise TypeError(f"MultiOmicsGAN needs a MuData, got {type(mdata).__name__}.")
        super().__init__(mdata)
        data_types = dict(data_types or {})
        unknown = set(data_types) - set(self.modalities)
        if unknown:
            raise KeyError(f"data_types names modalities the model was not set up with: {sorted(unknown)}.")
        names = self._complete_samples(mdata)
        blocks, self.pipeline_state_, self.data_types_, self.var_names_ = [], {}, {}, {}
        for mod in self.modalities:
            X = self._matrix(mdata.mod[mod][names], mod)
            pipeline, self.data_types_[mod] = default_pipeline(X, data_types.get(mod), mod, mdata.mod[mod])
            blocks.append(pipeline.fit_transform(X))
            self.pipeline_state_[mod] = pipeline.state()
            self.var_names_[mod] = mdata.mod[mod].var_names.to_numpy(dtype=str)
        labels = self._labels(mdata, names)
        check_class_sizes(labels, 2)
        self._fit_class_scaling(np.hstack(blocks), labels)
        self.history_ = None
        self.per_class, self.loss = False, "wgan-gp"
        n_inputs = [b.shape[1] for b in blocks]
        n_latent = n_latent or int(np.clip(sum(n_inputs), 64, 512))
        self.module = MultiOmicsGANModule(
            n_inputs, len(self.classes_), n_latent=n_latent, n_hidden=n_hidden, n_layers=n_layers, n_hidden_critic=max(n_hidden // 2, 1)
        )
        self._model_summary_string = (
            f"MultiOmicsGAN (conditional WGAN-GP) on {', '.join(f'{m} ({d})' for m, d in zip(self.modalities, n_inputs))}: "
            f"{len(names)} samples with every modality, {len(self.classes_)} class(es), n_latent={n_latent}"
        )
        self.init_params_ = self._get_init_params(locals())

    def _complete_samples(self, mdata: md.MuData):
        names = mdata.obs_names
        for mod in self.modalities:
            names = names[names.isin(mdata.mod[mod].obs_names)]
        if len(names) == 0:
            raise ValueError(f"no sample has all of the modalities {self.modalities}.")
        return names

    @classmethod
    def setup_mudata(cls, mdata: md.MuData, modalities: list[str] = ("mrna", "meth", "prot"), labels_key: str | None = None, layer: str | None = None, **kwargs):
        """Register two or more modalities of a MuData and the class column.

        Parameters
        ----------
        mdata
            The data.
        modalities
            The modalities to generate together.
        labels_key
            ``mdata.obs`` column with the class; None: one class.
        layer
            Matrix of each modality to model instead of ``.X``.
        """
        modalities = check_modality_list(mdata, modalities)
        check_labels_key(mdata, labels_key)
        register(cls, mdata, locals(), modalities=modalities, labels_key=labels_key, layer=layer)

    @classmethod
    def setup_anndata(cls, adata, **kwargs):
        """Not available: a multi-omics model needs a MuData with several modalities."""
        raise TypeError("MultiOmicsGAN needs several modalities: use MultiOmicsGAN.setup_mudata on a MuData.")

    # listed here so the API reference shows them on this class
    train = _GANModel.train
    history = _GANModel.history

    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        names = self._complete_samples(self.adata)
        Z = np.hstack([Pipeline.from_state(self.pipeline_state_[m]).transform(self._matrix(self.adata.mod[m][names], m)) for m in self.modalities])
        return Z, self._labels(self.adata, names)

    def sample(self, n_per_class: int | dict = 100, seed: int | None = None) -> md.MuData:
        """Generate new multi-omics samples in the data's original units.

        Returns
        -------
        MuData with the registered modalities (their ``var_names``), ``obs[labels_key]`` and
        ``obs["synthetic"] = True`` on the MuData and on every modality.
        """
        Z, labels = self._generate(n_per_class, seed)
        mods, start = {}, 0
        for mod in self.modalities:
            width = len(self.var_names_[mod])
            X = Pipeline.from_state(self.pipeline_state_[mod]).inverse(Z[:, start : start + width])
            start += width
            mods[mod] = synthetic_adata(X, labels, self.var_names_[mod], self.labels_key, prefix="gan")
        out = make_mudata(mods)
        out.obs = mods[self.modalities[0]].obs.copy()
        return out
