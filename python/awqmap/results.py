"""Typed results of a resolution, in the layout of ``awqmap resolve --format json``
(``awqmap.resolved/v1``). Pure Python: the verify pass reads CLI output with these."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union


@dataclass(frozen=True)
class Mapping:
    """A smooth layer and the balance layers that read its output (targets: names, classes or
    ``re:`` patterns), as in llm-compressor's ``AWQMapping``."""
    smooth_layer: str
    balance_layers: List[str]
    activation_hook_target: Optional[str] = None
    repaired_from: Optional[int] = None  #: index of the mapping a repaired one replaced

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"smooth_layer": self.smooth_layer, "balance_layers": list(self.balance_layers),
                               "activation_hook_target": self.activation_hook_target}
        if self.repaired_from is not None:
            out["repaired_from"] = self.repaired_from
        return out

    @staticmethod
    def from_json(item: Dict[str, Any]) -> "Mapping":
        return Mapping(item["smooth_layer"], list(item["balance_layers"]), item.get("activation_hook_target"),
                       item.get("repaired_from"))


@dataclass(frozen=True)
class ResolvedGroup:
    """One concrete group: the smooth module, the modules it balances, their parent."""
    mapping: int
    smooth_name: str
    balance_names: List[str]
    parent_name: str
    activation_hook_target: Optional[str] = None


@dataclass(frozen=True)
class SkippedGroup:
    """A group that is not smoothed: ``incompatible``, ``no_balance_layers`` or ``not_targeted``."""
    mapping: int
    smooth_name: str
    reason: str


@dataclass(frozen=True)
class Selection:
    """Where the mappings came from: kind ``dynamic``, ``static``, ``default`` or ``user``."""
    kind: str
    builder: str = ""
    plugin: str = ""
    declined: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Coverage:
    """Targeted Linear modules, how many a resolved group balances, the rest folded by name."""
    targeted: int = 0
    balanced: int = 0
    unbalanced: List[Dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Resolution:
    """What :func:`awqmap.resolve` returns."""
    architecture: str
    selection: Selection
    mappings: List[Mapping]
    resolved: List[ResolvedGroup]
    skipped: List[SkippedGroup]
    coverage: Optional[Coverage] = None
    repairs: Optional[List[Dict[str, Any]]] = None
    targets: List[str] = field(default_factory=lambda: ["Linear"])
    ignore: List[str] = field(default_factory=lambda: ["lm_head"])

    def to_json(self) -> Dict[str, Any]:
        """The ``awqmap.resolved/v1`` object (what ``awqmap resolve --format json`` prints)."""
        sel: Dict[str, Any] = {"kind": self.selection.kind}
        if self.selection.builder:
            sel["builder"] = self.selection.builder
        if self.selection.plugin:
            sel["plugin"] = self.selection.plugin
        out: Dict[str, Any] = {
            "format": "awqmap.resolved/v1", "architecture": self.architecture, "selection": sel,
            "mappings": [m.to_json() for m in self.mappings],
            "resolved": [{"mapping": g.mapping, "smooth_name": g.smooth_name, "balance_names": list(g.balance_names),
                          "parent_name": g.parent_name, "activation_hook_target": g.activation_hook_target}
                         for g in self.resolved],
            "skipped": [{"mapping": s.mapping, "smooth_name": s.smooth_name, "reason": s.reason} for s in self.skipped],
        }
        if self.repairs is not None:
            out["repairs"] = self.repairs
        if self.coverage is not None:
            out["coverage"] = {"targeted": self.coverage.targeted, "balanced": self.coverage.balanced,
                               "unbalanced": self.coverage.unbalanced}
        return out

    @staticmethod
    def from_json(data: Union[Dict[str, Any], str, "os.PathLike[str]"]) -> "Resolution":
        """Reads an ``awqmap.resolved/v1`` object, or a file holding one (e.g. CLI output)."""
        from .errors import InputError
        origin = "resolution"
        if not isinstance(data, dict):
            origin = os.fspath(data)
            try:
                with open(origin, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as e:
                raise InputError(f"{origin}: cannot read an awqmap.resolved/v1 file ({e})") from e
        if not isinstance(data, dict) or data.get("format") != "awqmap.resolved/v1":
            raise InputError(f"{origin}: not an awqmap.resolved/v1 object (format is "
                             f"{data.get('format') if isinstance(data, dict) else type(data).__name__!r}); "
                             "give the output of 'awqmap resolve --format json'")
        try:
            sel = data.get("selection") or {}
            cov = data.get("coverage")
            return Resolution(
                architecture=data.get("architecture", ""),
                selection=Selection(sel.get("kind", ""), sel.get("builder", ""), sel.get("plugin", ""),
                                    list(sel.get("declined", []))),
                mappings=[Mapping.from_json(m) for m in data.get("mappings", [])],
                resolved=[ResolvedGroup(g["mapping"], g["smooth_name"], list(g["balance_names"]), g["parent_name"],
                                        g.get("activation_hook_target")) for g in data.get("resolved", [])],
                skipped=[SkippedGroup(s["mapping"], s["smooth_name"], s["reason"]) for s in data.get("skipped", [])],
                coverage=Coverage(cov["targeted"], cov["balanced"], list(cov["unbalanced"])) if cov else None,
                repairs=data.get("repairs"),
                targets=list(data.get("targets", ["Linear"])),
                ignore=list(data.get("ignore", ["lm_head"])),
            )
        except (KeyError, TypeError) as e:
            raise InputError(f"{origin}: malformed awqmap.resolved/v1 object (missing or wrong field {e})") from e
