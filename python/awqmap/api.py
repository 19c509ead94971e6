"""The resolution API over the compiled core (awqmap._core)."""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _core
from .errors import InputError, ResolutionError
from .results import Coverage, Mapping, Resolution, ResolvedGroup, Selection, SkippedGroup

PathLike = Union[str, "os.PathLike[str]"]


class Registry:
    """The loaded plugins: what they register and the selection of mappings for a model.

    Plugins are searched as the CLI does: ``plugin_dirs`` in order, then the colon-separated
    ``AWQMAP_PLUGIN_PATH``, then the shipped plugins (unless ``default_plugins`` is False).
    """

    def __init__(self, plugin_dirs: Sequence[PathLike] = (), default_plugins: bool = True,
                 allow_override: bool = False) -> None:
        self._impl = _core.Registry([os.fspath(d) for d in plugin_dirs], default_plugins, allow_override)

    @property
    def loaded_files(self) -> List[str]:
        """Plugin files loaded, in load order."""
        return list(self._impl.loaded_files)

    def plugins(self) -> List[Dict[str, str]]:
        """``{"name", "version", "file"}`` per loaded plugin."""
        return json.loads(self._impl.plugins_json())

    def architectures(self) -> List[Dict[str, str]]:
        """``{"architecture", "kind", "plugin"[, "builder"]}`` per registered entry."""
        return json.loads(self._impl.architectures_json())

    @property
    def has_default(self) -> bool:
        return bool(self._impl.has_default)

    def select(self, model: "Model", upstream: bool = False) -> "tuple[Selection, List[Mapping]]":
        """The mappings selected for ``model`` and where they came from."""
        data = json.loads(self._impl.select_json(_as_model(model, self)._view, upstream))
        return (Selection(data["kind"], data.get("builder", ""), data.get("plugin", ""), list(data.get("declined", []))),
                [Mapping.from_json(m) for m in data["mappings"]])

    @staticmethod
    def search_path(plugin_dirs: Sequence[PathLike] = (), default_plugins: bool = True) -> List[str]:
        """The directories a Registry would load, in order."""
        return list(_core.plugin_search_path([os.fspath(d) for d in plugin_dirs], default_plugins))


_default_lock = threading.Lock()
_default: Optional[Registry] = None


