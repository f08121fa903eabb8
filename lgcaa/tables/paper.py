"""The numbers the paper reports, as tidy long tables (`results/paper/table{1,2,3}.csv`).

Each file has one row per printed cell: its key columns, `metric`, `value` (as printed), `scale` (printed
value = scale x score on the harness's scale) and `note`. `load_paper` checks the shape against
`PAPER_TABLES`, so a cell that is dropped or entered twice is an error, not a silent gap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from baselines.registry import BASELINES, paper_key
from lgcaa.data.registry import DATASETS
from lgcaa.errors import UserError
from lgcaa.metrics.registry import TABLE_ORDER

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DIR = Path("results/paper")


@dataclass(frozen=True)
class PaperTable:
    name: str
    title: str
    keys: tuple[str, ...]  # columns identifying a reproduced entry (besides `metric`)
    metrics: tuple[str, ...]  # in the paper's column/row order
    entries: tuple[tuple[str, ...], ...]  # every key tuple the paper prints, in its order

    @property
    def n_cells(self) -> int:
        return len(self.entries) * len(self.metrics)


# Table I: the baselines whose registry entries carry a paper label (their keys, in registry = column order),
# then LGCAA; the datasets whose registry entries carry one. Tables II and III are the paper's rows as printed
# (the variant names are registry names: lgcaa.model.variants, lgcaa.model.config.DPACM_VARIANTS).
_T1_METHODS = (*(k for k in map(paper_key, BASELINES.values()) if k), "lgcaa")
_T1_DATASETS = tuple(d.paper_label for d in DATASETS.values() if d.paper_label)
_T2_ROWS = (
    ("RealSR", "LGCAA", "standard"),
    ("RealSR", "LGCAA", "local"),
    ("RealSR", "LGCAA", "global"),
    ("RealSR", "LGCAA", "local+global-no-norm"),
    ("RealSR", "LGCAA", "lgcaa"),
    ("RealSR", "DPACM", "none"),
    ("RealSR", "DPACM", "perceptual"),
    ("RealSR", "DPACM", "wasserstein"),
    ("RealSR", "DPACM", "dpacm"),
)
_T3_ROWS = tuple(("RealSR", a, b) for a in ("2.0", "1.0") for b in ("0.1", "0.2", "0.3"))
# Table III's two weight columns lost their headers: `lambda_1`, `lambda_2` are the printed columns, in order.
# Which loss weight each is (`tables.table3.columns`): the text names the weights twice in the order
# Wasserstein, then perceptual, and the first column moves PSNR/SSIM (docs/interpretation.md), so by default
# lambda_1 = λ_w (Wasserstein-1), lambda_2 = λ_p (LPIPS). The reading also sets the λ the grid's runs train with
# (`lgcaa.config.table3_run_weights`).
TABLE3_READINGS: tuple[tuple[str, str], ...] = (("lambda_w", "lambda_p"), ("lambda_p", "lambda_w"))
TABLE3_COLUMNS: tuple[str, str] = TABLE3_READINGS[0]

PAPER_TABLES: dict[str, PaperTable] = {
    "table1": PaperTable(
        "table1",
        "Table I: comparison on DIV2K-Val, RealSR and DRealSR",
        ("dataset", "method"),
        TABLE_ORDER,
        tuple((d, m) for d in _T1_DATASETS for m in _T1_METHODS),
    ),
    "table2": PaperTable(
        "table2",
        "Table II: LGCAA and DPACM ablations (RealSR)",
        ("dataset", "module", "variant"),
        ("psnr", "lpips", "clipiqa", "musiq"),
        _T2_ROWS,
    ),
    "table3": PaperTable(
        "table3",
        "Table III: loss weights (RealSR)",
        ("dataset", "lambda_1", "lambda_2"),
        ("psnr", "ssim", "lpips", "musiq", "clipiqa", "dists", "maniqa", "fid", "niqe"),
        _T3_ROWS,
    ),
}


def norm_key(value: object) -> str:
    """Key cells compare as text; numbers by value (2 == 2.0 == '2.0')."""
    try:
        return repr(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def load_paper(name: str, folder: str | Path = DEFAULT_DIR) -> pd.DataFrame:
    """The paper's cells of table `name` with a float column `score` = value / scale.

    Raises UserError naming the file when a column, a cell or a value is missing, duplicated or unreadable.
    """
    import pandas as pd  # here, not at the top: the table shapes above fill the config schema (no pandas there)

    spec = PAPER_TABLES[name]
    path = Path(folder) / f"{name}.csv"
    if not path.is_file():
        raise UserError(f"{path}: paper table not found; restore it from git (results/paper/ is committed)")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = [*spec.keys, "metric", "value", "scale", "note"]
    absent = [c for c in need if c not in df.columns]
    if absent:
        raise UserError(f"{path}: columns {absent} missing; expected {need}")
    try:
        df["score"] = df["value"].astype(float) / df["scale"].astype(float)
    except ValueError as exc:
        raise UserError(f"{path}: a value or scale is not a number ({exc}); fix the transcription") from None
    got = [
        (*(norm_key(v) for v in r[: len(spec.keys)]), r[-1]) for r in df[[*spec.keys, "metric"]].itertuples(index=False)
    ]
    want = [(*(norm_key(v) for v in e), m) for e in spec.entries for m in spec.metrics]
    dup = sorted(g for g, n in Counter(got).items() if n > 1)
    if dup:
        raise UserError(f"{path}: cells entered twice: {dup[:3]}; keep one row per cell")
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if missing or extra:
        raise UserError(
            f"{path}: {len(missing)} cells missing (e.g. {missing[:3]}), {len(extra)} unexpected "
            f"(e.g. {extra[:3]}); the table must cover exactly the paper's {spec.n_cells} cells"
        )
    return df


def paper_lines(cells: pd.DataFrame) -> list[str]:
    """`lgcaa table paper`: the paper's cells of a table (`load_paper`) without their notes, then their count."""
    return [cells.drop(columns=["note"]).to_string(index=False), f"{len(cells)} cells, all present"]
