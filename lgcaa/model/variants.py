"""The attention variants of Table II: the one place that names them (torch-free).

Every other place derives from `ATTENTION_VARIANTS`: the model config's allowed values
(`lgcaa.model.config`), the profile schema's enum, the processor that `lgcaa.model.attention` builds, and
Table II's row labels. Adding a variant means adding one entry here (and, if it needs a new stage, the
stage in `lgcaa.model.attention`).

Each entry says which stages of the paper's pipeline (§III-B1) the self-attention layer runs:

    local      windowed attention with unit-RMS Q, K, projection W_p, LayerNorm           -> Z
    global_    full self-attention over Z (or over the block's normalised input X̂ when there is no local
               stage)                                                                      -> G
    clamp      value clamping of the global stage's output (needs `global_`)              -> G = clamp(G)
    post_norm  LayerNorm of the merged output before the MLP ("without the normalization layer after
               merging" removes it)                                                        -> U = LN(G), else U = G
    mlp        the final MLP with a skip connection, last layer zero at init               -> Y = U + MLP(U), else Y = U

The processor (`lgcaa.model.attention.LGCAAProcessor`) reads each flag: a stage whose flag is off is neither
built nor run (tests/test_model_attention.py::test_registry_flags_decide_what_runs).

`standard` runs none of them: diffusers' own SDPA self-attention with the layer's pretrained projections.
"""

from __future__ import annotations

from dataclasses import dataclass

from lgcaa.errors import check_known


@dataclass(frozen=True, kw_only=True)
class AttentionVariant:
    """One row of Table II's LGCAA block.

    name: the config value (`model.attention`); label: Table II's row label; paper: the sentence of §IV-B
    that names the row. `clamp` is applied to the global stage's output, so it needs `global_`.
    """

    name: str
    label: str
    paper: str
    local: bool
    global_: bool
    post_norm: bool
    clamp: bool
    mlp: bool

    def __post_init__(self) -> None:
        if self.clamp and not self.global_:
            raise ValueError(f"variant {self.name!r}: the clamp acts on the global stage's output; set global_")
        if self.standard and (self.post_norm or self.clamp or self.mlp):
            raise ValueError(f"variant {self.name!r}: no local or global stage, so no LGCAA stage can run")

    @property
    def standard(self) -> bool:
        """True for diffusers' own self-attention (no LGCAA stage, no LGCAA parameters)."""
        return not (self.local or self.global_)

    @property
    def stages(self) -> tuple[str, ...]:
        """The pipeline steps this variant runs, in order (for logs and docs)."""
        flags = (("local", self.local), ("global", self.global_), ("clamp", self.clamp),
                 ("post_norm", self.post_norm), ("mlp", self.mlp))
        return tuple(name for name, on in flags if on)


# Table II's order. The explicit registry of attention variants.
ATTENTION_VARIANTS: dict[str, AttentionVariant] = {
    v.name: v
    for v in (
        AttentionVariant(name="standard", label="No LGCAA", paper="standard self-attention training",
                         local=False, global_=False, post_norm=False, clamp=False, mlp=False),
        AttentionVariant(name="local", label="Local", paper="local attention only",
                         local=True, global_=False, post_norm=True, clamp=False, mlp=True),
        AttentionVariant(name="global", label="Global", paper="global attention only",
                         local=False, global_=True, post_norm=True, clamp=True, mlp=True),
        AttentionVariant(name="local+global-no-norm", label="L+G w/o norm",
                         paper="combined local and global attention without the normalization layer after merging",
                         local=True, global_=True, post_norm=False, clamp=True, mlp=True),
        AttentionVariant(name="lgcaa", label="LGCAA", paper="the complete proposed LGCAA module",
                         local=True, global_=True, post_norm=True, clamp=True, mlp=True),
    )
}
DEFAULT_ATTENTION = "lgcaa"

# How the LGCAA output is formed after the merged attention (`model.lgcaa_output`), U = LN(clamp(G)):
#   "mlp"      Y = U + MLP(U) — §III-B1's order (LayerNorm, then MLP); the MLP has a skip connection and its
#              last layer starts at zero, so at init Y = U; no residual around the whole module (the
#              transformer block adds Y to its own residual stream).
#   "residual" Y = clamp(G) + MLP(U) with the MLP's last layer at zero — the earlier reading, in which the
#              post-merge norm does not act until training moves the MLP.
LGCAA_OUTPUTS: tuple[str, ...] = ("mlp", "residual")
DEFAULT_LGCAA_OUTPUT = "mlp"

# How the post-merge LayerNorm's affine (γ, β) starts (`model.norm_init`; docs/interpretation.md step 7):
#   "pretrained" per layer and channel, the least-squares fit of the pretrained self-attention output from the
#                normalised G on held-out photos (`lgcaa.model.calibrate`), so step 0 keeps SD2's prior; applied
#                when the backbone is pretrained (`model.pretrained` set), a random backbone has no prior to keep
#   "unit"       LayerNorm's default γ = 1, β = 0: every token leaves the layer with unit variance
NORM_INITS: tuple[str, ...] = ("pretrained", "unit")
DEFAULT_NORM_INIT = "pretrained"

# Bound of the value clamp after the global stage (`model.clamp` when unset), per backbone: the smallest power
# of two >= 2 x the max |G| that `lgcaa bench activations` measured on the weights the backbone's runs start
# from (docs/interpretation.md step 6; JSON in docs/bench/).
CLAMP_BOUNDS: dict[str, float] = {
    # tiny starts from random init, so this is its real starting point: max |G| 1.083 (8 photos x 5 timesteps)
    "tiny": 4.0,
    # SD2-base starts from the pretrained weights, which are not on this machine: the SD2-base-shaped model at
    # random init gave max |G| 1.558 (-> 4.0), which says nothing about pretrained magnitudes, and a bound
    # below them would cut healthy values in every layer of a GPU-weeks run. Until `docs/bench/gpu.sh` runs
    # with SD2_BASE set, keep a bound that only turns overflow (Inf) into finite values before the LayerNorm.
    "sd2-base": 1.0e4,
}


def default_clamp(arch: str = "sd2-base") -> float:
    """The clamp bound used when `model.clamp` is not set."""
    return CLAMP_BOUNDS[arch]


def get_variant(name: str) -> AttentionVariant:
    """The registry entry for `name`; UserError naming the closest known name otherwise (like every registry)."""
    check_known("attention variant", [name], ATTENTION_VARIANTS)
    return ATTENTION_VARIANTS[name]
