"""Small torch building blocks (no AnnData here)."""

from ._blocks import MLPWithLinearPath, mlp

__all__ = ["mlp", "MLPWithLinearPath"]
