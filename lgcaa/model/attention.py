"""Local-Global Context-Aware Attention (LGCAA) as a diffusers attention processor, and its ablation variants.

It replaces the self-attention (`attn1`) of every transformer block in the UNet's down, mid and up blocks
(paper §III-B). The transformer block has already applied its LayerNorm (`norm1`), which is the paper's
input normalisation X̂, and adds what the processor returns to its residual stream. For tokens x (B, N, C)
on an H×W latent grid, following §III-B1's bullets:

  local   Q,K,V = x·W_q, x·W_k, x·W_v (the layer's own, pretrained projections), split into heads;
          Q̂, K̂ = Q, K scaled to unit RMS per head vector (no gain); softmax(Q̂K̂ᵀ/√d)·V inside
          non-overlapping `window`×`window` windows of the token grid; merge heads, project with W_p (the
          layer's to_out), LayerNorm                                                      -> Z
  global  multi-head self-attention over all N tokens of Z with its own projections (initialised as a copy
          of the layer's pretrained ones), then value clamping to [-clamp, clamp]          -> G
  output  U = LayerNorm(G) (the normalisation "after merging"), then the MLP               -> Y = U + MLP(U)

The MLP is a skip connection plus Linear-GELU-Linear whose last layer starts at zero, so at initialisation
Y = LayerNorm(clamp(G)) (with the LayerNorm's affine fitted to the pretrained output, `lgcaa.model.calibrate`):
the post-merge normalisation and the clamp sit on the path the output takes from the first step (`output="mlp"`,
the default). The registry's flags are read, not implied: the clamp runs only when the variant's `clamp` is
set (it needs the global stage), the MLP exists and runs only when its `mlp` is set (otherwise Y = U, or G for
`output="residual"`). `output="residual"` is the earlier reading
Y = G + MLP(LayerNorm(G)), in which the normalisation acts only once training has moved the MLP.

Variants (Table II; the registry is `lgcaa.model.variants`): `standard` keeps diffusers' SDPA self-attention;
`local` / `global` keep one stage (the kept stage always uses the layer's pretrained projections);
`local+global-no-norm` drops the LayerNorm after the merged local->global attention (U = G); `lgcaa` is the
full module.

Fast path (the processor) vs reference path (`reference_forward`, the equations written out: separate
projections, explicit softmax, a dense window mask): equal within 1e-5 in float32 (tests/test_model_attention.py).
The fast path runs in window-major token order from the first projection to the last MLP layer (global attention,
LayerNorm and MLP do not depend on token order), so the tokens are permuted once in and once out; the global
stage's three projections are one matmul; Q/K normalisation is the fused RMS-norm kernel with a backward that
keeps only its output; all attention products are `F.scaled_dot_product_attention`. Switches:
`checkpointing` (training: the local stage, and everything after the global attention product, are
recomputed in backward, keeping only inputs that are kept anyway; on by default), `compile`
(`torch.compile` of the processor's forward). The clamp keeps only its output for backward.

Capture hook (Fig. 10, no cost when unset): `set_capture(model, fn)` makes every LGCAA processor call
`fn(layer, stage, record)` with stage "local" / "global" / "output" and record = {"output": (B, N, C)
row-major tokens of that stage, "q", "k": (B, heads, N, d) row-major queries/keys the stage attended with
(normalised for the local stage), "grid": (h, w), "window": side}; `attention_map(record, token)` turns a
record into the (B, heads, N) attention weights of one query token. Under activation checkpointing the local
and output stages call it again during backward; capture under `torch.no_grad()`.

The latent grid size reaches the processors as `cross_attention_kwargs={"spatial_hw": (h, w)}` (the size at
the UNet input); each processor derives its level's grid from its token count. Every other attention
processor of the model is `SDPAProcessor`, which accepts and ignores that argument.

Why one module (over 500 lines): the processor, its fused fast path and the reference path state the same
equations twice and are checked against each other, so they are read side by side; the window helpers and the
autograd functions above them serve only these two paths.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lgcaa.compat import import_diffusers
from lgcaa.model.variants import (
    ATTENTION_VARIANTS,
    DEFAULT_LGCAA_OUTPUT,
    LGCAA_OUTPUTS,
    AttentionVariant,
    default_clamp,
    get_variant,
)

import_diffusers()  # before the process's first diffusers import (lgcaa.compat: bitsandbytes stays unloaded)
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

__all__ = [
    "ATTENTION_VARIANTS", "AttentionVariant", "LGCAAProcessor", "SDPAProcessor", "attention_map",
    "install_attention", "reference_forward", "set_capture",
]

RMS_EPS = 1e-6
# |fast path - reference path| bound in float32 on the shapes of the tests (max abs over outputs and grads)
COMPILE_BACKEND = "inductor"  # tests use "aot_eager" (same tracing and autograd, no C++ build)

CaptureFn = Callable[[str, str, dict[str, Any]], None]


class SDPAProcessor(AttnProcessor2_0):
    """diffusers' `AttnProcessor2_0` that also accepts (and ignores) `spatial_hw`."""

    def __call__(  # type: ignore[override]
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        spatial_hw: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, temb)


