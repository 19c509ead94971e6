"""Pure-Python tools on live torch models: :func:`describe` writes the ``awqmap.model/v1``
description awqmap resolves; :func:`verify` proves, by running the model, that each resolved
group is an exact rescaling. torch is imported only inside these functions, and nothing here
needs the compiled extension or transformers."""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

__all__ = ["describe", "verify", "fused_experts_info"]


# ---------------------------------------------------------------------------------------------
# describe

def _json_value(v: Any) -> Any:
    """A JSON-serialisable copy of a config value (dtypes as their short names)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v  # json writes inf/nan as Infinity/NaN, which awqmap reads
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_json_value(x) for x in (sorted(v, key=str) if isinstance(v, (set, frozenset)) else v)]
    if hasattr(v, "to_dict"):
        try:
            return _json_value(v.to_dict())
        except Exception:  # a config object that cannot convert itself: keep its text
            return str(v)
    text = str(v)
    return text[len("torch."):] if text.startswith("torch.") else text


def _config_dict(module: Any, config: Any) -> Dict[str, Any]:
    if config is None:
        config = getattr(module, "config", None)
    if config is None:
        return {}
    if not isinstance(config, dict):
        if hasattr(config, "to_dict"):
            config = config.to_dict()
        else:
            raise TypeError(f"describe: config must be a dict or have to_dict(), not {type(config).__name__}")
    return _json_value(config)


def _bases(cls: type, module_base: type) -> List[str]:
    """Base classes that are modules, nearest first, up to (without) torch.nn.Module."""
    out = []
    for c in cls.__mro__[1:]:
        if c is module_base:
            break
        if isinstance(c, type) and issubclass(c, module_base):
            out.append(c.__name__)
    return out


def fused_experts_info(module: Any) -> Optional[Dict[str, Any]]:
    """For a fused experts module (transformers' 3-D ``gate_up_proj``/``up_proj`` and ``down_proj``
    parameters): ``num_experts``, ``hidden``, ``intermediate``, ``has_gate``, ``transposed``;
    None for any other module."""
    params = getattr(module, "_parameters", {})
    down = params.get("down_proj")
    has_gate = params.get("gate_up_proj") is not None
    up = params.get("gate_up_proj") if has_gate else params.get("up_proj")
    if down is None or up is None or down.dim() != 3 or up.dim() != 3:
        return None
    transposed = bool(getattr(module, "is_transposed", False))
    e = int(up.shape[0])
    if transposed:  # up: [E, H, k*I], down: [E, I, H]
        hidden, inter = int(up.shape[1]), int(down.shape[1])
    else:  # up: [E, k*I, H], down: [E, H, I]
        hidden, inter = int(up.shape[2]), int(down.shape[2])
    return {"num_experts": e, "hidden": hidden, "intermediate": inter, "has_gate": has_gate,
            "transposed": transposed}


def describe(module: Any, config: Any = None, architecture: Optional[str] = None) -> Dict[str, Any]:
    """The ``awqmap.model/v1`` description of a live ``torch.nn.Module``.

    Modules are listed in ``named_modules()`` order with their class name, their module base
    classes (nearest first, up to ``torch.nn.Module``), Linear ``in_features``/``out_features``
    and the weight shape of other modules that have one (norms, embeddings, routers). Fused
    experts (3-D ``gate_up_proj``/``down_proj`` parameters) are written as llm-compressor
    calibrates them: a ``Linear<Class>`` ModuleList of ``ExpertMLPWithGate`` (or
    ``ExpertMLPWithoutGate``) modules with ``up_proj``, ``gate_proj`` and ``down_proj`` Linear
    children. ``config`` (a dict or an object with ``to_dict()``) defaults to ``module.config``;
    ``architecture`` to the module's class name.
    """
    import torch

    nn = torch.nn
    if not isinstance(module, nn.Module):
        raise TypeError(f"describe: expected a torch.nn.Module, not {type(module).__name__}")
    records: List[Dict[str, Any]] = []
    for name, mod in module.named_modules():
        cls = type(mod)
        info = fused_experts_info(mod)
        if info is not None:
            records.append({"name": name, "type": "Linear" + cls.__name__, "bases": ["ModuleList"]})
            prefix = f"{name}." if name else ""
            projs = ["up_proj", "gate_proj", "down_proj"] if info["has_gate"] else ["up_proj", "down_proj"]
            h, i = info["hidden"], info["intermediate"]
            for e in range(info["num_experts"]):
                records.append({"name": f"{prefix}{e}",
                                "type": "ExpertMLPWithGate" if info["has_gate"] else "ExpertMLPWithoutGate"})
                for p in projs:
                    fin, fout = (i, h) if p == "down_proj" else (h, i)
                    records.append({"name": f"{prefix}{e}.{p}", "type": "Linear", "in_features": fin,
                                    "out_features": fout})
            continue
        rec: Dict[str, Any] = {"name": name, "type": cls.__name__}
        bases = _bases(cls, nn.Module)
        if bases:
            rec["bases"] = bases
        if isinstance(mod, nn.Linear):
            rec["in_features"] = int(mod.in_features)
            rec["out_features"] = int(mod.out_features)
        else:
            w = mod._parameters.get("weight") if hasattr(mod, "_parameters") else None
            if w is not None:
                rec["shape"] = [int(x) for x in w.shape]
        records.append(rec)
    return {"format": "awqmap.model/v1", "architecture": architecture or type(module).__name__,
            "config": _config_dict(module, config), "modules": records}


# ---------------------------------------------------------------------------------------------
# verify

def _groups_of(result: Any) -> List[Tuple[str, List[str]]]:
    from .results import Resolution, ResolvedGroup
    if isinstance(result, dict):
        result = Resolution.from_json(result)
    items = result.resolved if isinstance(result, Resolution) else list(result)
    out = []
    for g in items:
        if isinstance(g, ResolvedGroup):
            out.append((g.smooth_name, list(g.balance_names)))
        elif isinstance(g, dict):
            out.append((g["smooth_name"], list(g["balance_names"])))
        else:
            smooth, balance = g
            out.append((smooth, list(balance)))
    return out


def _first_tensor(out: Any, torch: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out
    logits = getattr(out, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    if isinstance(out, dict):
        if isinstance(out.get("logits"), torch.Tensor):
            return out["logits"]
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        for x in out:
            t = _first_tensor(x, torch)
            if t is not None:
                return t
    return None


def _rel_diff(a: Any, b: Any) -> float:
    if a is None or b is None or a.shape != b.shape:
        return math.inf
    a = a.detach().double()
    b = b.detach().double()
    if not bool(a.isfinite().all()):
        return math.inf
    scale = float(b.abs().max()) if b.numel() else 0.0
    diff = float((a - b).abs().max()) if b.numel() else 0.0
    return diff / max(scale, 1e-300)


def _guess_inputs(module: Any, torch: Any, seq_len: int, generator: Any) -> Any:
    cfg = getattr(module, "config", None)
    vocab = getattr(cfg, "vocab_size", None)
    if cfg is not None and getattr(cfg, "get_text_config", None) is not None:
        try:
            vocab = getattr(cfg.get_text_config(), "vocab_size", vocab)
        except Exception:  # a config without a text part: keep the top-level size
            pass
    if isinstance(vocab, int) and vocab > 0:
        ids = torch.randint(0, vocab, (1, seq_len), generator=generator)
        return {"input_ids": ids, "use_cache": False}
    for _, mod in module.named_modules():
        if isinstance(mod, torch.nn.Embedding):
            return torch.randint(0, mod.num_embeddings, (2, seq_len), generator=generator)
        if isinstance(mod, torch.nn.Linear):
            return torch.randn(2, seq_len, mod.in_features, generator=generator)
        w = mod._parameters.get("weight")
        if w is not None and w.dim() == 1:
            return torch.randn(2, seq_len, int(w.shape[0]), generator=generator)
    raise TypeError(f"verify: cannot guess an input for {type(module).__name__}; pass inputs=")


def _call(module: Any, inputs: Any) -> Any:
    if isinstance(inputs, dict):
        return module(**inputs)
    if isinstance(inputs, (tuple, list)):
        return module(*inputs)
    return module(inputs)


def _cast_inputs(inputs: Any, dtype: Any, device: Any, torch: Any) -> Any:
    if isinstance(inputs, torch.Tensor):
        t = inputs.to(device) if device is not None else inputs
        return t.to(dtype) if (dtype is not None and t.is_floating_point()) else t
    if isinstance(inputs, dict):
        return {k: _cast_inputs(v, dtype, device, torch) for k, v in inputs.items()}
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(_cast_inputs(v, dtype, device, torch) for v in inputs)
    return inputs


def _channels_of(mod: Any, torch: Any) -> Optional[int]:
    if isinstance(mod, torch.nn.Linear):
        return int(mod.out_features)
    w = getattr(mod, "_parameters", {}).get("weight")
    if w is not None and w.dim() == 1:
        return int(w.shape[0])
    return None


def _absorbable(mod: Any, channels: int, torch: Any) -> bool:
    """The smooth module can take 1/s into its own parameters: a weight with one row (or entry)
    per output channel, and a bias (if any) likewise."""
    params = getattr(mod, "_parameters", {})
    w = params.get("weight")
    b = params.get("bias")
    if w is None:
        return False
    if isinstance(mod, torch.nn.Embedding):
        ok = w.dim() == 2 and int(w.shape[1]) == channels
    else:
        ok = w.dim() >= 1 and int(w.shape[0]) == channels and (w.dim() > 1 or w.numel() == channels)
    if b is not None:
        ok = ok and b.dim() == 1 and int(b.shape[0]) == channels
    return bool(ok)


def verify(module: Any, result: Any, inputs: Any = None, *, seed: int = 0, low: float = 0.5, high: float = 2.0,
           tolerance: float = 1e-6, dtype: Any = "float64", control: bool = True, seq_len: int = 8,
           forward: Optional[Callable[[Any, Any], Any]] = None) -> List[Dict[str, Any]]:
    """Numerically checks each resolved group of ``result`` on the live ``module``.

    For each group, random per-channel scales ``s`` in [low, high] divide the smooth module's
    output (a forward hook; for a fused expert's ``up_proj``/``gate_proj``, its weight rows) and
    multiply the balance modules' inputs (forward pre-hooks; for fused experts, the experts' input
    weight columns); the model's output is compared with the
    unscaled run. Returns one dict per group: ``smooth_name``, ``balance_names``, ``exact``
    (relative change <= ``tolerance`` and every module reached), ``max_rel_diff``,
    ``absorbable`` (the smooth module has a per-output-channel weight, and bias if any),
    ``reached`` (the forward ran the smooth module and every balance module),
    ``control_rel_diff`` (the change with no compensation: how far a wrong group moves the
    output, so that the check is not blind) and ``error`` (why the group could not be run, or
    None).

    ``result``: a :class:`~awqmap.Resolution`, an ``awqmap.resolved/v1`` dict, or a list of
    groups. ``inputs``: a tensor, tuple (positional) or dict (keyword) for ``module``; guessed
    when None (token ids for models with ``config.vocab_size``, else random activations for
    the first Embedding/Linear/norm). ``dtype``: the model runs in this precision during the
    check (None keeps it). The module is restored afterwards: parameters, dtypes, hooks and
    training mode.
    """
    import torch

    groups = _groups_of(result)
    named = dict(module.named_modules())
    # Modules that hold the same parameter tensor (tied weights, e.g. an encoder and a decoder that
    # share every layer): a quantizer's weight-based rescaling reaches all of them at once.
    holders: Dict[int, List[Tuple[str, Any]]] = {}
    for n, m in named.items():
        for p in m._parameters.values():
            if p is not None:
                holders.setdefault(id(p), []).append((n, m))

    def twins(mod: Any) -> List[Tuple[str, Any]]:
        seen = {id(mod)}
        out: List[Tuple[str, Any]] = []
        for p in mod._parameters.values():
            for n, m in holders.get(id(p), []):
                if id(m) not in seen:
                    seen.add(id(m))
                    out.append((n, m))
        return out
    fused = {n: (m, fused_experts_info(m)) for n, m in named.items() if fused_experts_info(m) is not None}

    def lookup(name: str) -> Tuple[str, Any, Any]:
        if name in named:
            return ("module", named[name], None)
        for fname, (fmod, info) in fused.items():
            prefix = f"{fname}." if fname else ""
            if name.startswith(prefix):
                parts = name[len(prefix):].split(".")
                if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) < info["num_experts"]:
                    return ("fused", fmod, (fname, int(parts[0]), parts[1], info))
        return ("missing", None, None)

    target_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    was_training = module.training
    saved_dtypes: List[Tuple[Any, Any]] = []
    if target_dtype is not None:
        for t in list(module.parameters()) + list(module.buffers()):
            if t.is_floating_point() and t.dtype != target_dtype:
                saved_dtypes.append((t, t.dtype))
    first_param = next(iter(module.parameters()), None)
    device = first_param.device if first_param is not None else None
    gen = torch.Generator().manual_seed(seed)
    run_inputs = inputs if inputs is not None else _guess_inputs(module, torch, seq_len, gen)
    run_inputs = _cast_inputs(run_inputs, target_dtype, device, torch)
    fwd = forward or _call
    verdicts: List[Dict[str, Any]] = []
    try:
        module.eval()
        for t, _ in saved_dtypes:
            t.data = t.data.to(target_dtype)
        with torch.no_grad():
            base = _first_tensor(fwd(module, run_inputs), torch)
            if base is None:
                raise TypeError(f"verify: {type(module).__name__} returned no tensor; pass forward= that returns one")
            noise = _rel_diff(_first_tensor(fwd(module, run_inputs), torch), base)
            for idx, (smooth_name, balance_names) in enumerate(groups):
                verdicts.append(_verify_group(module, torch, fwd, run_inputs, base, noise, idx, smooth_name,
                                              balance_names, lookup, seed, low, high, tolerance, control,
                                              target_dtype, device, twins))
    finally:
        for t, dt in saved_dtypes:
            t.data = t.data.to(dt)
        module.train(was_training)
    return verdicts


def _verify_group(module: Any, torch: Any, fwd: Callable[[Any, Any], Any], inputs: Any, base: Any, noise: float,
                  idx: int, smooth_name: str, balance_names: List[str], lookup: Callable[[str], Tuple[str, Any, Any]],
                  seed: int, low: float, high: float, tolerance: float, control: bool, dtype: Any,
                  device: Any, twins: Callable[[Any], List[Tuple[str, Any]]] = lambda m: []) -> Dict[str, Any]:
    verdict: Dict[str, Any] = {"smooth_name": smooth_name, "balance_names": list(balance_names), "exact": False,
                               "max_rel_diff": math.inf, "absorbable": False, "reached": False,
                               "control_rel_diff": None, "error": None}
    kind, smooth, smooth_extra = lookup(smooth_name)
    if kind == "missing":
        verdict["error"] = f"smooth module {smooth_name!r} is not a module of the model"
        return verdict
    if kind == "fused" and smooth_extra[2] not in ("gate_proj", "up_proj"):
        verdict["error"] = f"smooth module {smooth_name!r}: only an expert's gate_proj or up_proj can be smoothed"
        return verdict
    balances = [(n,) + lookup(n) for n in balance_names]
    missing = [n for n, k, _, _ in balances if k == "missing"]
    if missing:
        verdict["error"] = f"balance modules not in the model: {', '.join(missing)}"
        return verdict
    # Modules tied to the smooth or a balance module are rescaled with it (as a weight-based
    # rescaling would); a tie to a module of another kind (an embedding tied to a head) is not
    # modelled and makes the group an error, never exact.
    in_group = {id(smooth)} | {id(mod) for _, k, mod, _ in balances if k == "module"}
    smooth_twins = [(n, t) for n, t in (twins(smooth) if kind == "module" else []) if id(t) not in in_group]
    balance_twins = {id(mod): [(n, t) for n, t in twins(mod) if id(t) not in in_group]
                     for _, k, mod, _ in balances if k == "module"}
    odd = [n for n, t in smooth_twins if type(t) is not type(smooth)] + [
        n for _, k, mod, _ in balances if k == "module" for n, t in balance_twins[id(mod)] if type(t) is not type(mod)]
    if odd:
        verdict["error"] = "weights tied with modules of another kind: " + ", ".join(odd)
        return verdict
    # A fused expert's projection (experts.E.up_proj) smooths through its rows of the 3-D weight.
    channels = smooth_extra[3]["intermediate"] if kind == "fused" else _channels_of(smooth, torch)
    if channels is None:
        n, k, mod, extra = balances[0]
        channels = int(mod.in_features) if k == "module" and isinstance(mod, torch.nn.Linear) else (
            extra[3]["hidden"] if k == "fused" else None)
    if channels is None:
        verdict["error"] = "cannot tell the smooth output's channel count"
        return verdict
    verdict["absorbable"] = True if kind == "fused" else _absorbable(smooth, channels, torch)
    gen = torch.Generator().manual_seed(seed * 1000003 + idx + 1)
    s = torch.empty(channels, dtype=torch.float64).uniform_(low, high, generator=gen)
    s = s.to(device=device, dtype=dtype if dtype is not None else base.dtype)

    state = {"smooth": False, "bad_shape": None}
    reached = {n: False for n in balance_names}

    def scale_last(x: Any, factor: Any, what: str) -> Any:
        if isinstance(x, torch.Tensor):
            if x.shape[-1] != channels:
                state["bad_shape"] = f"{what} has {x.shape[-1]} channels, the group {channels}"
                return x
            return x * factor.to(x.dtype)
        if isinstance(x, tuple) and x and isinstance(x[0], torch.Tensor):
            return (scale_last(x[0], factor, what),) + tuple(x[1:])
        state["bad_shape"] = f"{what} is not a tensor"
        return x

    def smooth_hook(mod: Any, args: Any, out: Any) -> Any:
        state["smooth"] = True
        return scale_last(out, 1.0 / s, f"output of {smooth_name}")

    def scale_input(n: str, mark: bool) -> Callable[[Any, Any], Any]:
        """A pre-hook multiplying module `n`'s input by s (`mark`: `n` is a balance module of the group)."""
        def pre(m: Any, args: Any) -> Any:
            if mark:
                reached[n] = True
            if not args:
                state["bad_shape"] = f"{n} was called without positional input"
                return None
            return (scale_last(args[0], s, f"input of {n}"),) + tuple(args[1:])
        return pre

    def fused_smooth_reached(mod: Any, args: Any) -> None:
        state["smooth"] = True

    def run(compensate: bool) -> Any:
        restore: List[Tuple[Any, Any]] = []
        handles = [smooth.register_forward_pre_hook(fused_smooth_reached) if kind == "fused"
                   else smooth.register_forward_hook(smooth_hook)]
        handles += [t.register_forward_hook(smooth_hook) for _, t in smooth_twins]
        try:
            if kind == "fused":
                _, e, proj, info = smooth_extra
                _scale_fused_output(smooth, info, e, proj, 1.0 / s, restore)
            if compensate:
                by_fused: Dict[int, List[Tuple[str, Any, Any]]] = {}
                for n, k, mod, extra in balances:
                    if k == "module":
                        handles.append(mod.register_forward_pre_hook(scale_input(n, mark=True)))
                        handles += [t.register_forward_pre_hook(scale_input(tn, mark=False))
                                    for tn, t in balance_twins[id(mod)]]
                    else:
                        by_fused.setdefault(id(mod), []).append((n, mod, extra))
                for items in by_fused.values():
                    fmod = items[0][1]
                    names = [n for n, _, _ in items]

                    def mark(m: Any, args: Any, names: List[str] = names) -> None:
                        for n in names:
                            reached[n] = True
                    handles.append(fmod.register_forward_pre_hook(mark))
                    for n, _, (fname, e, proj, info) in items:
                        _scale_fused(fmod, info, e, proj, s, restore)
            return _first_tensor(fwd(module, inputs), torch)
        finally:
            for h in handles:
                h.remove()
            for t, original in reversed(restore):
                t.data.copy_(original)

    try:
        out = run(True)
        verdict["max_rel_diff"] = _rel_diff(out, base)
        verdict["reached"] = state["smooth"] and all(reached.values())
        if control:
            verdict["control_rel_diff"] = _rel_diff(run(False), base)
    except Exception as e:  # a group the model cannot run scaled is reported, not fatal
        verdict["error"] = f"{type(e).__name__}: {e}"
        return verdict
    if state["bad_shape"]:
        verdict["error"] = state["bad_shape"]
    elif not state["smooth"]:
        verdict["error"] = "the forward pass never ran the smooth module"
    elif not verdict["reached"]:
        verdict["error"] = "the forward pass never ran " + ", ".join(n for n, r in reached.items() if not r)
    bound = max(tolerance, 10 * noise)
    verdict["exact"] = bool(verdict["reached"] and not verdict["error"] and verdict["max_rel_diff"] <= bound)
    return verdict


