"""awqmap: which layers AWQ smooths together, resolved exactly as llm-compressor does, and proof
by running the model that each group is an exact rescaling.

The resolution API (:func:`load`, :func:`resolve`, :func:`recipe`, :class:`Registry`) uses the
compiled extension ``awqmap._core``; :func:`describe` and :func:`verify` are pure Python and need
only torch, so ``import awqmap`` works (and they work) where the extension is not built.
"""
from __future__ import annotations

from .errors import AwqmapError, InputError, ResolutionError
from .results import Coverage, Mapping, Resolution, ResolvedGroup, Selection, SkippedGroup
from .torch_tools import describe, verify

__version__ = "0.1.0"

__all__ = [
    "AwqmapError", "InputError", "ResolutionError",
    "Coverage", "Mapping", "Resolution", "ResolvedGroup", "Selection", "SkippedGroup",
    "Model", "Registry", "load", "resolve", "recipe", "describe", "verify",
]


def __getattr__(name: str):
    # The compiled part is imported on first use, so that describe/verify work without it.
    if name in ("Model", "Registry", "load", "resolve", "recipe", "default_registry"):
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'awqmap' has no attribute {name!r}")
