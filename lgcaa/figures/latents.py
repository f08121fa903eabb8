"""Fig. 11: per-channel histograms of the predicted latent x̂₀ against the initial latent z₀, with their W1.

The paper (§IV, *Preserving Histogram consistency*): "the predicted distribution closely aligns with the
initial", for the DPACM variants. Read here as: z₀ = the VAE encoding (posterior mean, scaled) of the HR image,
x̂₀ = the latent the sampler hands to the VAE decoder after the last DDPM step, both for the same LR input;
values pooled over the figure's images, per latent channel. W1 per channel is the closed form for two
equal-size samples: mean |sort(a) - sort(b)| (= scipy.stats.wasserstein_distance).
"""

from __future__ import annotations

import csv
import io
import textwrap
from dataclasses import dataclass

import numpy as np

from lgcaa.figures.draw import FOOTER_PT, header, new_figure, note_lines, wrap_width

FOOTER = ("x̂₀: latent decoded after the last DDPM step; z₀: VAE posterior mean of the HR image (scaled as in "
          "training); values pooled over images and pixels per channel; W1 = mean |sort(x̂₀) − sort(z₀)|")


def w1(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 distance between two 1-D samples (quantile form; equal sizes use the sorted pairs)."""
    a, b = np.sort(np.ravel(a).astype(np.float64)), np.sort(np.ravel(b).astype(np.float64))
    if a.size == b.size:
        return float(np.mean(np.abs(a - b)))
    q = np.linspace(0, 1, max(a.size, b.size))
    return float(np.mean(np.abs(np.quantile(a, q) - np.quantile(b, q))))


@dataclass(frozen=True)
class LatentPair:
    """One run's latents: (C, n) predicted and initial values per channel (pooled over images and pixels), and the
    images they came from."""

    label: str
    run: str
    predicted: np.ndarray
    initial: np.ndarray
    images: tuple[str, ...] = ()

    def w1_per_channel(self) -> list[float]:
        return [w1(p, i) for p, i in zip(self.predicted, self.initial)]


def images_used(pairs: list[LatentPair]) -> list[str]:
    """Every image whose latents some run's histograms pool, in order, once."""
    return list(dict.fromkeys(n for p in pairs for n in p.images))


def caption(dataset_label: str, pairs: list[LatentPair], note: str = "") -> str:
    """The figure's subtitle: the dataset and the number of images the histograms were computed from (counted from
    the captured latents, not from the profile), then the profile's note."""
    names = images_used(pairs)
    count = f"{len(names)} image{'' if len(names) == 1 else 's'}: {', '.join(names)}"
    return f"{dataset_label}, {count}" + (f" — {note}" if note else "")


def to_csv(pairs: list[LatentPair]) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["variant", "run", "channel", "w1", "predicted_mean", "predicted_std", "initial_mean", "initial_std",
                 "n", "n_images"])
    for p in pairs:
        for c, d in enumerate(p.w1_per_channel()):
            wr.writerow([p.label, p.run, c, f"{d:.6f}", f"{p.predicted[c].mean():.6f}", f"{p.predicted[c].std():.6f}",
                         f"{p.initial[c].mean():.6f}", f"{p.initial[c].std():.6f}", p.predicted[c].size, len(p.images)])
    return buf.getvalue()


def make_figure(title: str, note: str, pairs: list[LatentPair], footer: str = "", profile: str = ""):
    """Rows = variants, columns = latent channels; each panel overlays both histograms, W1 in its title, its axes
    labelled (latent value, density)."""
    channels = pairs[0].predicted.shape[0]
    width = 2.1 * channels + 0.6
    top_in = 0.55 + 0.14 * len(note_lines(note, width))  # the title and the wrapped note
    lines = textwrap.wrap(footer, wrap_width(width - 0.2, FOOTER_PT)) if footer else []
    bottom_in = 0.45 + 0.11 * len(lines)  # the x labels, then the footer
    fig = new_figure(width, 1.9 * len(pairs) + top_in + bottom_in)
    header(fig, title, note, profile)
    axes = fig.subplots(len(pairs), channels, squeeze=False)
    for r, p in enumerate(pairs):
        ds = p.w1_per_channel()
        for c in range(channels):
            ax = axes[r][c]
            lo = float(min(p.predicted[c].min(), p.initial[c].min()))
            hi = float(max(p.predicted[c].max(), p.initial[c].max()))
            bins = np.linspace(lo, hi if hi > lo else lo + 1e-6, 60)
            ax.hist(p.initial[c], bins=bins, density=True, alpha=0.55, color="#1f77b4", label="initial z₀ (HR)")
            ax.hist(p.predicted[c], bins=bins, density=True, alpha=0.55, color="#d62728", label="predicted x̂₀")
            ax.set_title(f"{p.label} · ch {c} · W1 {ds[c]:.3f}", fontsize=7)
            ax.set_xlabel(f"latent value (channel {c})", fontsize=5, labelpad=1)
            ax.set_ylabel("density", fontsize=5, labelpad=1)
            ax.tick_params(labelsize=5)
            if r == 0 and c == 0:
                ax.legend(fontsize=5, loc="upper right")
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.45 / width, right=1 - 0.1 / width, top=1 - top_in / h, bottom=bottom_in / h,
                        hspace=0.6, wspace=0.35)
    if lines:
        fig.text(0.01, 0.05 / h, "\n".join(lines), fontsize=FOOTER_PT, color="#444444", va="bottom")
    return fig