def _fused_rows(fmod: Any, info: Dict[str, Any], e: int, proj: str) -> Tuple[Any, Any]:
    """The 3-D parameter holding expert ``e``'s ``proj`` (gate_proj/up_proj) and its output rows."""
    inter = info["intermediate"]
    if info["has_gate"]:
        return fmod._parameters["gate_up_proj"], (slice(0, inter) if proj == "gate_proj" else slice(inter, 2 * inter))
    if proj != "up_proj":
        raise ValueError(f"fused experts without gate have no {proj}")
    return fmod._parameters["up_proj"], slice(0, inter)


def _scale_fused_output(fmod: Any, info: Dict[str, Any], e: int, proj: str, s: Any,
                        restore: List[Tuple[Any, Any]]) -> None:
    """Multiplies the output channels of expert ``e``'s ``proj`` (gate_proj/up_proj) by ``s``:
    its weight rows and, where the experts have one, its bias."""
    w, rows = _fused_rows(fmod, info, e, proj)
    restore.append((w, w.data.clone()))
    if info["transposed"]:  # [E, H, k*I]: output channels are the last dim
        w.data[e, :, rows] *= s.to(w.dtype)
    else:  # [E, k*I, H]
        w.data[e, rows, :] *= s.to(w.dtype).unsqueeze(1)
    bias = fmod._parameters.get(("gate_up_proj" if info["has_gate"] else "up_proj") + "_bias")
    if bias is not None:
        restore.append((bias, bias.data.clone()))
        bias.data[e, rows] *= s.to(bias.dtype)


def _scale_fused(fmod: Any, info: Dict[str, Any], e: int, proj: str, s: Any, restore: List[Tuple[Any, Any]]) -> None:
    """Multiplies the input channels of expert ``e``'s ``proj`` by ``s``: the hidden-size columns
    of gate_proj/up_proj, or the intermediate-size columns of down_proj."""
    if proj == "down_proj":
        w = fmod._parameters["down_proj"]
        restore.append((w, w.data.clone()))
        if info["transposed"]:  # [E, I, H]: input channels are dim 1
            w.data[e, :, :] *= s.to(w.dtype).unsqueeze(1)
        else:  # [E, H, I]
            w.data[e, :, :] *= s.to(w.dtype)
        return
    if proj not in ("gate_proj", "up_proj"):
        raise ValueError(f"fused experts: {proj} of expert {e} does not read the experts' input")
    w, rows = _fused_rows(fmod, info, e, proj)
    restore.append((w, w.data.clone()))
    if info["transposed"]:  # [E, H, k*I]: input channels are dim 1
        w.data[e, :, rows] *= s.to(w.dtype).unsqueeze(1)
    else:  # [E, k*I, H]: input channels are the last dim
        w.data[e, rows, :] *= s.to(w.dtype)
