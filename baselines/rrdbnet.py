"""Official RRDBNet checkpoints (BSRGAN, Real-ESRGAN x4plus, LDL) loaded into basicsr's RRDBNet.

Two key layouts exist for the same network (nf 64, nb 23, gc 32, x4):
  - "basicsr": conv_first, body.{i}.rdb{1,2,3}.conv{1..5}, conv_body, conv_up1, conv_up2, conv_hr, conv_last
    (Real-ESRGAN's and LDL's checkpoints, wrapped as {"params_ema": ...} or {"params": ...});
  - "kair": conv_first, RRDB_trunk.{i}.RDB{1,2,3}.conv{1..5}, trunk_conv, upconv1, upconv2, HRconv, conv_last
    (BSRGAN.pth from cszn/KAIR, a bare state dict).
Both have the same tensors in the same roles, so a KAIR checkpoint is renamed key by key and loaded strictly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lgcaa.compat import import_basicsr
from lgcaa.errors import UserError

# (pattern, replacement) applied in order to every KAIR key
KAIR_TO_BASICSR: tuple[tuple[str, str], ...] = (
    (r"^RRDB_trunk\.(\d+)\.RDB([123])\.", r"body.\1.rdb\2."),
    (r"^trunk_conv\.", "conv_body."),
    (r"^upconv1\.", "conv_up1."),
    (r"^upconv2\.", "conv_up2."),
    (r"^HRconv\.", "conv_hr."),
)


def unwrap_state_dict(obj: Any, param_key: str | None) -> dict[str, Any]:
    """The tensor dict of a checkpoint: obj[param_key] when given and present, else obj itself."""
    if param_key is not None and isinstance(obj, dict) and param_key in obj:
        obj = obj[param_key]
    if not isinstance(obj, dict):
        raise TypeError(f"checkpoint holds {type(obj).__name__}, not a state dict")
    return obj


def kair_to_basicsr(state: dict[str, Any]) -> dict[str, Any]:
    """Rename KAIR-layout keys to basicsr's; keys already in basicsr layout pass unchanged."""
    out = {}
    for key, value in state.items():
        for pattern, repl in KAIR_TO_BASICSR:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def load_rrdbnet(path: str | Path, layout: str, param_key: str | None, num_block: int = 23, scale: int = 4):
    """basicsr RRDBNet (eval mode, CPU) holding the checkpoint at `path`; UserError naming the file on mismatch."""
    import torch

    import_basicsr()
    from basicsr.archs.rrdbnet_arch import RRDBNet

    if layout not in ("basicsr", "kair"):
        raise ValueError(f"unknown RRDBNet key layout {layout!r}")
    path = Path(path)
    net = RRDBNet(num_in_ch=3, num_out_ch=3, num_feat=64, num_block=num_block, num_grow_ch=32, scale=scale)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
        state = unwrap_state_dict(raw, param_key)
        if layout == "kair":
            state = kair_to_basicsr(state)
        net.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, TypeError, OSError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:300]
        raise UserError(
            f"{path}: not an RRDBNet checkpoint in the {layout} key layout ({first}); "
            "delete it and fetch the official file again (lgcaa weights fetch <baseline>)"
        ) from exc
    return net.eval()
