"""Local-Global Context-Aware Attention (LGCAA) as a diffusers attention processor, and its ablation variants.

It replaces the self-attention (`attn1`) of every transformer block in the UNet's down, mid and up blocks
(paper §III-B). The transformer block has already applied its LayerNorm (`norm1`), which is the paper's
input normalisation X̂. For tokens x (B, N, C) on an H×W latent grid:

  local   Q,K,V = x·W_q, x·W_k, x·W_v (the layer's own, pretrained projections), split into heads;
          Q̂, K̂ = Q, K scaled to unit RMS per head vector (no gain); softmax(Q̂K̂ᵀ/√d)·V inside
          non-overlapping `window`×`window` windows of the token grid; merge heads, project with W_p (the
          layer's to_out), LayerNorm  -> Z
  global  multi-head self-attention over all N tokens of Z with its own projections (initialised as a copy
          of the layer's pretrained ones), output clamped to [-clamp, clamp]            -> G
  output  G + MLP(LayerNorm(G))   (the MLP's last layer starts at zero)

Variants (Table II; the registry is `lgcaa.model.variants`): `standard` keeps diffusers' SDPA self-attention; `local` / `global` keep one stage
(the kept stage always uses the layer's pretrained projections); `local+global-no-norm` drops the LayerNorm
after the merged local->global attention; `lgcaa` is the full module. All attention products go through
`torch.nn.functional.scaled_dot_product_attention` (fused flash / memory-efficient kernels). While
training, the local stage and the MLP branch are activation-checkpointed and the normalisation and clamp
keep only their outputs for backward, so LGCAA's memory stays close to plain self-attention's.

The latent grid size reaches the processors as `cross_attention_kwargs={"spatial_hw": (h, w)}` (the size at
the UNet input); each processor derives its level's grid from its token count. Every other attention
processor of the model is `SDPAProcessor`, which accepts and ignores that argument.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

from lgcaa.model.variants import ATTENTION_VARIANTS, AttentionVariant, get_variant


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


def window_order(x: torch.Tensor, grid: tuple[int, int], window: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """(B, N, C) row-major tokens -> (B * nW, L, C) tokens grouped by window (zero-padded), plus the layout.

    A grid side smaller than `window` uses the whole side; sides that do not divide are padded.
    """
    b, _, c = x.shape
    h, w = grid
    wh, ww = min(window, h), min(window, w)
    ph, pw = (-h) % wh, (-w) % ww
    hp, wp = h + ph, w + pw
    x = x.reshape(b, h, w, c)
    if ph or pw:
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
    x = x.reshape(b, hp // wh, wh, wp // ww, ww, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b * (hp // wh) * (wp // ww), wh * ww, c), (b, h, w, wh, ww, hp, wp)


def window_restore(x: torch.Tensor, layout: tuple[int, ...]) -> torch.Tensor:
    """Inverse of `window_order`: (B * nW, L, C) -> (B, N, C), padding dropped."""
    b, h, w, wh, ww, hp, wp = layout
    c = x.shape[-1]
    x = x.reshape(b, hp // wh, wp // ww, wh, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
    return x[:, :h, :w].reshape(b, h * w, c)


def window_key_mask(layout: tuple[int, ...], device: torch.device) -> torch.Tensor | None:
    """(B * nW, 1, 1, L) bool mask of real (non-padding) keys, or None when nothing is padded."""
    b, h, w, wh, ww, hp, wp = layout
    if (hp, wp) == (h, w):
        return None
    valid = torch.zeros(hp, wp, dtype=torch.bool, device=device)
    valid[:h, :w] = True
    valid = valid.reshape(hp // wh, wh, wp // ww, ww).permute(0, 2, 1, 3).reshape(1, -1, 1, 1, wh * ww)
    return valid.expand(b, -1, -1, -1, -1).reshape(-1, 1, 1, wh * ww)


def _acc(x: torch.Tensor) -> torch.Tensor:
    """Upcast half precision to float32 for reductions (float64 stays float64)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


