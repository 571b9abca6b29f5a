"""CountVAE: a negative-binomial VAE for single-cell counts (scRNA-seq, CITE-seq RNA + proteins).

One model class serves the two count questions of omixgan:

- translation: RNA counts -> protein (ADT) counts of cells whose proteins were not measured;
- generation: new cells of a cell type as whole-number counts, library sizes drawn from the
  type's real cells (scGAN's library-size handling), codes drawn from a Gaussian fitted to the
  type's cells in the latent space.
"""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch

from .._utils import (
    check_counts,
    check_dense_fits,
    check_labels_key,
    check_modalities,
    check_modality_list,
    missing_layer,
    raise_feature_mismatch,
    resolve_counts,
    to_dense,
)
from ..module._counts import CountVAEModule
from ..train import make_fabric, seed_everything
from ..train import progress_bar as make_progress_bar
from ..train._counts import train_count_vae
from ._base import OmixModel, register

#: Neighbours averaged by :meth:`CountVAE.translate` in the latent space and in the expression
#: space (see ``neighbor_blend``).
N_NEIGHBORS = 15
#: The predictors :meth:`CountVAE.translate` blends, in the columns of ``blend_weights_``.
BLEND_PARTS = (
    "decoder",
    "latent neighbours",
    "expression neighbours",
    "linear map",
    "boosted trees",
)
#: Default posterior draws per query cell for the latent neighbours (``neighbor_samples``).
NEIGHBOR_SAMPLES = 30
#: Query cells per block when the posterior-sample neighbours are searched: bounds the memory
#: of the neighbour indices and gathered targets (block x 15 x features) for large queries.
NEIGHBOR_CHUNK = 4096
#: Fewest validation cells to fit the blend weights on; with fewer (e.g.
#: ``validation_fraction=0``) the three neighbour and linear predictors get a third each.
MIN_CALIBRATION_CELLS = 30
#: ``boosted_trees="auto"`` boosts targets of at most this many features: the trees cost about
#: 1-2 s per feature per 4,500 cells (one thread), fine for a protein panel, not for a
#: transcriptome.
MAX_BOOSTED_FEATURES = 100
#: The boosted trees learn from at most this many training cells (a random subset of larger
#: sets, drawn with the training seed): their cost grows with the cells.
MAX_BOOSTED_CELLS = 10_000
#: Principal components of the source among the boosted trees' inputs.
BOOSTED_PCS = 30
#: Source genes among the boosted trees' inputs, per target feature: the ones whose
#: log-normalised expression correlates most with the feature over the training cells (a
#: protein's own transcript where it is detected, else markers of the cells carrying it). The
#: components and neighbours describe a cell's type and state; within a type, a protein still
#: follows those genes, which 50 components blur.
BOOSTED_GENES_PER_FEATURE = 5
#: At most this many genes in all: with many target features, fewer per feature (at least one),
#: so the trees' cost stays bounded.
MAX_BOOSTED_GENES = 100
#: Folds of the cross-fitted ridge predictions the boosted trees learn from.
CROSS_FIT_FOLDS = 5
#: Settings of every per-feature gradient-boosted regressor: slow learning, small trees and
#: leaves of at least 40 cells, so the trees correct the neighbours and the linear map where
#: they are systematically off rather than fit the noise of a few cells. Each split chooses
#: among a random 30 % of the inputs (``max_features``), drawn from the training seed (the same
#: draws for every target feature): the inputs overlap (codes, components, neighbour and linear
#: predictions of related proteins), and the rationale, as in a random forest, is that trees
#: made to split on different ones in turn depend less on the particular training cells.
#: Measured, not the rationale: CITE-seq, 3 splits, trees refitted on cached models, +0.0014 to
#: +0.0037 per-protein r in the blend (docs: benchmarks_singlecell).
BOOSTED_PARAMS = {
    "max_iter": 400,
    "learning_rate": 0.03,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "max_features": 0.3,
    "early_stopping": False,
}


