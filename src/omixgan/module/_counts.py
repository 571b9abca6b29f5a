"""Count likelihoods and count decoders (tensors only), as in scVI / totalVI and scGAN.

Single-cell data are counts: a cell's UMI count of a gene is the product of the gene's share of
the cell's transcripts and how many transcripts were captured (the library size), plus
sampling noise. The pieces here model exactly that:

- :func:`log_nb` / :func:`log_zinb`: negative binomial (zero-inflated) log-likelihood with mean
  ``mu`` and inverse dispersion ``theta`` (scVI's parameterisation).
- :class:`CountDecoder`: latent code -> gene shares (softmax) times a library size, plus a
  gene-wise dispersion: the decoder of scVI. The library is the observed one when the modality is
  measured (reconstruction) and a predicted one when it is not (translation into it).
- :func:`library_size_normalise`: scGAN's library-size normalisation layer, rescaling a
  generator's non-negative output so that each cell sums to a given library size.
- :func:`sample_nb`: whole-number draws (Gamma-Poisson) from a negative binomial.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import mlp
from ._base import OmixModule

#: Bounds of the encoder's log-variance: keeps exp() finite early in training.
LOGVAR_RANGE = (-8.0, 6.0)

#: Keeps ``log`` finite where a mean or a dispersion underflows to zero.
EPS = 1e-8


def log_nb(x: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Elementwise log-probability of counts ``x`` under NB(mean ``mu``, inverse dispersion
    ``theta``).

    ``Var = mu + mu**2 / theta``: large ``theta`` approaches a Poisson. Written with ``lgamma``
    and ``log(theta + mu)`` computed once, as in scVI, so it is stable for large counts.
    """
    log_theta_mu = torch.log(theta + mu + EPS)
    return (
        theta * (torch.log(theta + EPS) - log_theta_mu)
        + x * (torch.log(mu + EPS) - log_theta_mu)
        + torch.lgamma(x + theta)
        - torch.lgamma(theta)
        - torch.lgamma(x + 1)
    )


def log_zinb(
    x: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor, pi_logits: torch.Tensor
) -> torch.Tensor:
    """Elementwise log-probability under a zero-inflated NB: with probability
    ``sigmoid(pi_logits)`` an extra zero, else NB(``mu``, ``theta``)."""
    softplus_pi = F.softplus(-pi_logits)
    log_theta_eps = torch.log(theta + EPS)
    log_theta_mu = torch.log(theta + mu + EPS)
    pi_theta_log = -pi_logits + theta * (log_theta_eps - log_theta_mu)
    case_zero = F.softplus(pi_theta_log) - softplus_pi
    case_nonzero = (
        -softplus_pi
        + pi_theta_log
        + x * (torch.log(mu + EPS) - log_theta_mu)
        + torch.lgamma(x + theta)
        - torch.lgamma(theta)
        - torch.lgamma(x + 1)
    )
    return torch.where(x < EPS, case_zero, case_nonzero)