class _RMSNormalize(torch.autograd.Function):
    """y = x / sqrt(mean(x², -1) + eps) without a gain; backward keeps y (saved by SDPA anyway) and 1/rms."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, eps: float) -> torch.Tensor:  # type: ignore[override]
        xf = _acc(x)
        r = torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
        y = (xf * r).to(x.dtype)
        ctx.save_for_backward(y, r)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        y, r = ctx.saved_tensors
        g, yf = _acc(grad), _acc(y)
        dx = r * (g - yf * (g * yf).mean(-1, keepdim=True))
        return dx.to(grad.dtype), None


def rms_normalize(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Scale each head vector (last dim) to unit RMS (norm sqrt(d)), so q̂·k̂/sqrt(d) lies in [-sqrt(d), sqrt(d)]."""
    if x.requires_grad:
        return _RMSNormalize.apply(x, eps)
    return F.rms_norm(_acc(x), (x.shape[-1],), eps=eps).to(x.dtype)  # fused kernel for inference


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
    b, n, c = x.shape
    return x.view(b, n, heads, c // heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    b, heads, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, heads * d)


class LGCAAProcessor(nn.Module):
    """Self-attention processor with trainable parameters (registered under `attn.processor`).

    Built from the `Attention` it replaces: `dim` = query width, heads and head width as that layer.
    """

    def __init__(self, attn: Attention, variant: AttentionVariant, window: int = 8, clamp: float = 1.0e4,
                 mlp_ratio: float = 1.0, checkpointing: bool = True):
        super().__init__()
        self.checkpointing = checkpointing
        if not (variant.local or variant.global_):
            raise ValueError("an LGCAA variant needs the local or the global stage")
        dim = attn.to_q.in_features
        inner = attn.to_q.out_features
        if attn.to_out[0].out_features != dim or inner % attn.heads:
            raise ValueError(f"unsupported attention layer shape: {attn}")
        self.variant, self.window, self.clamp, self.heads = variant, int(window), float(clamp), attn.heads
        if variant.local:
            self.local_norm = nn.LayerNorm(dim)
        if variant.local and variant.global_:  # second stage: a trainable copy of the pretrained projections
            self.global_q = copy.deepcopy(attn.to_q)
            self.global_k = copy.deepcopy(attn.to_k)
            self.global_v = copy.deepcopy(attn.to_v)
            self.global_out = copy.deepcopy(attn.to_out[0])
        self.post_norm = nn.LayerNorm(dim) if variant.post_norm else nn.Identity()
        hidden = max(1, round(dim * mlp_ratio))
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        nn.init.zeros_(self.mlp[2].weight)
        nn.init.zeros_(self.mlp[2].bias)

    def _local(self, attn: Attention, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Windowed attention with RMS-normalised Q, K; computed in window order (one permutation in and
        one out; the projections are per-token so they commute with it)."""
        xw, layout = window_order(x, grid, self.window)
        q = rms_normalize(_heads(attn.to_q(xw), self.heads))
        k = rms_normalize(_heads(attn.to_k(xw), self.heads))
        v = _heads(attn.to_v(xw), self.heads)
        mask = window_key_mask(layout, x.device)
        out = _merge(F.scaled_dot_product_attention(q, k.to(q.dtype), v.to(q.dtype), attn_mask=mask))
        out = self.local_norm(attn.to_out[1](attn.to_out[0](out)))  # per token: commutes with the reordering
        return window_restore(out, layout)

    def _global(self, attn: Attention, z: torch.Tensor) -> torch.Tensor:
        if self.variant.local:
            to_q, to_k, to_v, to_out = self.global_q, self.global_k, self.global_v, self.global_out
        else:
            to_q, to_k, to_v, to_out = attn.to_q, attn.to_k, attn.to_v, attn.to_out[0]
        q, k, v = (_heads(f(z), self.heads) for f in (to_q, to_k, to_v))
        g = to_out(_merge(F.scaled_dot_product_attention(q, k, v)))
        return clamp_values(g, self.clamp)

    def _mlp_branch(self, h: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.post_norm(h))

    def _run(self, fn, *args):
        """Activation checkpointing of the cheap, activation-heavy stages while training: their inputs are
        kept, everything else is recomputed in backward (keeps memory near plain self-attention)."""
        if self.checkpointing and torch.is_grad_enabled():
            from torch.utils.checkpoint import checkpoint

            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

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
        h = hidden_states
        if self.variant.local:
            h = self._run(self._local, attn, h, grid)
        if self.variant.global_:
            h = self._global(attn, h)
        return h + self._run(self._mlp_branch, h)


def install_attention(model: nn.Module, variant: str, window: int = 8, clamp: float = 1.0e4,
                      mlp_ratio: float = 1.0) -> int:
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
            processors[name] = LGCAAProcessor(attn, spec, window, clamp, mlp_ratio)
            replaced += 1
        else:
            processors[name] = SDPAProcessor()
    model.set_attn_processor(processors)
    return replaced
