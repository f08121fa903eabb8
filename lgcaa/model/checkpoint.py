"""Atomic training checkpoints in safetensors: trainable weights, Adam state, LR scheduler, RNG states.

Layout of a run folder:
    <run>/config.json                      resolved LGCAAConfig (written once)
    <run>/checkpoints/step-0000100/        one complete checkpoint:
        trainable.safetensors              trainable parameters (the frozen ones come from the base weights)
        optimizer.safetensors              optimizer state tensors; param_groups in the metadata
        rng.safetensors                    torch CPU (+ CUDA) generator states
        state.json                         step, LR scheduler state, Python/NumPy RNG, base fingerprint
    <run>/checkpoints/latest               name of the newest complete checkpoint
    <run>/model.safetensors                final trainable weights (written when training finishes)

A checkpoint is written into a hidden temporary folder and renamed into place, and `latest` is replaced
atomically afterwards, so a killed run leaves either the previous or the new checkpoint, never a torn one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from lgcaa.errors import UserError
from lgcaa.io import write_json, write_text


def fingerprint(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over names, shapes and bytes (CPU copies) of a state dict; identifies frozen base weights."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_weights(dest: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Atomic, byte-reproducible safetensors write of CPU copies: identical tensors and metadata give identical
    bytes (safetensors writes its JSON header in hash-map order, different in every call; it is rewritten with
    sorted keys), so a file's sha256 can prove that two runs agree."""
    from lgcaa.io import atomic_path

    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    with atomic_path(dest, suffix=".safetensors") as tmp:
        raw = tmp.with_name(tmp.name + ".raw")
        try:
            save_file(cpu, str(raw), metadata=metadata)
            canonical_safetensors(raw, tmp)
        finally:
            raw.unlink(missing_ok=True)


def canonical_safetensors(src: Path, dst: Path) -> None:
    """Copy a safetensors file with its header re-serialised canonically (sorted keys, no spaces, padded with
    spaces to 8 bytes as the format requires); tensor data and offsets are unchanged."""
    import struct

    with open(src, "rb") as f, open(dst, "wb") as out:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.dumps(json.loads(f.read(n)), sort_keys=True, separators=(",", ":")).encode()
        header += b" " * (-len(header) % 8)
        out.write(struct.pack("<Q", len(header)) + header)
        shutil.copyfileobj(f, out, 1 << 20)


def load_trainable(net: torch.nn.Module, path: Path) -> None:
    """Copy saved trainable weights into `net`; names and shapes must match exactly."""
    saved = load_file(str(path))
    own = {n: p for n, p in net.named_parameters() if p.requires_grad}
    missing, unexpected = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
    if missing or unexpected:
        raise UserError(
            f"{path}: weights do not match this model config (missing {len(missing)}, e.g. {missing[:2]}; "
            f"unexpected {len(unexpected)}, e.g. {unexpected[:2]}); sample with the config.json of the run that wrote it"
        )
    with torch.no_grad():
        for name, param in own.items():
            if saved[name].shape != param.shape:
                raise UserError(f"{path}: {name} has shape {tuple(saved[name].shape)}, model expects {tuple(param.shape)}")
            param.copy_(saved[name].to(param.device, param.dtype))


def _optimizer_to_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for idx, slots in state["state"].items():
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{idx}.{key}"] = value
            else:
                scalars[f"{idx}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _optimizer_from_tensors(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    for name, value in meta["scalars"].items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def _rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{i}"] = s
    py = random.getstate()
    np_state = np.random.get_state()
    meta = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    return tensors, meta


def _set_rng_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("torch_cuda_")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])
    py = meta["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = meta["numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), n[2], n[3], n[4]))


def checkpoints_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def save_checkpoint(run_dir: Path, step: int, net: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    lr_scheduler: Any, extra: dict[str, Any], keep: int = 2) -> Path:
    """Write checkpoint `step-{step}` atomically, point `latest` at it, prune to the newest `keep`."""
    root = checkpoints_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:07d}"
    tmp = root / f".tmp-step-{step:07d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        trainable = {n: p for n, p in net.named_parameters() if p.requires_grad}
        save_file({k: v.detach().cpu().contiguous() for k, v in trainable.items()}, str(tmp / "trainable.safetensors"))
        opt_tensors, opt_meta = _optimizer_to_tensors(optimizer.state_dict())
        save_file({k: v.detach().cpu().contiguous() for k, v in opt_tensors.items()}, str(tmp / "optimizer.safetensors"),
                  metadata={"meta": json.dumps(opt_meta)})
        rng_tensors, rng_meta = _rng_state()
        save_file(rng_tensors, str(tmp / "rng.safetensors"))
        state = {"step": step, "lr_scheduler": lr_scheduler.state_dict(), "rng": rng_meta, **extra}
        (tmp / "state.json").write_text(json.dumps(state, sort_keys=True))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    write_text(root / "latest", final.name + "\n")
    for old in sorted(p for p in root.glob("step-*") if p.is_dir())[:-keep]:
        shutil.rmtree(old)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None."""
    root = checkpoints_dir(run_dir)
    pointer = root / "latest"
    if pointer.is_file():
        cand = root / pointer.read_text().strip()
        if (cand / "state.json").is_file():
            return cand
    complete = sorted(p for p in root.glob("step-*") if (p / "state.json").is_file())
    return complete[-1] if complete else None


def load_checkpoint(ckpt: Path, net: torch.nn.Module, optimizer: torch.optim.Optimizer, lr_scheduler: Any) -> dict[str, Any]:
    """Restore weights, optimizer, scheduler and RNG states; returns state.json."""
    state = json.loads((ckpt / "state.json").read_text())
    load_trainable(net, ckpt / "trainable.safetensors")
    from safetensors import safe_open

    with safe_open(str(ckpt / "optimizer.safetensors"), "pt") as f:
        meta = json.loads(f.metadata()["meta"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
    optimizer.load_state_dict(_optimizer_from_tensors(tensors, meta))
    lr_scheduler.load_state_dict(state["lr_scheduler"])
    _set_rng_state(load_file(str(ckpt / "rng.safetensors")), state["rng"])
    return state


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    write_json(Path(run_dir) / "config.json", config)