def sample_nb(
    mu: torch.Tensor, theta: torch.Tensor, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Whole-number draws from NB(``mu``, ``theta``) as a Gamma-Poisson mixture."""
    rate = torch._standard_gamma(theta.expand_as(mu).clamp(min=EPS), generator=generator)
    lam = rate * mu / theta.clamp(min=EPS)
    return torch.poisson(lam, generator=generator)


def library_size_normalise(x: torch.Tensor, library: torch.Tensor) -> torch.Tensor:
    """scGAN's library-size normalisation: scale each row of the non-negative ``x`` to sum to
    ``library`` (shape ``(n, 1)``), so a generator controls gene shares and the library size
    comes from the data."""
    return x / x.sum(dim=1, keepdim=True).clamp(min=EPS) * library


class CountDecoder(nn.Module):
    """z -> parameters of an NB (or ZINB) over the counts of one modality.

    ``mu = softmax(shares(z)) * library``: the network decides each gene's share of the cell's
    counts and the library size scales it, so the latent space need not encode sequencing depth
    (scVI). The library is the observed one whenever the modality was measured; when it was not
    (the target of a translation) the decoder's own prediction of the log-library from ``z`` is
    used, trained against the observed log-libraries. ``theta`` is one inverse dispersion per
    gene (scVI's default ``dispersion="gene"``).
    """

    def __init__(
        self,
        n_latent: int,
        n_output: int,
        n_hidden: int,
        n_layers: int,
        *,
        dropout_rate: float = 0.0,
        zero_inflated: bool = False,
    ):
        super().__init__()
        self.body = (
            mlp(n_latent, n_hidden, n_layers, dropout_rate=dropout_rate)
            if n_layers > 0
            else nn.Identity()
        )
        width = n_hidden if n_layers > 0 else n_latent
        self.shares = nn.Linear(width, n_output)
        # a linear path from z to the logits: shares that are a log-linear function of the
        # latent code are represented exactly, and the MLP learns the rest
        self.linear = nn.Linear(n_latent, n_output, bias=False)
        self.log_library = nn.Linear(width, 1)
        self.log_theta = nn.Parameter(torch.zeros(n_output))
        self.dropout = nn.Linear(width, n_output) if zero_inflated else None

    def forward(
        self, z: torch.Tensor, library: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """``library``: observed library sizes, shape ``(n, 1)``; None: use the predicted ones.

        Returns ``mu``, ``theta`` (shape ``(n_output,)``: one per gene), ``log_library`` (the
        prediction), ``logits`` (of the gene shares) and, zero-inflated, ``pi_logits``.
        """
        h = self.body(z)
        logits = self.shares(h) + self.linear(z)
        log_library = self.log_library(h)
        lib = torch.exp(log_library) if library is None else library
        out = {
            "mu": torch.softmax(logits, dim=-1) * lib,
            # one per gene, broadcast by the likelihood: the terms of theta alone (lgamma, log
            # and their gradients) are then computed once per gene, not once per cell and gene
            "theta": torch.exp(self.log_theta),
            "log_library": log_library,
            "logits": logits,
        }
        if self.dropout is not None:
            out["pi_logits"] = self.dropout(h)
        return out

    def log_likelihood(self, x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-cell log-likelihood of counts ``x`` (summed over genes)."""
        if "pi_logits" in params:
            return log_zinb(x, params["mu"], params["theta"], params["pi_logits"]).sum(dim=-1)
        return log_nb(x, params["mu"], params["theta"]).sum(dim=-1)


def log_normalise(x: torch.Tensor, target_sum: float = 1e4) -> torch.Tensor:
    """Counts per ``target_sum`` then log1p: the encoder's view of a count modality (scanpy's
    ``normalize_total`` + ``log1p``), so encoders see composition, not sequencing depth."""
    return torch.log1p(x / x.sum(dim=1, keepdim=True).clamp(min=1.0) * target_sum)


class CountVAEModule(OmixModule):
    """A VAE on count modalities: an encoder of one modality (the source), an NB decoder per
    modality, one latent space (scVI's generative model; totalVI's idea of decoding proteins from
    the code of a cell, here from RNA alone so that proteins can be predicted for cells without).

    ``n_inputs``: ``{modality: n_features}``, the source first. The encoder sees the source's
    log-normalised counts (plus the log-library, so that depth is known to it but not needed in
    the code); each decoder reconstructs its modality's counts with an NB likelihood, the source
    with its observed library size, every other modality with its observed library during
    training and the predicted one when translating.
    """

    def __init__(
        self,
        n_inputs: dict[str, int],
        *,
        n_latent: int,
        n_hidden: int,
        n_layers: int,
        dropout_rate: float,
        input_dropout: float,
        zero_inflated: bool = False,
    ):
        super().__init__()
        self.names = list(n_inputs)
        self.source = self.names[0]
        self.n_latent = n_latent
        n_source = n_inputs[self.source]
        self.input_dropout = nn.Dropout(input_dropout)
        self.encoder = nn.Sequential(
            mlp(n_source + 1, n_hidden, n_layers, norm="layer", dropout_rate=dropout_rate),
            nn.Linear(n_hidden, 2 * n_latent),
        )
        self.decoders = nn.ModuleDict(
            {
                m: CountDecoder(
                    n_latent,
                    d,
                    n_hidden,
                    n_layers,
                    dropout_rate=dropout_rate,
                    zero_inflated=zero_inflated,
                )
                for m, d in n_inputs.items()
            }
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of ``z`` given the source's counts."""
        library = x.sum(dim=1, keepdim=True).clamp(min=1.0)
        h = self.encoder(
            torch.cat([self.input_dropout(log_normalise(x)), torch.log(library)], dim=1)
        )
        return h[:, : self.n_latent], h[:, self.n_latent :].clamp(*LOGVAR_RANGE)

    def forward(
        self,
        xs: dict[str, torch.Tensor],
        *,
        kl_weight: float,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """Loss terms averaged over the batch: ``nll`` (NB, all modalities), ``kl``, ``library``
        (squared error of the predicted log-libraries) and the total ``loss``."""
        mu, logvar = self.encode(xs[self.source])
        eps = (
            torch.randn(mu.shape, generator=generator, device=mu.device)
            if generator is not None
            else torch.randn_like(mu)
        )
        z = mu + eps * torch.exp(0.5 * logvar)
        nll = torch.zeros((), device=mu.device)
        lib_err = torch.zeros((), device=mu.device)
        for m in self.names:
            library = xs[m].sum(dim=1, keepdim=True)
            params = self.decoders[m](z, library)
            nll = nll - self.decoders[m].log_likelihood(xs[m], params).mean()
            lib_err = (
                lib_err + ((params["log_library"] - torch.log(library.clamp(min=1.0))) ** 2).mean()
            )
        kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)).mean()
        return {"loss": nll + kl_weight * kl + lib_err, "nll": nll, "kl": kl, "library": lib_err}

    @torch.no_grad()
    def expected(
        self, modality: str, z: torch.Tensor, library: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Expected counts of ``modality`` at codes ``z`` (predicted library when None)."""
        return self.decoders[modality](z, library)["mu"]

    @torch.no_grad()
    def sample(
        self,
        modality: str,
        z: torch.Tensor,
        library: torch.Tensor | None,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Whole-number counts drawn from the decoder's NB (zero-inflated: dropouts too)."""
        params = self.decoders[modality](z, library)
        counts = sample_nb(params["mu"], params["theta"], generator=generator)
        if "pi_logits" in params:
            keep = torch.rand(counts.shape, generator=generator) >= torch.sigmoid(
                params["pi_logits"]
            )
            counts = counts * keep
        return counts


class NBLikelihood(nn.Module):
    """Negative binomial p(x | z) for a count modality of :class:`~omixgan.models.CrossModalVAE`
    / :class:`~omixgan.models.OmicsVAE` (their per-data-type likelihood seam).

    Those models see a count modality in log1p space (the encoders' input; the transform their
    pipeline inverts). The decoder's raw output is a log-rate per feature at a reference library
    size (:attr:`reference_library`, the training cells' median, set by the model); a cell's NB
    mean is that rate times its own library over the reference, so sequencing depth is an
    observed offset and not something the latent code must carry (scVI's library handling).
    ``mean`` is the prediction in log1p space: expected counts at the reference library size.
    One inverse dispersion per feature.
    """

    n_params = 1

    def __init__(self, n_features: int):
        super().__init__()
        self.n_features = n_features
        self.log_theta = nn.Parameter(torch.zeros(n_features))
        self.register_buffer("reference_library", torch.ones(()))

    def set_reference_library(self, value: float) -> None:
        self.reference_library.fill_(float(value))

    def reset_parameters(self) -> None:
        """Dispersions start at 1 (``theta = 1``) whenever the model's weights are redrawn."""
        with torch.no_grad():
            self.log_theta.zero_()

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.log1p(torch.exp(params.clamp(max=20.0)))

    def nll(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per sample; ``x`` in log1p space (rounded back to whole counts)."""
        counts = torch.round(torch.expm1(x.clamp(min=0.0)))
        library = counts.sum(dim=1, keepdim=True).clamp(min=1.0)
        mu = torch.exp(params.clamp(max=20.0)) * library / self.reference_library
        return -log_nb(counts, mu, torch.exp(self.log_theta)).sum(dim=1)
