"""Base of omixgan's torch modules: plain ``nn.Module`` plus the hook scvi-tools' load calls."""

from __future__ import annotations

import torch


class OmixModule(torch.nn.Module):
    """A torch module that scvi-tools' :meth:`~scvi.model.base.BaseModelClass.load` can restore."""

    def on_load(self, model, **kwargs) -> None:
        """Nothing to rebuild: every omixgan module is fully described by its init arguments."""

    def reset_parameters(self, seed: int) -> None:
        """Draw every layer's initial weights anew from ``seed``, so training is reproducible from
        the seed given to ``train`` whatever happened since the module was built."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for layer in self.modules():
                if layer is not self and hasattr(layer, "reset_parameters"):
                    layer.reset_parameters()
