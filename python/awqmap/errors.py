"""awqmap's exceptions (pure Python, so that they exist without the compiled extension)."""
from __future__ import annotations

from typing import List, Optional


class AwqmapError(Exception):
    """Base of every awqmap error."""


class InputError(AwqmapError, ValueError):
    """Bad input: a file, a description, a pattern, a plugin. The message names the item at fault."""


class ResolutionError(AwqmapError, RuntimeError):
    """Resolution stopped, as llm-compressor's would: nothing is kept.

    Attributes:
        kind: ``multiple_smooth_layers``, ``incomplete_set``, ``module_rematch`` or
            ``hook_target_missing``.
        explanation: why, in the model's terms (which layers have which targets, ...).
        mapping: index of the failing mapping in the selected list.
        modules: the modules at fault; targets: the targets at fault.
    """

    def __init__(self, message: str, kind: str = "", explanation: str = "", mapping: Optional[int] = None,
                 modules: Optional[List[str]] = None, targets: Optional[List[str]] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.explanation = explanation
        self.mapping = mapping
        self.modules = list(modules or [])
        self.targets = list(targets or [])

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n{self.explanation}" if self.explanation else base
