# Max |difference| between every pair of Table II attention variants at initialisation (docs/bench/README.md).
# Run from the repository root: PYTHONPATH=. python docs/bench/variant_differences.py
"""Max |difference| between every pair of Table II attention variants at initialisation."""
import itertools, json, sys, torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from lgcaa.model.attention import LGCAAProcessor
from lgcaa.model.variants import ATTENTION_VARIANTS, get_variant
torch.set_num_threads(1)

def layer_outputs(dim, heads, side, window, output, seed=0):
    torch.manual_seed(seed)
    x = torch.nn.functional.layer_norm(torch.randn(1, side * side, dim), (dim,))  # like norm1's output
    outs = {}
    for name in ATTENTION_VARIANTS:
        torch.manual_seed(seed + 1)
        attn = Attention(query_dim=dim, heads=heads, dim_head=dim // heads, bias=False, out_bias=True)
        attn.set_processor(AttnProcessor2_0())
        if name != "standard":
            attn.set_processor(LGCAAProcessor(attn, get_variant(name), window=window, output=output))
        with torch.no_grad():
            outs[name] = attn(x, **({} if name == "standard" else {"spatial_hw": (side, side)}))
    return {f"{a} vs {b}": float(f"{(outs[a] - outs[b]).abs().max():.4g}") for a, b in itertools.combinations(outs, 2)}

res = {"layer 32ch 8x8 (window 4)": layer_outputs(32, 2, 8, 4, "mlp"),
       "layer SD2 level 1: 320ch 64x64 (window 8)": layer_outputs(320, 5, 64, 8, "mlp"),
       "layer SD2 level 1, lgcaa_output=residual": layer_outputs(320, 5, 64, 8, "residual")}
from tests.test_model_attention_numerics import tiny, unet_prediction
from lgcaa.model.network import build_network
preds = {n: unet_prediction(build_network(tiny(attention=n))) for n in ATTENTION_VARIANTS}
res["tiny UNet noise prediction (64 px, batch 2)"] = {f"{a} vs {b}": float(f"{(preds[a] - preds[b]).abs().max():.4g}") for a, b in itertools.combinations(preds, 2)}
print(json.dumps(res, indent=1))