# ----------------------------------------------------------------------------------------------------------
# Token layout
# ----------------------------------------------------------------------------------------------------------


def token_grid(n_tokens: int, spatial_hw: tuple[int, int] | None) -> tuple[int, int]:
    """The (h, w) grid of `n_tokens` row-major tokens at some UNet level.

    `spatial_hw` is the latent size at the UNet input; each downsampling maps h -> ceil(h/2). Without it
    the grid must be square.
    """
    if spatial_hw is None:
        side = math.isqrt(n_tokens)
        if side * side != n_tokens:
            raise ValueError(
                f"{n_tokens} tokens are not a square grid; pass cross_attention_kwargs={{'spatial_hw': (h, w)}}"
            )
        return side, side
    h, w = int(spatial_hw[0]), int(spatial_hw[1])
    while h * w > n_tokens:
        h, w = (h + 1) // 2, (w + 1) // 2
    if h * w != n_tokens:
        raise ValueError(f"{n_tokens} tokens do not match latent size {tuple(spatial_hw)} at any UNet level")
    return h, w


def window_layout(batch: int, grid: tuple[int, int], window: int) -> tuple[int, ...]:
    """(b, h, w, wh, ww, hp, wp): window sides (a grid side smaller than `window` uses the whole side) and the
    padded grid."""
    h, w = grid
    wh, ww = min(window, h), min(window, w)
    return batch, h, w, wh, ww, h + (-h) % wh, w + (-w) % ww


