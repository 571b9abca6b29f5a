"""Base of omixgan's torch modules: plain ``nn.Module`` plus the hook scvi-tools' load calls."""

from __future__ import annotations

import torch


class OmixModule(torch.nn.Module):
    """A torch module that scvi-tools' :meth:`~scvi.model.base.BaseModelClass.load` can restore."""

    def on_load(self, model, **kwargs) -> None:
        """Nothing to rebuild: every omixgan module is fully described by its init arguments."""