class CountVAE(OmixModel):
    """Negative binomial VAE on raw counts, with library sizes handled as in scVI.

    The encoder sees log-normalised counts of the source modality (counts per 10,000, log1p, and
    the log library size); every modality is decoded as gene shares (softmax) times a library
    size, with a negative binomial likelihood and one dispersion per gene. Set up on an AnnData
    (one count modality: generation, denoising) or on a MuData with a source and targets (e.g.
    ``["rna", "prot"]``: the proteins are decoded from the RNA's code, so they can be predicted
    for cells without them).

    Parameters
    ----------
    adata
        Registered with :meth:`setup_anndata` or :meth:`setup_mudata`. Counts: non-negative whole
        numbers, dense or sparse, every cell with at least one count.
    n_latent
        Dimension of the latent space. 10, scVI's default: cell states of blood or tissue span a
        few axes; larger codes overfit a few thousand cells.
    n_hidden
        Width of the hidden layers.
    n_layers
        Hidden layers of encoder and decoders.
    dropout_rate
        Dropout in the hidden layers (regularisation for a few thousand cells).
    input_dropout
        Dropout on the encoder's genes: a code must not hinge on a few genes, whose counts are
        noisy.
    zero_inflated
        Zero-inflated NB instead of NB. Off by default: UMI counts are not zero-inflated beyond
        what an NB explains (Svensson 2020), and the extra parameters cost data.
    neighbor_blend, linear_blend
        How :meth:`translate` combines its predictors, a weighted mean in log1p space of: the
        decoder's expected counts; the mean measured targets of the ``15`` nearest training
        cells in the latent space (*latent neighbours*) and in the 50 principal components of
        the source's log-normalised counts, genes centred but not scaled (*expression
        neighbours*: scaled to unit variance, rarely detected noisy genes would weigh as much
        as markers); a linear map
        (ridge regression on those components). ``"auto"`` (both, default): one weight per
        predictor and target feature, fitted (non-negative least squares, then normalised to
        sum 1) on the validation cells held out of training (``train(validation_fraction=)``),
        whose predictions come from the other training cells only; with fewer than 30 such cells
        the two neighbour predictors and the linear map get a third each (no boosted trees).
        Numbers (both): fixed weights of the
        latent neighbours and of the linear map, the decoder getting ``1 - neighbor_blend -
        linear_blend`` (no expression neighbours). Measured on CITE-seq (docs:
        benchmarks_singlecell, 5 splits, ``neighbor_samples=30``): fitted weights 0.837
        per-protein r with the boosted trees (0.828 without them, 3 splits, measured with an
        earlier version and environment), against 0.825 for
        the fixed ``0.5, 0.5``; each predictor alone from 0.79 (decoder) and 0.80 (linear
        map) to 0.825 (latent neighbours). Yet the same pipeline on a VAE trained for 2 epochs
        only scores 0.839 (5 splits, a tie): there, the accuracy comes from the expression
        neighbours, the linear map and the boosted trees on the source's components and genes.
        On 800 cells (1,000 genes, 7 proteins) the trained VAE added +0.017 and +0.027: with
        few cells the learnt code matters. Sampling, the latent space and denoising need it.
    neighbor_samples
        How the latent neighbours see a query cell: ``S > 0`` (default 30) draws ``S`` codes from
        its posterior q(z|x) (mean and variance of the encoder), takes the 15 training cells
        nearest to each draw (training cells at their posterior means) and averages their log1p
        targets over all draws and neighbours; ``0``: the 15 nearest to the posterior mean alone
        (the behaviour before). A cell whose code is uncertain then borrows from a wider, softer
        neighbourhood. The draws come from a generator seeded by the training seed (same seed,
        same predictions; the global random state is untouched); the blend weights are fitted
        with the same predictor. Measured on CITE-seq (docs: benchmarks_singlecell, 3 splits,
        same models): per-protein r 0.8259 ± 0.0012 (``0``) -> 0.8278 ± 0.0013 (``30``), better
        on each split, for 3-7 s more prediction (about 2,000 query cells, 4,000 training cells;
        one thread) and no training cost.
    boosted_trees
        A fifth predictor for :meth:`translate`'s fitted blend: per target feature, a
        gradient-boosted regressor (scikit-learn's ``HistGradientBoostingRegressor``) of its
        log1p counts on the cell's latent code, its first 30 expression components, the
        latent-neighbour (15 nearest to the posterior mean, not the posterior draws) and
        linear-map predictions of every target feature, and the cell's own log-normalised
        expression of the source genes that correlate most with each target feature over the
        training cells (5 per feature, at most 100 genes in all: a protein's own transcript
        where it is detected, else markers of the cells that carry it; within a cell type a
        protein still follows them, which the components blur).
        It learns where those predictors are systematically off (nonlinear in the code, or one
        protein telling on another). The trees
        learn from the training cells, each described as a query would be: the mean of its 15
        nearest *other* training cells, and the ridge map fitted without it (5-fold
        cross-fitting), so they do not learn to trust predictions that saw the cell's own target;
        the blend weight comes from trees fitted without the validation cells. ``"auto"``
        (default): for targets of at most 100 features (a protein panel; a transcriptome would
        cost minutes per 100 features); ``True``: every target; ``False``: none. Fitted only
        with ``neighbor_blend="auto"`` and at least 30 validation cells (the weight is fitted
        there), twice per target in :meth:`train`, after the epochs, with a progress bar of
        their own: about 2 s per target feature and fit on 4,500 cells (one thread; 46-58 s for
        CITE-seq's 14 proteins), so a 100-protein panel adds about 7 minutes; ``False`` skips
        them (a quick try, or a large panel on a tight budget). The trees are
        saved with the model (about 1 MB per target feature for a few thousand cells; a pickle
        of scikit-learn objects, so load with a compatible scikit-learn). Measured on CITE-seq:
        see ``docs/benchmarks_singlecell.md``.
    """

    def __init__(
        self,
        adata: ad.AnnData | md.MuData,
        *,
        n_latent: int = 10,
        n_hidden: int = 128,
        n_layers: int = 1,
        dropout_rate: float = 0.1,
        input_dropout: float = 0.1,
        zero_inflated: bool = False,
        neighbor_blend: float | str = "auto",
        linear_blend: float | str = "auto",
        neighbor_samples: int = NEIGHBOR_SAMPLES,
        boosted_trees: bool | str = "auto",
    ):
        super().__init__(adata)
        self.neighbor_blend, self.linear_blend = _check_blend(neighbor_blend, linear_blend)
        self.neighbor_samples = _check_neighbor_samples(neighbor_samples)
        if not (
            isinstance(boosted_trees, bool)
            or (isinstance(boosted_trees, str) and boosted_trees == "auto")
        ):
            raise ValueError(f"boosted_trees must be 'auto', True or False, got {boosted_trees!r}.")
        self.boosted_trees = boosted_trees
        mods = self.modalities or [None]
        self.var_names_ = {}
        dims = {}
        for mod in mods:
            source = self._aligned_to_source(mod)  # the cells training will use
            X = self._counts(source, mod)
            check_counts(
                X,
                obs_names=source.obs_names,
                var_names=source.var_names,
                name=self._name(mod),
                alternative="OmicsVAE and CrossModalVAE model continuous values (CountVAE "
                "models counts only)",
            )
            self.var_names_[self._key(mod)] = source.var_names.to_numpy(dtype=str)
            dims[self._key(mod)] = source.n_vars
        self.module = CountVAEModule(
            dims,
            n_latent=n_latent,
            n_hidden=n_hidden,
            n_layers=n_layers,
            dropout_rate=dropout_rate,
            input_dropout=input_dropout,
            zero_inflated=zero_inflated,
        )
        self.history_ = None
        self._model_summary_string = (
            f"CountVAE (negative binomial{', zero-inflated' if zero_inflated else ''}) on "
            f"{', '.join(f'{m} ({d} features)' for m, d in dims.items())}; n_latent={n_latent}"
        )
        self.init_params_ = self._get_init_params(locals())

    # --- setup ---------------------------------------------------------------------------------
    @classmethod
    def setup_anndata(
        cls, adata: ad.AnnData, labels_key: str | None = None, layer: str | None = None, **kwargs
    ):
        """Register an AnnData of counts.

        Parameters
        ----------
        adata
            Cells x genes; typically a highly-variable-gene subset.
        labels_key
            ``.obs`` column with the cell type: :meth:`sample` draws new cells per type.
        layer
            Layer with the raw counts (e.g. ``"counts"`` when ``.X`` holds log-normalised values).
        """
        check_labels_key(adata, labels_key)
        register(cls, adata, locals(), modalities=None, labels_key=labels_key, layer=layer)

    @classmethod
    def setup_mudata(
        cls,
        mdata: md.MuData,
        modalities=("rna", "prot"),
        labels_key: str | None = None,
        layer: str | None = None,
        **kwargs,
    ):
        """Register count modalities of a MuData: the first is the source (encoded), all decoded.

        Parameters
        ----------
        mdata
            Cells with every modality (e.g. CITE-seq).
        modalities
            ``[source, target, ...]``, e.g. ``["rna", "prot"]``.
        labels_key
            ``mdata.obs`` column with the cell type.
        layer
            Layer with the raw counts in every modality instead of ``.X``.
        """
        modalities = check_modality_list(mdata, modalities)
        check_labels_key(mdata, labels_key)
        register(cls, mdata, locals(), modalities=modalities, labels_key=labels_key, layer=layer)

    @classmethod
    def load(cls, dir_path: str, adata=None, **kwargs):
        """Load a saved CountVAE (see :meth:`OmixModel.load <omixgan.model._base.OmixModel.load>`
        for the checks). A model saved before ``neighbor_samples`` existed has no
        ``train_seed_``; its blend weights were fitted with the posterior mean's neighbours, so
        it is loaded with ``neighbor_samples=0`` and predicts as it did."""
        model = super().load(dir_path, adata, **kwargs)
        if not hasattr(model, "train_seed_"):
            model.neighbor_samples = 0
        return model

    # --- data ----------------------------------------------------------------------------------
    @staticmethod
    def _key(modality: str | None) -> str:
        return modality if modality is not None else "X"

    @staticmethod
    def _name(modality: str | None) -> str:
        return f"modality {modality!r}" if modality else "the data"

    def _counts(self, adata: ad.AnnData, modality: str | None) -> np.ndarray:
        """The registered layer as dense float32 (after checking that it fits in memory)."""
        layer = self.setup_args.get("layer")
        if layer is not None and layer not in adata.layers:
            raise missing_layer(layer, adata, f" in {self._name(modality)}", from_setup=True)
        X = adata.X if layer is None else adata.layers[layer]
        check_dense_fits(adata.n_obs, adata.n_vars, name=self._name(modality), copies=2)
        return to_dense(X)

    def _source_counts(self, data) -> tuple[np.ndarray, pd.Index]:
        mod = (self.modalities or [None])[0]
        if isinstance(data, ad.AnnData) and mod is not None:
            source = data  # the source modality's AnnData itself
        elif isinstance(data, md.MuData) and mod is not None:
            # the source alone is read: a query's other modalities (absent, or without the
            # setup's layer) do not matter
            check_modalities(data, [mod], "the cells passed")
            source = data.mod[mod]
        else:
            source = self._modality_adata(data, mod)
        # compared here, not through the registry: a translation's input is the source's
        # AnnData alone, without the target modality the model was set up with
        expected = np.asarray(self.var_names_[self._key(mod)], dtype=str)
        given = source.var_names.to_numpy(dtype=str)
        if not np.array_equal(given, expected):
            raise_feature_mismatch(mod, expected, given)
        X = self._counts(source, mod)
        # the model's genes: a query missing some of them is normal, and none may be dropped
        check_counts(
            X,
            obs_names=source.obs_names,
            var_names=source.var_names,
            name=self._name(mod),
            warn_empty_genes=False,
        )
        return X, source.obs_names

    def _all_counts(self) -> dict[str, np.ndarray]:
        """Counts of every modality, rows matched by cell name to the source's cells."""
        return {
            self._key(mod): self._counts(self._aligned_to_source(mod), mod)
            for mod in self.modalities or [None]
        }

    def _aligned_to_source(self, mod: str | None) -> ad.AnnData:
        """``mod``'s AnnData of the training data with the source's cells in the source's order
        (matched by name); refuses a modality that lacks some of them."""
        mods = self.modalities or [None]
        obs = self._modality_adata(self.adata, mods[0]).obs_names
        a = self._modality_adata(self.adata, mod)
        if a.obs_names.equals(obs):
            return a
        rows = a.obs_names.get_indexer(obs)
        if (rows < 0).any():
            raise ValueError(
                f"{self._name(mod)} lacks {int((rows < 0).sum())} of the {len(obs)} cells of "
                f"{self._name(mods[0])}, e.g. {str(obs[rows < 0][0])!r}: CountVAE trains on "
                "cells measured in every modality. Set it up on the cells that have all of them "
                "(e.g. mu.pp.intersect_obs(mdata), on a copy), then predict the others with "
                f"model.translate(mdata[{mods[0]!r}])."
            )
        return a[rows]

    # --- training ------------------------------------------------------------------------------
    def train(
        self,
        max_epochs: int | None = None,
        *,
        batch_size: int = 128,
        lr: float = 3e-3,
        weight_decay: float = 1e-6,
        kl_warmup_fraction: float = 0.3,
        validation_fraction: float = 0.1,
        patience: int = 10,
        accelerator: str = "auto",
        devices="auto",
        seed: int = 0,
        progress_bar: bool = True,
    ) -> None:
        """Train on every registered cell, from weights drawn anew from ``seed``.

        Parameters
        ----------
        max_epochs
            Upper bound; None: about 4,000 optimiser steps, between 20 and 400 epochs, so small
            and large data sets get a similar amount of training (early stopping ends it sooner).
        batch_size
            Cells per step.
        lr
            Adam learning rate; 3e-3 converges within a few minutes on a CPU for a few thousand
            cells and genes.
        weight_decay
            L2 penalty on all weights.
        kl_warmup_fraction
            Fraction of the steps over which the KL weight rises from 0 to 1 (scVI's warm-up):
            the decoder first learns to reconstruct, then the code is regularised.
        validation_fraction
            Cells held out to pick the best epoch by their NB likelihood of the targets; with
            ``neighbor_blend="auto"`` the translation's blend weights are fitted on them too
            (each predicted from the other training cells); with fewer than 30 such cells the
            weights fall back to equal thirds for the latent neighbours, the expression
            neighbours and the linear map.
        patience
            Epochs without improvement before stopping.
        accelerator, devices
            Lightning Fabric's hardware arguments; ``"auto"`` uses a GPU when one is visible.
        seed
            Seed of weights, noise, batch order and validation split.
        progress_bar
            Show a progress bar over epochs.
        """
        rng = seed_everything(seed)
        self.train_seed_ = int(seed)
        self.module.reset_parameters(seed)
        X = self._all_counts()
        n = len(next(iter(X.values())))
        if max_epochs is None:
            max_epochs = int(np.clip(round(4000 / max(1, n // batch_size)), 20, 400))
        perm = np.random.default_rng(seed).permutation(n)
        n_val = int(round(validation_fraction * n))
        val_rows, train_rows = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        fabric = make_fabric(accelerator, devices)
        tensors = {m: fabric.to_device(torch.from_numpy(x)) for m, x in X.items()}
        with make_progress_bar(max_epochs, enabled=progress_bar, desc="CountVAE") as bar:
            self.history_ = train_count_vae(
                fabric,
                self.module,
                tensors,
                train_rows,
                val_rows,
                max_epochs=max_epochs,
                batch_size=batch_size,
                lr=lr,
                weight_decay=weight_decay,
                kl_warmup_fraction=kl_warmup_fraction,
                patience=patience,
                rng=rng,
                progress_bar=bar,
            )
        self.module.to("cpu")
        self._fit_reference(X, val_rows, progress_bar=progress_bar)
        self.is_trained_ = True

    @torch.no_grad()
    def _fit_reference(
        self, X: dict[str, np.ndarray], val_rows: np.ndarray, *, progress_bar: bool = False
    ) -> None:
        """What sampling and translation need from the training cells: their latent codes (and
        posterior variances), library sizes and labels; for translation, the linear maps, the
        expression space of the neighbours, the blend weights (fitted on ``val_rows``) and the
        boosted trees (their own progress bar: after the epochs, they can take as long as
        training, in proportion to the number of target features)."""
        src = (self.modalities or [None])[0]
        X_src = X[self._key(src)]
        mu, logvar = self.module.encode(torch.from_numpy(X_src))
        self.train_codes_ = mu.numpy()
        self.train_vars_ = logvar.exp().numpy()
        self.train_libraries_ = {m: x.sum(axis=1) for m, x in X.items()}
        self.train_targets_ = {m: np.log1p(x) for m, x in X.items() if m != self._key(src)}
        self.linear_maps_, self.train_pcs_, self.blend_weights_ = {}, None, {}
        self.boosters_, self.booster_genes_ = {}, {}
        if self.train_targets_:
            self.linear_maps_ = _fit_linear_maps(X_src, self.train_targets_)
            self.train_pcs_ = _principal_components(next(iter(self.linear_maps_.values())), X_src)
            fits = 2 * sum(  # per feature: trees for the blend weights, then on all cells
                y.shape[1] for m, y in self.train_targets_.items() if self._fits_trees(m, val_rows)
            )
            with make_progress_bar(
                fits, enabled=progress_bar and fits > 0, desc="CountVAE boosted trees"
            ) as bar:
                self.blend_weights_ = self._fit_blend_weights(X_src, val_rows, bar)
                for m, y in self.train_targets_.items():
                    if self.blend_weights_[m][:, 4].any():  # the trees earned a weight somewhere
                        genes = _select_genes(X_src, y)
                        inputs = _reference_inputs(
                            self.train_codes_, self.train_pcs_, y, _lognorm_genes(X_src, genes)
                        )
                        self.boosters_[m] = _fit_boosters(inputs, y, self.train_seed_, bar)
                        self.booster_genes_[m] = genes
                    elif self._fits_trees(m, val_rows):  # no weight earned: no second fit
                        bar.update(y.shape[1])
        obs = self._modality_adata(self.adata, src).obs_names
        self.train_labels_ = self._labels(self.adata, obs)

    def _boosts(self, target: str) -> bool:
        """Whether ``target`` gets the boosted trees (see ``boosted_trees``)."""
        if self.boosted_trees == "auto":
            return self.train_targets_[target].shape[1] <= MAX_BOOSTED_FEATURES
        return bool(self.boosted_trees)

    def _fits_trees(self, target: str, val_rows: np.ndarray) -> bool:
        """Whether training fits boosted trees for ``target``: they need the fitted blend and
        enough validation cells to weigh them (see ``boosted_trees``)."""
        return (
            self.neighbor_blend == "auto"
            and len(val_rows) >= MIN_CALIBRATION_CELLS
            and self._boosts(target)
        )

    def _fit_blend_weights(
        self, X_src: np.ndarray, val_rows: np.ndarray, bar=None
    ) -> dict[str, np.ndarray]:
        """Per target, one weight per feature and predictor (:data:`BLEND_PARTS`), fitted on the
        validation cells, which the encoder and decoders never trained on, from references
        (neighbours, linear map, principal components, boosted trees) built on the other
        training cells."""
        if len(val_rows) < MIN_CALIBRATION_CELLS:
            fallback = np.array([0.0, 1.0, 1.0, 1.0, 0.0]) / 3
            return {m: np.tile(fallback, (y.shape[1], 1)) for m, y in self.train_targets_.items()}
        rest = np.setdiff1d(np.arange(len(X_src)), val_rows)
        maps = _fit_linear_maps(X_src[rest], {m: y[rest] for m, y in self.train_targets_.items()})
        pcs = _principal_components(next(iter(maps.values())), X_src)
        weights = {}
        for m, y in self.train_targets_.items():
            boosters = genes = None
            if self._fits_trees(m, val_rows):
                src_rest = X_src[rest]
                genes = _select_genes(src_rest, y[rest])
                expr = _lognorm_genes(src_rest, genes)
                inputs = _reference_inputs(self.train_codes_[rest], pcs[rest], y[rest], expr)
                boosters = _fit_boosters(inputs, y[rest], self.train_seed_, bar)
            parts = self._parts(
                m,
                self.train_codes_[val_rows],
                pcs[val_rows],
                X_src[val_rows],
                references=(self.train_codes_[rest], pcs[rest], y[rest], maps[m], boosters, genes),
                weights=np.r_[np.ones(len(BLEND_PARTS) - 1), float(boosters is not None)],
                variances=self.train_vars_[val_rows],
            )
            fitted = _fit_weights([p for p in parts if p is not None], y[val_rows])
            weights[m] = np.zeros((y.shape[1], len(BLEND_PARTS)))
            weights[m][:, [k for k, p in enumerate(parts) if p is not None]] = fitted
        return weights

    # --- outputs -------------------------------------------------------------------------------
    def get_latent_representation(self, adata=None) -> np.ndarray:
        """Posterior means of the latent code of every cell (rows in the source's order); store
        them in ``.obsm`` yourself, e.g.
        ``adata.obsm["X_countvae"] = model.get_latent_representation()``."""
        self._require_trained()
        X, _ = self._source_counts(self.adata if adata is None else adata)
        with torch.no_grad():
            return self.module.encode(torch.from_numpy(X))[0].numpy()

    def get_normalized_expression(
        self, adata=None, *, library_size: float | str = "observed"
    ) -> np.ndarray:
        """Denoised counts of the source modality: the decoder's NB means at the posterior mean.

        ``library_size="observed"``: each cell's own library (expected counts, same depth as the
        data); a number: every cell at that depth (e.g. ``1e4`` for counts per 10,000; ``1``
        for gene shares, scvi-tools' default, which differs from this one).
        """
        self._require_trained()
        X, _ = self._source_counts(self.adata if adata is None else adata)
        x = torch.from_numpy(X)
        if library_size == "observed":
            library = x.sum(dim=1, keepdim=True)
        elif isinstance(library_size, (int, float)) and library_size > 0:
            library = torch.full((len(x), 1), float(library_size))
        else:
            raise ValueError(
                f"library_size must be 'observed' or a positive number, got {library_size!r}."
            )
        with torch.no_grad():
            mu, _ = self.module.encode(x)
            return self.module.expected(self.module.source, mu, library).numpy()

    def translate(
        self,
        data=None,
        *,
        target: str | None = None,
        neighbor_blend: float | None = None,
        linear_blend: float | None = None,
    ) -> np.ndarray:
        """Predict the counts of ``target`` from the source's counts, for every cell of ``data``.

        Parameters
        ----------
        data
            A MuData with the source modality, or the source's AnnData (cells may lack the
            target: that is what translation is for); default: the registered data.
        target
            A registered modality other than the source; default: the second one.
        neighbor_blend, linear_blend
            Override the model's blend for this call: both ``"auto"`` (the fitted weights) or
            both numbers (both 0: the decoder alone; see the class's parameters).

        Returns
        -------
        Expected counts (not whole numbers: a point prediction), cells x target features, rows
        in the source's ``obs_names`` order, which may differ from the target modality's: match
        by cell name before storing it next to measured counts (docs: the counts guide). The
        blend is a weighted mean of log1p values
        (decoder's expected counts, latent and expression neighbours' measured counts, linear
        map, boosted trees), returned as counts.
        """
        self._require_trained()
        mods = self.modalities or []
        if len(mods) < 2:
            raise ValueError(
                "translate needs a model set up on a MuData with a source and a target modality."
            )
        target = mods[1] if target is None else target
        if target not in mods[1:]:
            raise KeyError(f"target={target!r}: the model decodes {mods[1:]} from {mods[0]!r}.")
        nb, lb = _check_blend(
            self.neighbor_blend if neighbor_blend is None else neighbor_blend,
            self.linear_blend if linear_blend is None else linear_blend,
        )
        if nb == "auto":
            weights = self.blend_weights_[target]
            if weights.shape[1] < len(BLEND_PARTS):  # saved before the boosted trees existed
                weights = np.pad(weights, ((0, 0), (0, len(BLEND_PARTS) - weights.shape[1])))
        else:  # fixed: decoder, latent neighbours, (no expression neighbours), linear map
            weights = np.array([1 - nb - lb, nb, 0.0, lb, 0.0])
        X, _ = self._source_counts(self.adata if data is None else data)
        with torch.no_grad():
            mu, logvar = self.module.encode(torch.from_numpy(X))
        mu, variances = mu.numpy(), logvar.exp().numpy()
        linear_map = self.linear_maps_[target]
        pcs = (
            _principal_components(linear_map, X)
            if np.any(weights[..., 2] > 0) or np.any(weights[..., 4] > 0)
            else None
        )
        references = (
            self.train_codes_,
            self.train_pcs_,
            self.train_targets_[target],
            linear_map,
            getattr(self, "boosters_", {}).get(target),
            getattr(self, "booster_genes_", {}).get(target),
        )
        parts = self._parts(
            target, mu, pcs, X, references=references, weights=weights, variances=variances
        )
        pred = sum(weights[..., k] * part for k, part in enumerate(parts) if part is not None)
        return np.expm1(np.maximum(pred, 0.0))

    @torch.no_grad()
    def _parts(
        self, target, codes, pcs, X, *, references, weights, variances
    ) -> list[np.ndarray | None]:
        """log1p predictions of ``target`` by each of :data:`BLEND_PARTS` (None where its weight
        is 0 for every feature) for cells with latent ``codes`` (posterior means; ``variances``:
        posterior variances), principal components ``pcs`` and source counts ``X``;
        ``references``: the training cells' codes, components and log1p targets, the linear
        map, the boosted trees (None: not fitted) and the source genes among their inputs (None:
        trees saved before genes were among their inputs)."""
        from sklearn.neighbors import NearestNeighbors

        ref_codes, ref_pcs, ref_targets, linear_map, boosters, genes = references
        used = np.any(np.atleast_2d(weights) > 0, axis=0)
        used[4] = used[4] and boosters is not None
        k = min(N_NEIGHBORS, len(ref_codes))

        def neighbours(ref, query):
            idx = NearestNeighbors(n_neighbors=k).fit(ref).kneighbors(query, return_distance=False)
            return ref_targets[idx].mean(axis=1)

        mean_neighbours = (
            neighbours(ref_codes, codes)
            if used[4] or (used[1] and self.neighbor_samples == 0)
            else None
        )

        def latent_neighbours():
            if self.neighbor_samples == 0:
                return mean_neighbours
            # neighbours of posterior draws (see ``neighbor_samples``): one draw of every cell
            # at a time, searched in blocks of cells, so memory does not grow with the draws;
            # a fresh generator from the training seed: same model and cells, same predictions
            rng = np.random.default_rng(getattr(self, "train_seed_", 0))
            index = NearestNeighbors(n_neighbors=k).fit(ref_codes)
            sd = np.sqrt(variances)
            total = np.zeros((len(codes), ref_targets.shape[1]))
            for _ in range(self.neighbor_samples):
                z = codes + rng.standard_normal(codes.shape) * sd
                for start in range(0, len(z), NEIGHBOR_CHUNK):
                    rows = slice(start, start + NEIGHBOR_CHUNK)
                    idx = index.kneighbors(z[rows], return_distance=False)
                    total[rows] += ref_targets[idx].mean(axis=1)
            return total / self.neighbor_samples

        decoder = (
            np.log1p(self.module.expected(target, torch.from_numpy(codes)).numpy())
            if used[0]
            else None
        )
        linear = _apply_linear_map(linear_map, X) if used[3] or used[4] else None
        boosted = None
        if used[4]:
            expr = _lognorm_genes(X, genes) if genes is not None else np.empty((len(X), 0))
            inputs = _boosting_inputs(codes, pcs, mean_neighbours, linear, expr)
            boosted = np.column_stack([tree.predict(inputs) for tree in boosters])
        return [
            decoder,
            latent_neighbours() if used[1] else None,
            neighbours(ref_pcs, pcs) if used[2] else None,
            linear if used[3] else None,
            boosted,
        ]

    def sample(self, n_per_class: int | dict = 100, *, seed: int = 0) -> ad.AnnData:
        """New cells as whole-number counts of the source modality, per cell type.

        For each type, codes are drawn from a Gaussian fitted to the type's training cells in the
        latent space (mean and covariance of their posterior draws), library sizes from the
        type's real library sizes, and counts from the decoder's negative binomial.

        Parameters
        ----------
        n_per_class
            New cells per type (an int for every type, or ``{type: n}``).
        seed
            Seed of codes, library sizes and counts.

        Returns
        -------
        AnnData of only the new cells: counts in ``.X`` (float32, whole numbers) and
        ``.layers["counts"]``, ``obs[labels_key]``, ``obs["synthetic"] = True``.
        """
        self._require_trained()
        counts = resolve_counts(n_per_class, np.unique(self.train_labels_))
        rng = np.random.default_rng(seed)
        gen = torch.Generator()
        gen.manual_seed(int(seed))
        src = self.module.source
        blocks, labels = [np.empty((0, len(self.var_names_[src])), dtype=np.float32)], []
        for cls_name, n in counts.items():
            if n == 0:
                continue
            members = np.flatnonzero(self.train_labels_ == cls_name)
            if len(members) < 2:
                raise ValueError(
                    f"cell type {cls_name!r} has {len(members)} training cell(s); sampling needs "
                    "at least 2. Name the types to sample in a dict without it (types not named "
                    "get no cells): n_per_class={'B': 200, ...}."
                )
            codes = self.train_codes_[members]
            cov = np.cov(codes, rowvar=False) + np.diag(self.train_vars_[members].mean(axis=0))
            z = rng.multivariate_normal(codes.mean(axis=0), cov, size=n)
            library = rng.choice(self.train_libraries_[src][members], size=n, replace=True)
            x = self.module.sample(
                src,
                torch.from_numpy(z.astype(np.float32)),
                torch.from_numpy(library[:, None].astype(np.float32)),
                generator=gen,
            )
            blocks.append(x.numpy().astype(np.float32))
            labels += [cls_name] * n
        X = np.vstack(blocks)
        obs = pd.DataFrame(index=pd.Index([f"countvae_{i}" for i in range(len(X))]))
        if self.labels_key is not None:
            obs[self.labels_key] = pd.Categorical(np.asarray(labels, dtype=str))
        obs["synthetic"] = True
        out = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=pd.Index(self.var_names_[src])))
        out.layers["counts"] = X.copy()
        return out


def _check_blend(neighbor_blend, linear_blend) -> tuple:
    """``("auto", "auto")`` or two floats in [0, 1] of sum at most 1."""
    autos = [w == "auto" for w in (neighbor_blend, linear_blend) if isinstance(w, str)]
    if len(autos) == 2 and all(autos):
        return "auto", "auto"
    if autos:
        raise ValueError(
            "neighbor_blend and linear_blend must be both 'auto' (weights fitted on the "
            "validation cells) or both numbers (fixed weights), got "
            f"neighbor_blend={neighbor_blend!r} and linear_blend={linear_blend!r} (in translate, "
            "one not given is the model's own setting: pass both)."
        )
    for name, w in (("neighbor_blend", neighbor_blend), ("linear_blend", linear_blend)):
        if isinstance(w, bool) or not isinstance(w, (int, float, np.number)) or not 0 <= w <= 1:
            raise ValueError(f"{name} must be 'auto' or in [0, 1], got {w!r}.")
    if neighbor_blend + linear_blend > 1:
        raise ValueError(
            f"neighbor_blend + linear_blend must be at most 1, got {neighbor_blend} + "
            f"{linear_blend}."
        )
    return float(neighbor_blend), float(linear_blend)


def _check_neighbor_samples(neighbor_samples) -> int:
    """A whole number >= 0 (0: the posterior mean's neighbours)."""
    if (
        isinstance(neighbor_samples, bool)
        or not isinstance(neighbor_samples, (int, np.integer))
        or neighbor_samples < 0
    ):
        raise ValueError(
            "neighbor_samples must be a whole number >= 0 (posterior draws per cell for the "
            f"latent neighbours; 0: the posterior mean alone), got {neighbor_samples!r}."
        )
    return int(neighbor_samples)


def _boosting_inputs(
    codes: np.ndarray,
    pcs: np.ndarray,
    neighbour_pred: np.ndarray,
    linear_pred: np.ndarray,
    expression: np.ndarray,
) -> np.ndarray:
    """The boosted trees' inputs per cell: latent code, leading expression components, the
    latent-neighbour (posterior mean) and linear-map predictions of every target feature, and
    the cell's own log-normalised ``expression`` of the genes :func:`_select_genes` chose."""
    return np.hstack([codes, pcs[:, :BOOSTED_PCS], neighbour_pred, linear_pred, expression])


def _select_genes(X_source: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Indices (sorted) of the source genes whose log-normalised expression correlates most
    (absolute Pearson r over the cells) with each target feature: the top
    :data:`BOOSTED_GENES_PER_FEATURE` per feature, fewer per feature (at least one) with many
    features, and at most :data:`MAX_BOOSTED_GENES` in all (the most correlated). A target
    feature that is constant over the cells correlates with nothing and adds no gene."""
    n_features = max(1, targets.shape[1])
    per_feature = int(np.clip(MAX_BOOSTED_GENES // n_features, 1, BOOSTED_GENES_PER_FEATURE))
    per_feature = min(per_feature, X_source.shape[1])
    L = _lognorm(X_source)
    centred = targets - targets.mean(axis=0)
    # centring the targets is enough for the covariance; a constant gene or feature gets r = 0
    cov = L.T @ centred
    scale = np.outer(L.std(axis=0), centred.std(axis=0)) * len(L)
    r = np.abs(np.divide(cov, scale, out=np.zeros_like(cov), where=scale > 0))
    informative = r.max(axis=0) > 0
    genes = np.unique(np.argsort(-r[:, informative], axis=0, kind="stable")[:per_feature])
    if len(genes) > MAX_BOOSTED_GENES:
        strongest = np.argsort(-r[genes].max(axis=1), kind="stable")[:MAX_BOOSTED_GENES]
        genes = np.sort(genes[strongest])
    return genes


def _lognorm_genes(X: np.ndarray, genes) -> np.ndarray:
    """:func:`_lognorm` of the columns ``genes`` alone (each cell's library from all of its
    genes), without a log-normalised copy of the whole matrix."""
    library = np.maximum(X.sum(axis=1, keepdims=True), 1.0)
    return np.log1p(X[:, genes] / library * 1e4)


def _reference_inputs(
    codes: np.ndarray, pcs: np.ndarray, targets: np.ndarray, expression: np.ndarray
) -> np.ndarray:
    """:func:`_boosting_inputs` of the reference cells themselves, each described as a query
    would be: its neighbour prediction from its nearest *other* reference cells, and its
    linear-map prediction from a ridge on the same components ``pcs`` (the linear map's)
    fitted without it (5-fold cross-fitting). In-sample predictions follow a cell's own target
    more closely than a query's do, and the trees would learn to trust them too much. The
    cells' own ``expression`` of the selected genes is used as it is: a query has its own."""
    from sklearn.neighbors import NearestNeighbors

    k = min(N_NEIGHBORS, len(codes) - 1)
    idx = NearestNeighbors(n_neighbors=k).fit(codes).kneighbors(return_distance=False)
    linear = np.empty_like(targets)
    folds = np.arange(len(pcs)) % CROSS_FIT_FOLDS  # cells in training order: no shuffle needed
    for f in range(CROSS_FIT_FOLDS):
        out = folds == f
        if not out.any():
            continue
        W, mean = _ridge(pcs[~out], targets[~out])
        linear[out] = pcs[out] @ W + mean
    return _boosting_inputs(codes, pcs, targets[idx].mean(axis=1), linear, expression)


def _fit_boosters(inputs: np.ndarray, targets: np.ndarray, seed: int, bar=None) -> list:
    """One gradient-boosted regressor per target feature (:data:`BOOSTED_PARAMS`), on at most
    :data:`MAX_BOOSTED_CELLS` cells; ``bar`` (a progress bar) advances by one per feature."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    rows = np.arange(len(inputs))
    if len(rows) > MAX_BOOSTED_CELLS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_BOOSTED_CELLS, replace=False))
    trees = []
    for j in range(targets.shape[1]):
        trees.append(
            HistGradientBoostingRegressor(random_state=seed, **BOOSTED_PARAMS).fit(
                inputs[rows], targets[rows, j]
            )
        )
        if bar is not None:
            bar.update(1)
    return trees


def _fit_weights(parts: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """Per feature (column of ``y``), non-negative weights of the predictions ``parts`` that
    best fit ``y`` after centring (least squares), normalised to sum 1: a weighted mean that
    keeps the predictors' level, weighted by how well each follows the feature's variation
    across cells (what a per-feature correlation scores). Equal weights where none helps."""
    from scipy.optimize import nnls

    out = np.empty((y.shape[1], len(parts)))
    for j in range(y.shape[1]):
        F = np.column_stack([p[:, j] for p in parts])
        w, _ = nnls(F - F.mean(axis=0), y[:, j] - y[:, j].mean())
        out[j] = w / w.sum() if w.sum() > 0 else 1.0 / len(parts)
    return out


#: Principal components of the source that the linear map regresses on, and its ridge penalty
#: (components of log-normalised genes have sums of squares in the thousands, the 50th too,
#: measured on 200-4,500 CITE-seq cells: the penalty only guards against a singular fit).
LINEAR_N_PCS, LINEAR_ALPHA = 50, 1.0


def _lognorm(X: np.ndarray) -> np.ndarray:
    """Counts per 10,000, log1p (scanpy's ``normalize_total`` + ``log1p``)."""
    return _lognorm_genes(X, slice(None))


def _ridge(P: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ridge weights (penalty :data:`LINEAR_ALPHA`) and intercept of ``Y`` on components ``P``:
    the linear map's fit, also used for its cross-fitted predictions."""
    y_mean = Y.mean(axis=0)
    gram = P.T @ P + LINEAR_ALPHA * np.eye(P.shape[1])
    return np.linalg.solve(gram, P.T @ (Y - y_mean)), y_mean


def _fit_linear_maps(X_source: np.ndarray, targets: dict[str, np.ndarray]) -> dict[str, dict]:
    """Ridge maps from the PCA of the log-normalised source to each log1p target.

    The genes are centred, not scaled to unit variance: scaled, a rarely detected gene, whose
    few counts are mostly noise, weighs as much in the components as a marker gene, and the
    components (the expression neighbours' space, the linear map's inputs and the boosted trees'
    components) follow that noise. Measured on CITE-seq, same models, blend refitted: +0.0034 to
    +0.0056 per-protein r on 5 splits (docs: benchmarks_singlecell)."""
    from sklearn.decomposition import PCA

    L = _lognorm(X_source)
    n_pcs = int(min(LINEAR_N_PCS, L.shape[0] - 1, L.shape[1]))
    pca = PCA(n_components=n_pcs, svd_solver="randomized", random_state=0).fit(L)
    P = pca.transform(L)
    maps = {}
    for m, Y in targets.items():
        W, y_mean = _ridge(P, Y)
        maps[m] = {"components": pca.components_, "pca_mean": pca.mean_, "W": W, "y_mean": y_mean}
    return maps


def _principal_components(m: dict, X_source: np.ndarray) -> np.ndarray:
    """Coordinates of cells in a linear map's principal space (the expression neighbours')."""
    L = _lognorm(X_source)
    if "sd" in m:
        # a map saved by an earlier 0.2.0 dev version: components of genes scaled to unit variance
        L = (L - m["mean"]) / m["sd"]
    return (L - m["pca_mean"]) @ m["components"].T


def _apply_linear_map(m: dict, X_source: np.ndarray) -> np.ndarray:
    return _principal_components(m, X_source) @ m["W"] + m["y_mean"]