def window_order(x: torch.Tensor, grid: tuple[int, int], window: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """(B, N, C) row-major tokens -> (B * nW, L, C) tokens grouped by window (zero-padded), plus the layout.

    A grid side smaller than `window` uses the whole side; sides that do not divide are padded.
    """
    b, _, c = x.shape
    layout = window_layout(b, grid, window)
    _, h, w, wh, ww, hp, wp = layout
    x = x.reshape(b, h, w, c)
    if (hp, wp) != (h, w):
        x = F.pad(x, (0, 0, 0, wp - w, 0, hp - h))
    x = x.reshape(b, hp // wh, wh, wp // ww, ww, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b * (hp // wh) * (wp // ww), wh * ww, c), layout


def window_restore(x: torch.Tensor, layout: tuple[int, ...]) -> torch.Tensor:
    """Inverse of `window_order`: (B * nW, L, C) -> (B, N, C), padding dropped."""
    b, h, w, wh, ww, hp, wp = layout
    c = x.shape[-1]
    x = x.reshape(b, hp // wh, wp // ww, wh, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
    return x[:, :h, :w].reshape(b, h * w, c)


def is_padded(layout: tuple[int, ...]) -> bool:
    b, h, w, wh, ww, hp, wp = layout
    return (hp, wp) != (h, w)


def window_key_mask(layout: tuple[int, ...], device: torch.device) -> torch.Tensor | None:
    """(B * nW, 1, 1, L) bool mask of real (non-padding) keys, or None when nothing is padded."""
    b, h, w, wh, ww, hp, wp = layout
    if not is_padded(layout):
        return None
    valid = torch.zeros(hp, wp, dtype=torch.bool, device=device)
    valid[:h, :w] = True
    valid = valid.reshape(hp // wh, wh, wp // ww, ww).permute(0, 2, 1, 3).reshape(1, -1, 1, 1, wh * ww)
    return valid.expand(b, -1, -1, -1, -1).reshape(-1, 1, 1, wh * ww)


def window_ids(grid: tuple[int, int], window: int, device: torch.device | None = None) -> torch.Tensor:
    """(N,) index of the window each row-major token falls in (the local stage's neighbourhoods)."""
    h, w = grid
    wh, ww = min(window, h), min(window, w)
    rows = torch.arange(h, device=device).repeat_interleave(w) // wh
    cols = torch.arange(w, device=device).repeat(h) // ww
    return rows * (-(-w // ww)) + cols


# ----------------------------------------------------------------------------------------------------------
# Elementwise pieces
# ----------------------------------------------------------------------------------------------------------


class _RMSNormalize(torch.autograd.Function):
    """y = x / sqrt(mean(x², -1) + eps) without a gain, forward through the fused kernel; backward keeps only
    y (which SDPA saves anyway) and 1/rms, so the un-normalised Q, K are freed right after the forward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, eps: float) -> torch.Tensor:  # type: ignore[override]
        y, rstd = torch.ops.aten._fused_rms_norm(x, [x.shape[-1]], None, eps)
        ctx.save_for_backward(y, rstd)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        y, rstd = ctx.saved_tensors
        g, yf = grad.float(), y.float()
        dx = rstd.float() * (g - yf * (g * yf).mean(-1, keepdim=True))
        return dx.to(grad.dtype), None


_FUSED_RMS = hasattr(torch.ops.aten, "_fused_rms_norm")


def rms_normalize(x: torch.Tensor, eps: float = RMS_EPS) -> torch.Tensor:
    """Scale each head vector (last dim) to unit RMS (norm sqrt(d)), so q̂·k̂/sqrt(d) lies in [-sqrt(d), sqrt(d)].

    The fused RMS-norm kernel (`F.rms_norm`'s; float32 accumulation for half inputs). While training, a
    backward that keeps only the output (see `_RMSNormalize`)."""
    if x.requires_grad and _FUSED_RMS:
        return _RMSNormalize.apply(x, eps)
    return F.rms_norm(x, (x.shape[-1],), eps=eps)


class _ClampSavingOutput(torch.autograd.Function):
    """clamp(x, -b, b) whose backward keeps only the output (which the next layer saves anyway)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, bound: float) -> torch.Tensor:  # type: ignore[override]
        y = x.clamp(-bound, bound)
        ctx.save_for_backward(y)
        ctx.bound = bound
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (y,) = ctx.saved_tensors
        return grad * (y.abs() < ctx.bound).to(grad.dtype), None


def clamp_values(x: torch.Tensor, bound: float) -> torch.Tensor:
    """Clamp to [-bound, bound] (bound capped at the dtype's max); Inf becomes ±bound, NaN stays NaN."""
    bound = min(float(bound), torch.finfo(x.dtype).max)
    return _ClampSavingOutput.apply(x, bound) if x.requires_grad else x.clamp(-bound, bound)


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, N, C) -> (B, heads, N, C/heads); works on the strided chunks of a fused projection."""
    b, n, c = x.shape
    return x.reshape(b, n, heads, c // heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    b, heads, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, heads * d)


def _qkv(x: torch.Tensor, q: nn.Linear, k: nn.Linear, v: nn.Linear) -> tuple[torch.Tensor, ...]:
    """The three projections as one matmul over concatenated weights (gradients split back by autograd)."""
    biases = (q.bias, k.bias, v.bias)
    if all(b is None for b in biases):
        bias = None
    elif all(b is not None for b in biases):
        bias = torch.cat(biases)
    else:
        return q(x), k(x), v(x)
    return F.linear(x, torch.cat((q.weight, k.weight, v.weight)), bias).chunk(3, dim=-1)


# ----------------------------------------------------------------------------------------------------------
# The processor
# ----------------------------------------------------------------------------------------------------------


class LGCAAProcessor(nn.Module):
    """Self-attention processor with trainable parameters (registered under `attn.processor`).

    Built from the `Attention` it replaces: `dim` = query width, heads and head width as that layer.
    clamp: bound of the global stage's values (None: SD2-base's measured bound, `variants.CLAMP_BOUNDS`).
    output: "mlp" (Y = U + MLP(U), U = LayerNorm(G)) or "residual" (Y = G + MLP(U)); see the module docstring.
    checkpointing: recompute the local stage, and everything after the global attention product, in backward
        (training only).
    compile: run the forward through `torch.compile` (built on first call).
    """

    def __init__(self, attn: Attention, variant: AttentionVariant, window: int = 8, clamp: float | None = None,
                 mlp_ratio: float = 1.0, output: str = DEFAULT_LGCAA_OUTPUT, checkpointing: bool = True,
                 compile: bool = False, name: str = ""):
        super().__init__()
        if variant.standard:
            raise ValueError("an LGCAA variant needs the local or the global stage")
        if output not in LGCAA_OUTPUTS:
            raise ValueError(f"unknown LGCAA output {output!r}; choose from {', '.join(LGCAA_OUTPUTS)}")
        dim = attn.to_q.in_features
        inner = attn.to_q.out_features
        if attn.to_out[0].out_features != dim or inner % attn.heads:
            raise ValueError(f"unsupported attention layer shape: {attn}")
        if attn.residual_connection or attn.rescale_output_factor != 1.0 or attn.norm_q is not None or attn.spatial_norm is not None:
            raise ValueError("LGCAAProcessor expects a plain self-attention layer (no residual/rescale/qk-norm)")
        self.variant, self.window, self.heads = variant, int(window), attn.heads
        self.clamp = float(default_clamp() if clamp is None else clamp)
        self.output, self.checkpointing, self.name = output, checkpointing, name
        self.capture: CaptureFn | None = None
        # calibration hook (`lgcaa.model.calibrate`): when set, the layer returns the pretrained self-attention
        # output and hands (self, G, that output) to the hook (G: what the post-merge LayerNorm normalises)
        self.calibration: Callable[[LGCAAProcessor, torch.Tensor, torch.Tensor], None] | None = None
        if variant.local:
            self.local_norm = nn.LayerNorm(dim)
        if variant.local and variant.global_:  # second stage: a trainable copy of the pretrained projections
            self.global_q = copy.deepcopy(attn.to_q)
            self.global_k = copy.deepcopy(attn.to_k)
            self.global_v = copy.deepcopy(attn.to_v)
            self.global_out = copy.deepcopy(attn.to_out[0])
        self.post_norm = nn.LayerNorm(dim) if variant.post_norm else nn.Identity()
        if variant.mlp:  # the registry's flags decide what is built and run (a variant without it: Y = U, or G)
            hidden = max(1, round(dim * mlp_ratio))
            self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
            nn.init.zeros_(self.mlp[2].weight)
            nn.init.zeros_(self.mlp[2].bias)
        self.compile = compile
        self._compiled: Callable[..., torch.Tensor] | None = None

    # -- stages (window-major tokens from the local stage to the MLP) ------------------------------------
    def _global_projections(self, attn: Attention) -> tuple[nn.Linear, nn.Linear, nn.Linear, nn.Linear]:
        if self.variant.local:
            return self.global_q, self.global_k, self.global_v, self.global_out
        return attn.to_q, attn.to_k, attn.to_v, attn.to_out[0]

    def _local(self, attn: Attention, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """(B, N, C) row-major tokens -> Z as (B*nW, L, C) window-major tokens: attention inside each window
        with unit-RMS Q, K. Reordering happens inside, so checkpointing keeps only x (which the caller keeps)."""
        xw, layout = window_order(x, grid, self.window)
        mask = window_key_mask(layout, x.device)
        # separate projections (not `_qkv`): un-normalised Q, K are then separate tensors, freed after the norm
        q, k, v = (_heads(f(xw), self.heads) for f in (attn.to_q, attn.to_k, attn.to_v))
        q, k = rms_normalize(q), rms_normalize(k)
        out = _merge(F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
        z = self.local_norm(attn.to_out[1](attn.to_out[0](out)))
        if self.capture is not None:
            self._emit("local", z, q, k)
        return z

    def _back(self, attn: Attention, h: torch.Tensor) -> torch.Tensor:
        """Everything after the global attention product: merge heads, out-projection, clamp -> G; LayerNorm
        -> U; MLP -> Y. `h` is that product (B, heads, N, d), or Z (B, N, C) without a global stage."""
        g = h
        if self.variant.global_:
            g = self._global_projections(attn)[3](_merge(h))
            if self.variant.clamp:
                g = clamp_values(g, self.clamp)
            if self.capture is not None:
                self._emit("global", g, *self._global_qk)
        u = self.post_norm(g)
        y = u if self.output == "mlp" else g
        if self.variant.mlp:
            y = y + self.mlp(u)
        if self.capture is not None:
            self._emit("output", y)
        return y

    def _run(self, fn, *args):
        """Activation checkpointing while training: the local stage and everything after the global attention
        product keep only their inputs, which are kept anyway (the processor's input x; the product, which SDPA
        saves), and are recomputed in backward. The global projections stay outside: recomputing them would put
        their output beside dq, dk, dv during backward and raise the peak."""
        if self.checkpointing and torch.is_grad_enabled():
            from torch.utils.checkpoint import checkpoint

            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def _forward(self, attn: Attention, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        b, n, c = x.shape
        h, layout, keep = x, None, False
        if self.variant.local:
            layout = window_layout(b, grid, self.window)
            # window-major order is kept through the global stage and the MLP; padding tokens must not take
            # part in global attention, so padded grids return to row-major order after the local stage
            keep = not is_padded(layout)
            if self.capture is not None:
                self._layout = layout
            z = self._run(self._local, attn, x, grid)
            h = z.reshape(b, n, c) if keep else window_restore(z, layout)
        if self.variant.global_:
            to_q, to_k, to_v, _ = self._global_projections(attn)
            q, k, v = (_heads(t, self.heads) for t in _qkv(h, to_q, to_k, to_v))
            if self.capture is not None:
                self._global_qk = (q, k)
            h = F.scaled_dot_product_attention(q, k, v)
        y = self._run(self._back, attn, h)
        return window_restore(y.reshape(-1, layout[3] * layout[4], c), layout) if keep else y

    def __call__(  # type: ignore[override]  (diffusers calls processors directly, like IPAdapterAttnProcessor2_0)
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        spatial_hw: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        if encoder_hidden_states is not None or attention_mask is not None or hidden_states.ndim != 3:
            raise ValueError("LGCAAProcessor replaces self-attention only: (B, N, C) tokens, no mask, no context")
        grid = token_grid(hidden_states.shape[1], spatial_hw)
        self._grid = grid
        if self.calibration is not None:
            return self._calibrate(attn, hidden_states, grid)
        if self.compile and self.capture is None:
            if self._compiled is None:
                self._compiled = _compile(self._forward)
            return self._compiled(attn, hidden_states, grid)
        return self._forward(attn, hidden_states, grid)

    def _calibrate(self, attn: Attention, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Run the LGCAA stages up to G (the post-merge LayerNorm's input), hand (G, A) to the calibration hook
        and return A = the layer's pretrained self-attention output (what `standard` returns), so that every
        later layer is calibrated on the pretrained model's own activations."""
        box: dict[str, torch.Tensor] = {}
        saved = self.capture
        self.capture = lambda _layer, stage, record: box.__setitem__(stage, record["output"])
        try:
            self._forward(attn, x, grid)
        finally:
            self.capture = saved
        a = SDPAProcessor()(attn, x)
        self.calibration(self, box["global" if self.variant.global_ else "local"], a)  # type: ignore[misc]
        return a

    def __deepcopy__(self, memo: dict[int, Any]) -> LGCAAProcessor:
        """A copy gets its own compiled forward (the compiled one is bound to this instance)."""
        cls = self.__class__
        new = cls.__new__(cls)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, None if key == "_compiled" else copy.deepcopy(value, memo))
        return new

    # -- capture ---------------------------------------------------------------------------------------
    def _to_row_major(self, t: torch.Tensor) -> torch.Tensor:
        """(B', N', C) tokens in the processor's current order -> (B, N, C) row-major."""
        if not self.variant.local:
            return t
        layout = self._layout
        if layout is None:
            return t
        b, c = layout[0], t.shape[-1]
        if is_padded(layout) and t.shape[0] == b and t.shape[1] == layout[1] * layout[2]:
            return t  # already restored (padded grids leave window order after the local stage)
        return window_restore(t.reshape(-1, layout[3] * layout[4], c), layout)

    def _emit(self, stage: str, out: torch.Tensor, q: torch.Tensor | None = None,
              k: torch.Tensor | None = None) -> None:
        record: dict[str, Any] = {"output": self._to_row_major(out.detach()), "grid": self._grid,
                                  "window": self.window, "stage": stage}
        for key, t in (("q", q), ("k", k)):
            if t is not None:
                record[key] = _heads(self._to_row_major(_merge(t.detach())), self.heads)
        self.capture(self.name, stage, record)  # type: ignore[misc]


def _compile(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """`torch.compile` with static shapes. Every LGCAA layer shares the code object of `_forward`, and SD2-base
    has 4 token-count/width pairs x train/eval x batch sizes, so the recompile limit is raised to 64."""
    import torch._dynamo.config as dynamo_config

    dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, 64)
    return torch.compile(fn, dynamic=False, backend=COMPILE_BACKEND)


def attention_map(record: dict[str, Any], token: int) -> torch.Tensor:
    """(B, heads, N) attention weights of query `token` (row-major index) in a captured local/global record."""
    q, k = record["q"].float(), record["k"].float()
    logits = (q[:, :, token : token + 1] @ k.transpose(-1, -2))[:, :, 0] / math.sqrt(q.shape[-1])
    if record["stage"] == "local":
        ids = window_ids(record["grid"], record["window"], q.device)
        logits = logits.masked_fill(ids != ids[token], float("-inf"))
    return logits.softmax(-1)


def set_capture(model: nn.Module, fn: CaptureFn | None) -> int:
    """Set (or clear, fn=None) the capture hook of every LGCAA processor in `model`; returns how many."""
    procs = [m for m in model.modules() if isinstance(m, LGCAAProcessor)]
    for p in procs:
        p.capture = fn
    return len(procs)


# ----------------------------------------------------------------------------------------------------------
# Reference path: the equations written out (tests, and the GPU bench's numerics check)
# ----------------------------------------------------------------------------------------------------------


def _reference_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                         mask: torch.Tensor | None = None) -> torch.Tensor:
    logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    return logits.softmax(-1) @ v


def reference_forward(proc: LGCAAProcessor, attn: Attention, x: torch.Tensor,
                      spatial_hw: tuple[int, int] | None = None) -> torch.Tensor:
    """The processor's output computed the slow, literal way (row-major tokens, dense (N, N) window mask)."""
    grid = token_grid(x.shape[1], spatial_hw)
    variant, heads = proc.variant, proc.heads
    h = x
    if variant.local:
        q, k, v = (_heads(f(x), heads) for f in (attn.to_q, attn.to_k, attn.to_v))
        q = q / torch.sqrt(q.pow(2).mean(-1, keepdim=True) + RMS_EPS)
        k = k / torch.sqrt(k.pow(2).mean(-1, keepdim=True) + RMS_EPS)
        ids = window_ids(grid, proc.window, x.device)
        h = proc.local_norm(attn.to_out[0](_merge(_reference_attention(q, k, v, ids[:, None] == ids[None, :]))))
    if variant.global_:
        to_q, to_k, to_v, to_out = proc._global_projections(attn)
        q, k, v = (_heads(f(h), heads) for f in (to_q, to_k, to_v))
        h = to_out(_merge(_reference_attention(q, k, v)))
        if variant.clamp:
            h = torch.clamp(h, -proc.clamp, proc.clamp)
    u = proc.post_norm(h)
    y = u if proc.output == "mlp" else h
    return y + proc.mlp(u) if variant.mlp else y


# ----------------------------------------------------------------------------------------------------------
# Installation
# ----------------------------------------------------------------------------------------------------------


def install_attention(model: nn.Module, variant: str, window: int = 8, clamp: float | None = None,
                      mlp_ratio: float = 1.0, output: str = DEFAULT_LGCAA_OUTPUT, checkpointing: bool = True,
                      compile: bool = False) -> int:
    """Set the processors of a UNet/ControlNet: `variant` for every self-attention (attn1) of its down, mid
    and up blocks, `SDPAProcessor` elsewhere. Returns the number of self-attention layers replaced."""
    spec = get_variant(variant)
    processors: dict[str, object] = {}
    replaced = 0
    for name in model.attn_processors:
        module_name = name[: -len(".processor")]
        is_self = module_name.endswith(".attn1") and module_name.split(".")[0] in ("down_blocks", "mid_block", "up_blocks")
        if not spec.standard and is_self:
            attn = model.get_submodule(module_name)
            processors[name] = LGCAAProcessor(attn, spec, window, clamp, mlp_ratio, output, checkpointing, compile,
                                              name=module_name)
            replaced += 1
        else:
            processors[name] = SDPAProcessor()
    model.set_attn_processor(processors)
    return replaced
