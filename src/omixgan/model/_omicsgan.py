"""OmicsGAN: one GAN per class (the course's recipe) or one class-conditional GAN."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch

from ..module._gan import LOSSES, GANModule
from ..pp import Pipeline
from ..train import make_fabric, seed_everything
from ..train import progress_bar as make_progress_bar
from ..train._gan import FrechetScore, GANTrainConfig, train_pair
from ._base import (
    OmixModel,
    check_labels_key,
    check_modalities,
    default_pipeline,
    register,
    resolve_counts,
    synthetic_adata,
)

#: A per-class GAN needs this many training samples in every class; fewer cannot describe a
#: distribution, and the conditional GAN (per_class=False) shares strength across classes.
MIN_SAMPLES_PER_CLASS = 10


def check_class_sizes(labels: np.ndarray, minimum: int, hint: str = "") -> None:
    counts = pd.Series(labels).value_counts()
    small = counts[counts < minimum]
    if len(small):
        raise ValueError(
            f"class(es) {', '.join(f'{c!r} ({n} samples)' for c, n in small.items())} have fewer than "
            f"{minimum} samples, too few to train a GAN on.{hint}"
        )


class _GANModel(OmixModel):
    """What the GAN models share: per-class z-scoring, the training loop, generation."""

    def _fit_class_scaling(self, Z: np.ndarray, labels: np.ndarray) -> None:
        # Every class is learned z-scored: the generator starts at the class's location and scale
        # and spends its steps on the shape (measured: two-sample AUC 0.97 -> 0.70 at equal steps).
        self.classes_ = sorted(np.unique(labels).tolist())
        class_index = np.searchsorted(self.classes_, labels)
        self.class_mean_ = np.stack([Z[class_index == k].mean(axis=0) for k in range(len(self.classes_))])
        sd = np.stack([Z[class_index == k].std(axis=0) for k in range(len(self.classes_))])
        self.class_std_ = np.where(sd > 0, sd, 1.0)

    # --- training -------------------------------------------------------------------------------
    def train(
        self,
        max_steps: int = 1200,
        *,
        batch_size: int = 128,
        n_critic: int = 2,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.5, 0.9),
        ema_decay: float | None = 0.98,
        gp_weight: float = 10.0,
        clip_value: float = 0.01,
        eval_every: int = 25,
        accelerator: str = "auto",
        devices="auto",
        strategy: str = "auto",
        precision: str | int | None = None,
        seed: int = 0,
        progress_bar: bool = True,
    ) -> None:
        """Train the GAN(s) on every registered sample, from weights drawn anew from ``seed``.

        Parameters
        ----------
        max_steps
            Generator updates per GAN. The best snapshot (see ``eval_every``) is kept, so more
            steps cost time but rarely hurt.
        batch_size
            Samples per step (smaller classes use the whole class).
        n_critic
            Critic updates per generator update.
        lr
            Adam learning rate of generator and critic.
        betas
            Adam betas; a low first moment (0.5) keeps the adversarial game from overshooting.
        ema_decay
            Decay of the moving average of the generator's weights that is scored and kept
            (None: the raw weights); averaging smooths the oscillation of adversarial training.
        gp_weight
            Weight of the gradient penalty (``loss="wgan-gp"``; 10 as in Gulrajani et al.).
        clip_value
            Critic weight clipping (``loss="wgan"``; 0.01 as in Arjovsky et al.).
        eval_every
            Every this many steps, generate 1000 samples from fixed noise and compare them with the
            class's training samples (Fréchet distance of Gaussian fits); the best snapshot is
            kept. Adversarial losses do not say when a GAN is good; this does.
        accelerator, devices
            Lightning Fabric's hardware arguments; ``"auto"`` uses a GPU when one is visible, and
            the data then lives on the GPU for the whole training (noise is drawn there too).
        strategy
            Lightning's strategy, e.g. ``"ddp"`` with ``devices=4`` for data-parallel training
            on four GPUs (or CPU processes); ``batch_size`` is per process. Run DDP from a script:
            Lightning starts the other processes by running it again.
        precision
            Lightning's precision, e.g. ``"bf16-mixed"`` on a GPU; None: 32-bit.
        seed
            Seed of weights, noise and batch order: the same seed gives the same model.
        progress_bar
            Show a progress bar.
        """
        Z, labels = self._training_data()
        for name, value in (("max_steps", max_steps), ("batch_size", batch_size), ("n_critic", n_critic), ("eval_every", eval_every)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        rng = seed_everything(seed)
        self.module.reset_parameters(seed)
        fabric = make_fabric(accelerator, devices, strategy, precision)
        class_index = np.searchsorted(self.classes_, labels)
        Z = np.asarray(Z, dtype=np.float32)
        for k in range(len(self.classes_)):  # in place, class by class: no n x features float64 copies
            rows = class_index == k
            Z[rows] = (Z[rows] - self.class_mean_[k]) / self.class_std_[k]
        config = GANTrainConfig(self.loss, int(max_steps), int(batch_size), int(n_critic), lr, tuple(betas), gp_weight, clip_value, int(eval_every), ema_decay)
        n_pairs = len(self.module.generators)
        bar = make_progress_bar(n_pairs * max_steps, enabled=progress_bar, desc=type(self).__name__)
        history = []
        self.module.train()
        for pair in range(n_pairs):
            # a conditional GAN trains on every row: Z itself, not a copy of it
            X = fabric.to_device(torch.from_numpy(Z[class_index == pair] if self.per_class else Z))
            y = None if self.per_class else fabric.to_device(torch.from_numpy(class_index).long())
            scores = [FrechetScore(Z[class_index == k]) for k in ([pair] if self.per_class else range(len(self.classes_)))]
            h = train_pair(
                fabric, self.module.generators[pair], self.module.critics[pair], X, y,
                n_latent=self.module.n_latent, config=config, rng=rng, scores=scores, progress_bar=bar,
            )
            label = self.classes_[pair] if self.per_class else "all"
            history.append(pd.DataFrame({k: v for k, v in h.items() if k != "best_step"}).assign(gan=label))
        bar.close()
        self.module.eval()
        self.module.to("cpu")
        self.history_ = pd.concat(history, ignore_index=True)
        self.is_trained_ = True

    @property
    def history(self) -> pd.DataFrame | None:
        """Per evaluation: ``gan`` (class, or "all" for a conditional GAN), ``step``,
        ``critic_loss``, ``generator_loss``, ``score`` (Fréchet distance to the class's training
        samples; the snapshot with the lowest was kept)."""
        return self.history_

    def _generate(self, n_per_class, seed) -> tuple[np.ndarray, np.ndarray]:
        """Model-space rows and their labels, ``n_per_class`` per class."""
        self._check_if_trained(warn=False, message="the model is not trained yet: call train() before sample().")
        counts = resolve_counts(n_per_class, self.classes_)
        generator = torch.Generator()
        generator.manual_seed(int(seed) if seed is not None else int(torch.seed() % 2**63))
        device = next(self.module.parameters()).device
        blocks, labels = [np.empty((0, self.class_mean_.shape[1]), dtype=np.float32)], []
        for cls_name, n in counts.items():
            if n == 0:
                continue
            k = self.classes_.index(cls_name)
            Z = self.module.generate(k, n, generator, device).float().cpu().numpy()
            blocks.append(Z * self.class_std_[k] + self.class_mean_[k])
            labels += [cls_name] * n
        return np.vstack(blocks).astype(np.float32), np.asarray(labels)


class OmicsGAN(_GANModel):
    """Generative adversarial network for the samples of one omics modality.

    Parameters
    ----------
    adata
        AnnData or MuData registered with :meth:`setup_anndata` / :meth:`setup_mudata`.
    per_class
        ``True``: one independent GAN per class, each trained only on that class's samples (the
        course's request; no class can leak into another). ``False``: one class-conditional GAN
        (class embedding in the generator, projection critic), which shares what classes have in
        common and so copes better with small classes. Either way every class is learned z-scored
        (its mean and standard deviation are restored on output), so the networks spend their
        capacity on the shape of the distribution.
    loss
        ``"wgan-gp"`` (Wasserstein loss with gradient penalty, the most stable on tabular data),
        ``"wgan"`` (weight clipping) or ``"gan"`` (the original minimax, non-saturating form).
    n_latent
        Noise dimension. None: as many as features (at least 64, at most 512), so the generator's
        linear path can represent any correlation structure of the data.
    n_hidden
        Width of the generator's hidden layers. The critic is half as wide: on classes of a few
        hundred samples a narrower critic keeps the game balanced (measured, see benchmarks).
    n_layers
        Hidden layers of generator and critic.
    linear_path
        Add an affine map from noise to output beside the generator's MLP: omics classes are close
        to Gaussian, which the linear path represents exactly; the MLP learns the rest.
    data_type
        ``"beta"`` (values in [0, 1], modelled in logit space), ``"gaussian"`` or None (inferred:
        ``"beta"`` when every value lies in [0, 1]).

    Examples
    --------
    >>> mdata = og.datasets.course(2000)
    >>> og.models.OmicsGAN.setup_mudata(mdata, modality="mrna", labels_key="cluster")
    >>> gan = og.models.OmicsGAN(mdata)
    >>> gan.train()
    >>> synthetic = gan.sample(n_per_class=500)
    """

    def __init__(
        self,
        adata: ad.AnnData | md.MuData,
        per_class: bool = True,
        loss: str = "wgan-gp",
        n_latent: int | None = None,
        n_hidden: int = 256,
        n_layers: int = 2,
        linear_path: bool = True,
        data_type: str | None = None,
    ):
        super().__init__(adata)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
        if not isinstance(per_class, bool):
            raise TypeError(f"per_class must be True or False, got {per_class!r}.")
        modality = self.modalities[0] if self.modalities else None
        source = self._modality_adata(adata, modality)
        X = self._matrix(source, modality)
        labels = self._labels(adata, source.obs_names)
        if per_class:
            check_class_sizes(labels, MIN_SAMPLES_PER_CLASS, " Use per_class=False: one conditional GAN shares strength across classes.")
        else:
            check_class_sizes(labels, 2)
        pipeline, self.data_type_ = default_pipeline(X, data_type, modality, source)
        Z = pipeline.fit_transform(X)
        self.pipeline_state_ = pipeline.state()
        self._fit_class_scaling(Z, labels)
        self.var_names_ = source.var_names.to_numpy(dtype=str)
        self.history_ = None
        n_latent = n_latent or int(np.clip(X.shape[1], 64, 512))
        self.module = GANModule(
            self._n_vars(modality),
            len(self.classes_),
            per_class=per_class,
            n_latent=n_latent,
            n_hidden=n_hidden,
            n_layers=n_layers,
            n_hidden_critic=max(n_hidden // 2, 1),
            linear_path=linear_path,
        )
        self.per_class, self.loss = per_class, loss
        self._model_summary_string = (
            f"OmicsGAN ({'one GAN per class' if per_class else 'conditional GAN'}, {loss}) on "
            f"{'modality ' + repr(modality) if modality else 'AnnData'}: {X.shape[0]} samples x {X.shape[1]} "
            f"features ({self.data_type_}), {len(self.classes_)} class(es), n_latent={n_latent}"
        )
        self.init_params_ = self._get_init_params(locals())

    # --- setup ----------------------------------------------------------------------------------
    @classmethod
    def setup_anndata(cls, adata: ad.AnnData, labels_key: str | None = None, layer: str | None = None, **kwargs):
        """Register an AnnData (one modality, samples in rows).

        Parameters
        ----------
        adata
            The data.
        labels_key
            ``.obs`` column with the class of each sample; None treats all samples as one class.
        layer
            Matrix to model instead of ``.X``.
        """
        check_labels_key(adata, labels_key)
        register(cls, adata, locals(), modalities=None, labels_key=labels_key, layer=layer)

    @classmethod
    def setup_mudata(cls, mdata: md.MuData, modality: str = "mrna", labels_key: str | None = None, layer: str | None = None, **kwargs):
        """Register one modality of a MuData.

        Parameters
        ----------
        mdata
            The data.
        modality
            The modality to generate.
        labels_key
            ``mdata.obs`` column with the class of each sample; None: one class.
        layer
            Matrix of the modality to model instead of ``.X``.
        """
        check_modalities(mdata, [modality], "modality")
        check_labels_key(mdata, labels_key)
        register(cls, mdata, locals(), modalities=[modality], labels_key=labels_key, layer=layer)

    # --- training -------------------------------------------------------------------------------
    # listed here so the API reference shows them on this class
    train = _GANModel.train
    history = _GANModel.history

    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        modality = self.modalities[0] if self.modalities else None
        source = self._modality_adata(self.adata, modality)
        Z = Pipeline.from_state(self.pipeline_state_).transform(self._matrix(source, modality))
        return Z, self._labels(self.adata, source.obs_names)

    # --- sampling -------------------------------------------------------------------------------
    def sample(self, n_per_class: int | dict = 100, seed: int | None = None) -> ad.AnnData:
        """Generate new samples in the data's original units.

        Parameters
        ----------
        n_per_class
            Samples per class: an int for every class or ``{class: n}``.
        seed
            Seed of the noise; None draws a fresh one. The same seed gives the same samples.

        Returns
        -------
        AnnData with the modality's ``var_names``, ``obs[labels_key]`` (categorical) and
        ``obs["synthetic"] = True``; methylation beta values stay in (0, 1).
        """
        Z, labels = self._generate(n_per_class, seed)
        X = Pipeline.from_state(self.pipeline_state_).inverse(Z)
        return synthetic_adata(X, labels, self.var_names_, self.labels_key, prefix="gan")
