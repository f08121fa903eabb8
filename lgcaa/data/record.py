"""The job record of each data step (`lgcaa data build-mini|fetch|regenerate|subset|folder --record`).

Each `record_*` writes the record of one step (nothing when `dest` is None): its params, `n_images` (and what the
step measured), the dataset's manifest as the first artifact, and the dataset's hr/ and lr/ folders as two MLflow
datasets with their content digests (`lgcaa.tracking.dataset_input`, from the manifest).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgcaa.layout import manifest_of
from lgcaa.tracking import dataset_input, experiment_name, write_record

if TYPE_CHECKING:
    from lgcaa.data.fetch import Obtained
    from lgcaa.data.mini import MiniSettings
    from lgcaa.data.regenerate import Regenerated


def write_data_record(dest: str | Path | None, experiment: str | None, params: dict[str, Any],
                      metrics: dict[str, Any], artifacts: list[str]) -> Path | None:
    """The record of the data step that made dataset `params["dataset"]` (`artifacts[0]`: its manifest)."""
    if not dest:
        return None
    name = params.get("dataset", "")
    folder = Path(artifacts[0]).parent
    inputs = [dataset_input(f"{name}/{sub}", folder / sub, "output") for sub in ("hr", "lr") if (folder / sub).is_dir()]
    return write_record(dest, experiment=experiment_name("data", experiment), run_name=f"data:{name}",
                        params=params, metrics=metrics, artifacts=artifacts, inputs=inputs)


def record_mini(dest: str | Path | None, experiment: str | None, dataset: str, s: MiniSettings,
                manifest: dict[str, Any]) -> Path | None:
    """`lgcaa data build-mini`: the settings that made the offline mini set."""
    return write_data_record(dest, experiment, {"dataset": dataset, "lr_kind": s.lr_kind, "seed": s.seed,
                                                "hr_size": s.hr_size, "scale": s.scale, "photos": ",".join(s.photos)},
                             {"n_images": manifest["count"]}, [str(manifest_of(s.out))])


def record_fetch(dest: str | Path | None, experiment: str | None, data_root: Path, name: str, source: str,
                 got: Obtained, limit: int) -> Path | None:
    """`lgcaa data fetch`: registry entry `source` with its released LR, as folder `name` under `data_root`."""
    return write_data_record(dest, experiment, {"dataset": name, "source": source, "lr_kind": "released",
                                                "obtained": got.how, "archive_sha256": got.archive_sha256 or "",
                                                "archive_pinned": got.pinned, "limit": limit},
                             {"n_images": got.manifest["count"]}, [str(manifest_of(data_root / name))])


def record_regenerate(dest: str | Path | None, experiment: str | None, data_root: Path, dataset: str, source: str,
                      lr_kind: str, seed: int, got: Regenerated, compare_out: Path | None) -> Path | None:
    """`lgcaa data regenerate`: our seeded LR of `source`'s HR (and the comparison with its released LR)."""
    artifacts = [str(manifest_of(data_root / dataset)), *([str(compare_out)] if compare_out else [])]
    return write_data_record(dest, experiment, {"dataset": dataset, "source": source, "lr_kind": lr_kind,
                                                "obtained": got.how, "degradation": got.degradation, "seed": seed},
                             got.metrics, artifacts)


def record_subset(dest: str | Path | None, experiment: str | None, out: Path, name: str, source: str,
                  manifest: dict[str, Any]) -> Path | None:
    """`lgcaa data subset`: the pairs of `source` it took (by name)."""
    return write_data_record(dest, experiment, {"dataset": name, "subset_of": source,
                                                "images": ",".join(manifest["subset_of"]["images"])},
                             {"n_images": manifest["count"]}, [str(manifest_of(out))])


def record_folder(dest: str | Path | None, experiment: str | None, out: Path, name: str, lr_dir: Path,
                  manifest: dict[str, Any]) -> Path | None:
    """`lgcaa data folder`: the user's LR folder as an LR-only dataset."""
    return write_data_record(dest, experiment, {"dataset": name, "lr_dir": str(lr_dir), "lr_only": True},
                             {"n_images": manifest["count"]}, [str(manifest_of(out))])
