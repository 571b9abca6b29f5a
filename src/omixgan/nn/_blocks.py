"""Small torch building blocks shared by the GAN and VAE modules."""

from __future__ import annotations

import torch
from torch import nn


def mlp(
    n_input: int,
    n_hidden: int,
    n_layers: int,
    *,
    norm: str | None = None,
    dropout_rate: float = 0.0,
    activation=nn.LeakyReLU,
) -> nn.Sequential:
    """``n_layers`` x (Linear -> [norm] -> activation -> [dropout]); output width ``n_hidden``.

    ``norm``: ``"layer"`` (safe with a gradient penalty, which per-sample gradients need),
    ``"batch"`` or None.
    """
    layers: list[nn.Module] = []
    width = n_input
    for _ in range(n_layers):
        layers.append(nn.Linear(width, n_hidden))
        if norm == "layer":
            layers.append(nn.LayerNorm(n_hidden))
        elif norm == "batch":
            layers.append(nn.BatchNorm1d(n_hidden))
        elif norm is not None:
            raise ValueError(f"norm must be 'layer', 'batch' or None, got {norm!r}.")
        layers.append(activation(0.2) if activation is nn.LeakyReLU else activation())
        if dropout_rate > 0:
            layers.append(nn.Dropout(dropout_rate))
        width = n_hidden
    return nn.Sequential(*layers)


class MLPWithLinearPath(nn.Module):
    """``MLP(x) + Linear(x)``: a non-linear network beside an exact linear (affine) map.

    Omics features are strongly linearly correlated; the linear path represents a Gaussian
    (generator) or a ridge-like regression (decoder) exactly, so the MLP only has to learn what
    is not linear. Without it, small-sample models lose to plain linear baselines.
    """

    def __init__(
        self,
        n_input: int,
        n_output: int,
        n_hidden: int,
        n_layers: int,
        *,
        norm: str | None = None,
        dropout_rate: float = 0.0,
        linear_path: bool = True,
    ):
        super().__init__()
        self.body = (
            mlp(n_input, n_hidden, n_layers, norm=norm, dropout_rate=dropout_rate)
            if n_layers > 0
            else nn.Identity()
        )
        self.head = nn.Linear(n_hidden if n_layers > 0 else n_input, n_output)
        self.linear = nn.Linear(n_input, n_output, bias=False) if linear_path else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.body(x))
        if self.linear is not None:
            out = out + self.linear(x)
        return out
