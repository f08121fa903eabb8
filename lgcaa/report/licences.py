"""The licence table of the report: what the harness runs on and under which terms, one row per registry entry.

Every row comes from a registry's own licence field — datasets (`lgcaa.data.registry.DATASETS`), published file
sets (`lgcaa.data.files.FILE_SETS`), baselines with their code and weights (`baselines.registry.BASELINES`) — or
from an installed package's metadata (the harness itself, and pyiqa, whose metrics and weights every table uses:
PolyForm-Noncommercial-1.0.0 since 0.1.16). No name is listed here by hand; the model's own pretrained sources
(`lgcaa.weights.manifest.EXTERNAL`) carry no licence field, and their row says so rather than guessing one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

PACKAGES = ("lgcaa-harness", "pyiqa")  # the harness, and the metric library whose licence restricts use of the numbers


@dataclass(frozen=True)
class LicenceRow:
    kind: str  # "dataset" | "file set" | "baseline" | "package" | "pretrained model"
    name: str
    licence: str
    covers: str  # what the licence applies to, in words
    source: str = ""  # where it comes from (repository, URL, package version)


def package_licence(name: str) -> tuple[str, str]:
    """(licence, version) of an installed distribution from its metadata; ("not installed", "") when absent."""
    from importlib import metadata

    try:
        meta = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        return "not installed here: licence not read", ""
    licence = meta.get("License-Expression") or meta.get("License") or ""
    if not licence:
        classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        licence = "; ".join(classifiers) or "not stated in the package metadata"
    return licence, meta.get("Version", "")


def licence_rows() -> list[LicenceRow]:
    """One row per dataset, published file set, baseline, package and pretrained model source."""
    from baselines.registry import BASELINES
    from lgcaa.data.files import FILE_SETS
    from lgcaa.data.registry import DATASETS
    from lgcaa.weights.manifest import EXTERNAL

    rows = []
    for name in PACKAGES:
        licence, version = package_licence(name)
        rows.append(LicenceRow("package", name, licence, "code" + (" and the metrics' weights" if name == "pyiqa" else ""),
                               f"{name} {version}".strip()))
    for d in DATASETS.values():
        rows.append(LicenceRow("dataset", d.name, d.licence, "images", d.urls[0] if d.urls else ""))
    for name, fs in FILE_SETS.items():
        rows.append(LicenceRow("file set", name, fs["licence"], "published files", f"{fs['repository']}@{fs['commit'][:12]}"))
    for b in BASELINES.values():
        covers = "code" + (f" and weights ({len(b.weights)} files)" if b.weights else "")
        rows.append(LicenceRow("baseline", b.name, b.licence, covers, str(b.source.get("repository", ""))))
    for name in EXTERNAL:
        rows.append(LicenceRow("pretrained model", name, "not recorded in lgcaa/weights/manifest.py: see its model card",
                               "weights", f"https://huggingface.co/{name}"))
    return rows


def non_commercial(rows: list[LicenceRow]) -> list[str]:
    """Names whose licence text restricts use to non-commercial purposes (as the licence field words it)."""
    words = ("noncommercial", "non-commercial")
    return [r.name for r in rows if any(w in r.licence.lower() for w in words)]


def to_html(rows: list[LicenceRow]) -> str:
    """A note naming the non-commercial entries, then the table."""
    e = html.escape
    nc = non_commercial(rows)
    out = ['<p class="note">The terms of the data, code and weights these numbers rest on, from the registries\' '
           "licence fields and the installed packages' metadata."
           + (f" Non-commercial terms: {e(', '.join(nc))}." if nc else "") + "</p>",
           ('<table class="claims licences"><thead><tr><th>Kind</th><th>Name</th><th>Licence</th><th>Covers</th>'
            "<th>Source</th></tr></thead><tbody>")]
    for r in rows:
        out.append(f"<tr><td>{e(r.kind)}</td><td><code>{e(r.name)}</code></td><td>{e(r.licence)}</td>"
                   f"<td>{e(r.covers)}</td><td>{e(r.source)}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"

