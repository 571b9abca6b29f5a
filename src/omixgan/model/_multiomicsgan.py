"""MultiOmicsGAN: all modalities of a sample generated jointly, from a joint Gaussian start."""

from __future__ import annotations

import mudata as md
import numpy as np

from .._countspace import N_PCS, n_components
from .._utils import check_labels_key, check_modality_list, make_mudata, synthetic_adata
from ..module._gan import LOSSES
from ..pp import Pipeline
from ._base import default_pipeline, register
from ._gan_counts import (
    check_count_data,
    class_libraries,
    decode_with_libraries,
    draw_class_libraries,
    fit_count_space,
)
from ._omicsgan import MARGINALS, MIN_CLASS_SIZE, _GANModel, check_class_sizes


class MultiOmicsGAN(_GANModel):
    """Generator of every modality of a sample at once: a joint Gaussian start plus a residual.

    The modalities are modelled side by side, each in its own space (logit for beta values,
    standardised), so the start of every class is one Gaussian (or Gaussian copula) over all
    features with a Ledoit-Wolf correlation. Between two modalities the correlations are shrunk
    further, by that pair's own Ledoit-Wolf intensity (``omixgan._utils.block_shrinkage_factor``):
    modalities coupled only through the class get their chance sample cross-correlations
    removed, strongly coupled ones keep their coupling, so a translator fitted on real samples
    works about as well on synthetic samples as on new real ones. The residual, critic,
    validation and fallback are those of :class:`~omixgan.models.OmicsGAN`. Only samples that
    have every modality are used.

    Parameters
    ----------
    mdata
        MuData registered with :meth:`setup_mudata`.
    per_class, marginals, loss, rank, n_hidden, n_layers
        As in :class:`~omixgan.models.OmicsGAN`, over the modalities joined.
    data_types
        ``{modality: "beta" | "gaussian" | "counts"}``; missing entries are inferred (raw counts,
        e.g. CITE-seq RNA and antibody tags, are detected as ``"counts"``). A count modality is
        modelled in the principal components (``n_pcs``) of its log-normalised counts, as in
        :class:`~omixgan.models.OmicsGAN`, and sampled as whole counts; a new cell takes the
        library sizes of all its count modalities from one real cell of its class. Unlike
        OmicsGAN's, the joint start is one shrinkage Gaussian over every modality's coordinates
        (the coupling between modalities has no calibrated form), so the count modalities'
        own calibrated covariance is shrunk once more there; ``marginals="empirical"`` is
        refused for them.
    n_pcs
        Principal components per count modality.
    """

    def __init__(
        self,
        mdata: md.MuData,
        per_class: bool | None = None,
        marginals: str = "auto",
        loss: str = "wgan-gp",
        rank: int | None = None,
        n_hidden: int = 256,
        n_layers: int = 2,
        data_types: dict | None = None,
        n_pcs: int = N_PCS,
    ):
        if not isinstance(mdata, md.MuData):
            raise TypeError(f"MultiOmicsGAN needs a MuData, got {type(mdata).__name__}.")
        super().__init__(mdata)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
        if marginals not in MARGINALS:
            raise ValueError(f"marginals must be one of {MARGINALS}, got {marginals!r}.")
        data_types = dict(data_types or {})
        unknown = set(data_types) - set(self.modalities)
        if unknown:
            raise KeyError(
                f"data_types names modalities the model was not set up with: {sorted(unknown)}."
            )
        names = self._complete_samples(mdata)
        labels = self._labels(mdata, names)
        check_class_sizes(labels, MIN_CLASS_SIZE)
        self.loss, self.marginals, self.data_types = loss, marginals, data_types
        self.var_names_ = {
            mod: mdata.mod[mod].var_names.to_numpy(dtype=str) for mod in self.modalities
        }
        # how each modality is modelled is decided here (shown in the summary); fitted in train()
        self.data_types_, self.n_pcs, n_inputs = {}, n_pcs, []
        for m in self.modalities:
            X = self._matrix(mdata.mod[m][names], m)
            declare = f"data_types={{{m!r}: 'gaussian'}}"
            if data_types.get(m) == "counts":  # checked first: the message names data_types
                check_count_data(X, mdata.mod[m][names], name=f"modality {m!r}", declare=declare)
            self.data_types_[m] = default_pipeline(
                X,
                data_types.get(m),
                m,
                mdata.mod[m],
                from_x=self.setup_args.get("layer") is None,
                declare=declare,
            )[1]
            if self.data_types_[m] == "counts":  # --- counts: principal components
                if data_types.get(m) is None:  # detected: cells without any count refused here too
                    check_count_data(
                        X, mdata.mod[m][names], name=f"modality {m!r}", declare=declare
                    )
                n_inputs.append(n_components(n_pcs, *X.shape))
            else:
                n_inputs.append(X.shape[1])
        counts = [m for m in self.modalities if self.data_types_[m] == "counts"]
        if counts and marginals == "empirical":
            raise ValueError(
                f"marginals='empirical' does not apply to count modalities ({', '.join(counts)}): "
                "they are modelled in the principal components of a calibrated count space, and "
                "a copula of those coordinates would undo its calibration. Use marginals='auto' "
                "or 'gaussian'."
            )
        self.widths_ = dict(zip(self.modalities, n_inputs))
        self._init_module(sum(n_inputs), labels, per_class, n_hidden, n_layers, rank)
        self.pipeline_state_, self.marginals_ = None, None
        self.count_space_state_, self.count_libraries_ = None, None
        residual = "one residual per class" if self.per_class else "conditional residual"
        dims = ", ".join(f"{m} ({d})" for m, d in zip(self.modalities, n_inputs))
        self._model_summary_string = (
            f"MultiOmicsGAN (joint Gaussian start + {residual}, {loss}) on {dims}: "
            f"{len(names)} samples with every modality, {len(self.classes_)} class(es), "
            f"rank {self.module_config_['rank']}"
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
    def setup_mudata(
        cls,
        mdata: md.MuData,
        modalities: list[str] = ("mrna", "meth", "prot"),
        labels_key: str | None = None,
        layer: str | None = None,
        **kwargs,
    ):
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
        raise TypeError(
            "MultiOmicsGAN needs several modalities: use MultiOmicsGAN.setup_mudata on a MuData."
        )

    # listed here so the API reference shows them on this class
    train = _GANModel.train
    history = _GANModel.history

    def _start_blocks(self) -> list[int]:
        return [self.widths_[m] for m in self.modalities]

    def _fit_pipelines(self) -> tuple[np.ndarray, np.ndarray]:
        names = self._complete_samples(self.adata)
        labels = self._labels(self.adata, names)
        blocks, self.pipeline_state_, self.count_space_state_, libraries = [], {}, {}, {}
        for mod in self.modalities:
            self._check_features(self.adata, mod, self.var_names_[mod])
            X = self._matrix(self.adata.mod[mod][names], mod)
            if self.data_types_[mod] == "counts":  # --- counts: calibrated principal space
                Z, self.count_space_state_[mod] = fit_count_space(X, labels, self.n_pcs)
                blocks.append(Z)
                libraries[mod] = X.sum(axis=1)
                continue
            pipeline, _ = default_pipeline(X, str(self.data_types_[mod]), mod, self.adata.mod[mod])
            blocks.append(pipeline.fit_transform(X).astype(np.float64))
            self.pipeline_state_[mod] = pipeline.state()
        self.count_libraries_ = class_libraries(libraries, labels) if libraries else None
        return np.hstack(blocks), labels

    def sample(self, n_per_class: int | dict = 100, seed: int | None = None) -> md.MuData:
        """Generate new multi-omics samples in the data's original units.

        Parameters
        ----------
        n_per_class
            Samples per class: an int for every class or ``{class: n}``.
        seed
            Seed of the noise; None draws a fresh one.

        Returns
        -------
        MuData with the registered modalities (their ``var_names``), ``obs[labels_key]`` and
        ``obs["synthetic"] = True`` on the MuData and on every modality; count modalities as whole
        counts (also in ``.layers["counts"]``).
        """
        Z, labels = self._generate(n_per_class, seed)
        rng = np.random.default_rng(seed)
        libraries = (
            None
            if self.count_libraries_ is None
            else draw_class_libraries(self.count_libraries_, labels, rng)
        )
        mods, start, n_counts = {}, 0, 0
        for mod in self.modalities:
            width = self.widths_[mod]
            block = Z[:, start : start + width]
            start += width
            if self.data_types_[mod] == "counts":  # --- counts: the paired libraries
                X = decode_with_libraries(
                    self.count_space_state_[mod], block, libraries[:, n_counts], rng
                )
                n_counts += 1
            else:
                X = Pipeline.from_state(self.pipeline_state_[mod]).inverse(block)
            mods[mod] = synthetic_adata(
                X, labels, self.var_names_[mod], self.labels_key, prefix="gan"
            )
            if self.data_types_[mod] == "counts":
                mods[mod].layers["counts"] = mods[mod].X.copy()
        out = make_mudata(mods)
        out.obs = mods[self.modalities[0]].obs.copy()
        return out
