"""DASR (Liang, Zeng & Zhang, ECCV 2022): a degradation-adaptive SR network, written from the paper's description.

Two parts:
  - a degradation predictor: six 5x5 convs (the fourth with stride 2, LeakyReLU 0.2 after each) regress
    degradation parameters, global average pooling gives a (B, P) vector (P = 33), and two linear layers map
    it to K mixing coefficients (B, K), K = 5 experts;
  - the SR network: an SRResNet-like body (16 residual blocks of two 3x3 convs, no BN; LeakyReLU 0.1,
    two x2 pixel-shuffle stages, HR conv, last conv, plus a bilinear x4 skip of the input) in which every
    convolution has K expert kernels; per image the kernel is sum_k coeff[k] * W_k (and the same for biases).
    The coefficients are used as the mapping network outputs them (no normalisation), as in the official
    test path.

Parameter names follow the official checkpoints (net_g.pth / net_p.pth of csjliang/DASR), so they load
strictly: conv_first / body.{i}.conv{1,2} / upconv1 / upconv2 / conv_hr / conv_last with `weight` (K, out,
in, 3, 3) and `bias` (K, out); predictor ConvNet.{0,2,4,6,8,10} and MappingNet.{0,1}.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from baselines.rrdbnet import unwrap_state_dict
from lgcaa.errors import UserError


class ExpertConv2d(nn.Module):
    """K expert kernels of one conv; forward(x (B,Cin,H,W), coeffs (B,K)) -> (B,Cout,H,W)."""

    def __init__(self, cin: int, cout: int, experts: int, kernel: int = 3):
        super().__init__()
        self.cin, self.cout, self.kernel = cin, cout, kernel
        self.weight = nn.Parameter(torch.randn(experts, cout, cin, kernel, kernel) * (2.0 / (cin * kernel * kernel)) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(experts, cout))

    def forward(self, x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        weight = torch.einsum("bk,koiyx->boiyx", coeffs, self.weight).reshape(b * self.cout, self.cin, self.kernel, self.kernel)
        bias = (coeffs @ self.bias).reshape(b * self.cout)
        # one grouped conv = B independent convs, each with its own mixed kernel
        out = F.conv2d(x.reshape(1, b * self.cin, h, w), weight, bias, padding=self.kernel // 2, groups=b)
        return out.reshape(b, self.cout, h, w)


class _ExpertResBlock(nn.Module):
    def __init__(self, feat: int, experts: int):
        super().__init__()
        self.conv1 = ExpertConv2d(feat, feat, experts)
        self.conv2 = ExpertConv2d(feat, feat, experts)

    def forward(self, x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x, coeffs)), coeffs)


class DASRNet(nn.Module):
    """x4 SR network with expert convolutions: forward((B,3,H,W) in [0,1], (B,K)) -> (B,3,4H,4W)."""

    def __init__(self, num_feat: int = 64, num_block: int = 16, experts: int = 5):
        super().__init__()
        self.conv_first = ExpertConv2d(3, num_feat, experts)
        self.body = nn.ModuleList(_ExpertResBlock(num_feat, experts) for _ in range(num_block))
        self.upconv1 = ExpertConv2d(num_feat, num_feat * 4, experts)
        self.upconv2 = ExpertConv2d(num_feat, num_feat * 4, experts)
        self.conv_hr = ExpertConv2d(num_feat, num_feat, experts)
        self.conv_last = ExpertConv2d(num_feat, 3, experts)

    def forward(self, x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
        act = lambda t: F.leaky_relu(t, 0.1)
        feat = act(self.conv_first(x, coeffs))
        for block in self.body:
            feat = block(feat, coeffs)
        feat = act(F.pixel_shuffle(self.upconv1(feat, coeffs), 2))
        feat = act(F.pixel_shuffle(self.upconv2(feat, coeffs), 2))
        out = self.conv_last(act(self.conv_hr(feat, coeffs)), coeffs)
        return out + F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)


class DegradationPredictor(nn.Module):
    """(B,3,H,W) in [0,1] -> (degradation params (B,P), mixing coefficients (B,K))."""

    def __init__(self, num_feat: int = 64, num_params: int = 33, experts: int = 5):
        super().__init__()
        chans = [3, num_feat, num_feat, num_feat, num_feat, num_feat, num_params]
        layers: list[nn.Module] = []
        for i in range(6):
            layers += [nn.Conv2d(chans[i], chans[i + 1], 5, stride=2 if i == 3 else 1, padding=2), nn.LeakyReLU(0.2)]
        self.ConvNet = nn.Sequential(*layers)
        self.MappingNet = nn.Sequential(nn.Linear(num_params, 15), nn.Linear(15, experts))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        params = self.ConvNet(x).mean(dim=(2, 3))
        return params, self.MappingNet(params)


def load_dasr(g_path: str | Path, p_path: str | Path) -> tuple[DASRNet, DegradationPredictor]:
    """Both networks in eval mode from the official files; UserError naming the file on a key/shape mismatch."""

    nets = (DASRNet(), DegradationPredictor())
    for net, path in zip(nets, (Path(g_path), Path(p_path))):
        try:
            state = unwrap_state_dict(torch.load(path, map_location="cpu", weights_only=True), "params")
            net.load_state_dict(state, strict=True)
        except (RuntimeError, ValueError, TypeError, OSError) as exc:
            first = str(exc).strip().splitlines()[0][:300]
            raise UserError(
                f"{path}: not a DASR {type(net).__name__} checkpoint ({first}); "
                "delete it and fetch the official file again (lgcaa weights fetch dasr)"
            ) from exc
        net.eval()
    return nets