def default_registry() -> Registry:
    """The Registry of the default search path, loaded once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default


class Model:
    """A read-only model tree (modules in ``named_modules()`` order) as awqmap sees it."""

    def __init__(self, view: Any) -> None:
        self._view = view
        self._config: Optional[Dict[str, Any]] = None

    @property
    def architecture(self) -> str:
        return self._view.architecture

    @property
    def origin(self) -> str:
        return self._view.origin

    @property
    def config(self) -> Dict[str, Any]:
        if self._config is None:
            self._config = json.loads(self._view.config_json())
        return self._config

    def __len__(self) -> int:
        return len(self._view)

    def names(self) -> List[str]:
        return list(self._view.names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._view.module_json(name) is not None

    def module(self, name: str) -> Dict[str, Any]:
        """The record of one module (``name``, ``type``, ``bases``, ``in_features``, ...)."""
        text = self._view.module_json(name)
        if text is None:
            raise KeyError(name)
        return json.loads(text)

    def modules(self) -> List[Dict[str, Any]]:
        return json.loads(self._view.modules_json())

    def __repr__(self) -> str:
        return f"<awqmap.Model {self.architecture} ({len(self)} modules) from {self.origin}>"


def load(source: Union[PathLike, Dict[str, Any]], architecture: Optional[str] = None,
         registry: Optional[Registry] = None) -> Model:
    """A model from an ``awqmap.model/v1`` description (a dict, as :func:`describe` returns, or a
    file) or a Hugging Face checkpoint directory (only safetensors headers are read).

    ``architecture`` replaces the model's own. Raises :class:`InputError` on bad input.
    """
    if isinstance(source, dict):
        desc = source
        if architecture is not None:
            desc = dict(source, architecture=architecture)
        try:
            text = json.dumps(desc, allow_nan=True)
        except (TypeError, ValueError) as e:
            raise InputError(f"model description dict: not JSON-serialisable ({e})") from e
        return Model(_core.parse_description(text, "<model description dict>"))
    if not isinstance(source, (str, os.PathLike)):
        raise InputError(f"load: expected a path or an awqmap.model/v1 dict, not {type(source).__name__} "
                         "(for a torch module, call awqmap.describe(module) first)")
    reg = registry if registry is not None else default_registry()
    return Model(_core.load_model(os.fspath(source), architecture, reg._impl))


def _as_model(model: Any, registry: Optional[Registry]) -> Model:
    if isinstance(model, Model):
        return model
    if isinstance(model, (dict, str, os.PathLike)):
        return load(model, registry=registry)
    if hasattr(model, "named_modules"):  # a live torch module
        from .torch_tools import describe
        return load(describe(model))
    raise InputError(f"expected an awqmap.Model, a description dict, a path or a torch module, "
                     f"not {type(model).__name__}")


def _mappings_json(mappings: Any) -> str:
    if isinstance(mappings, (str, os.PathLike)):
        path = os.fspath(mappings)
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            raise InputError(f"{path}: cannot read the mappings file ({e})") from e
    if isinstance(mappings, Resolution):
        mappings = mappings.mappings
    items = []
    for m in mappings:
        items.append(m.to_json() if isinstance(m, Mapping) else m)
    try:
        return json.dumps(items)
    except (TypeError, ValueError) as e:
        raise InputError(f"mappings: not JSON-serialisable ({e})") from e


def resolve(model: Any, targets: Sequence[str] = ("Linear",), ignore: Sequence[str] = ("lm_head",),
            mappings: Optional[Union[Iterable[Union[Mapping, Dict[str, Any]]], PathLike, Resolution]] = None,
            repair: bool = False, upstream: bool = False, registry: Optional[Registry] = None) -> Resolution:
    """Selects the mappings for ``model`` (or takes ``mappings``: selection kind ``user``) and
    resolves them to concrete modules, exactly as ``awqmap resolve`` does.

    ``model``: a :class:`Model`, a description dict, a path, or a live torch module (described
    first). ``repair``: replace mappings that collapse by layer-scoped ones. ``upstream``: select
    only what llm-compressor's own registry selects.
    Raises :class:`ResolutionError` (with ``kind`` and ``explanation``) or :class:`InputError`.
    """
    reg = registry if registry is not None else (default_registry() if mappings is None else None)
    m = _as_model(model, registry)
    if isinstance(targets, str) or isinstance(ignore, str):
        raise InputError("resolve: targets and ignore are lists of strings (one target each)")
    text = _core.resolve_json(m._view, reg._impl if reg is not None else None,
                              None if mappings is None else _mappings_json(mappings),
                              list(targets), list(ignore), bool(repair), bool(upstream))
    data = json.loads(text)
    if data.get("format") == "awqmap.error/v1":
        raise ResolutionError(data["message"], kind=data["kind"], explanation=data["explanation"],
                              mapping=data["mapping"], modules=data["modules"], targets=data["targets"])
    sel = data["selection"]
    cov = data["coverage"]
    return Resolution(
        architecture=data["architecture"],
        selection=Selection(sel["kind"], sel.get("builder", ""), sel.get("plugin", ""), list(sel.get("declined", []))),
        mappings=[Mapping.from_json(x) for x in data["mappings"]],
        resolved=[ResolvedGroup(g["mapping"], g["smooth_name"], g["balance_names"], g["parent_name"],
                                g["activation_hook_target"]) for g in data["resolved"]],
        skipped=[SkippedGroup(s["mapping"], s["smooth_name"], s["reason"]) for s in data["skipped"]],
        coverage=Coverage(cov["targeted"], cov["balanced"], cov["unbalanced"]),
        repairs=data.get("repairs"),
        targets=list(targets), ignore=list(ignore))


def recipe(result: Union[Resolution, Iterable[Union[Mapping, Dict[str, Any]]]], scheme: str = "W4A16_ASYM",
           targets: Optional[Sequence[str]] = None, ignore: Optional[Sequence[str]] = None) -> str:
    """An llm-compressor recipe (YAML text) with an ``AWQModifier`` whose ``mappings`` are the
    result's selected (or repaired) mappings; the same text as ``awqmap recipe``.

    ``targets``/``ignore`` default to those the result was resolved with.
    """
    comments: List[str] = []
    if isinstance(result, Resolution):
        t = list(targets) if targets is not None else result.targets
        i = list(ignore) if ignore is not None else result.ignore
        comments.append(_source_comment(result))
    else:
        t = list(targets) if targets is not None else ["Linear"]
        i = list(ignore) if ignore is not None else ["lm_head"]
    return _core.recipe_yaml(_mappings_json(result), t, i, scheme, comments)


def _source_comment(r: Resolution) -> str:
    s = r.selection
    text = f"{r.architecture}: mappings {s.kind}"
    if s.builder:
        text += f" (builder {s.builder}, plugin {s.plugin})"
    elif s.plugin:
        text += f" (plugin {s.plugin})"
    if r.repairs:
        text += f", {len(r.repairs)} repaired"
    return text + f"; {len(r.resolved)} groups"
