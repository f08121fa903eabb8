"""The claims file: named groups of entities and one test per claim of the paper's §IV.

    groups: {name: [entity, ...]}
    claims: [{id, quote, table, datasets, metrics, test: {kind, ...}, reading?}, ...]

`load_claims(path)` validates the whole file (every kind's fields, groups defined, metrics known) and raises
one UserError naming the file, the claim and the fix. See the header of `results/paper/claims.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.metrics.registry import METRICS

DEFAULT_PATH = Path("results/paper/claims.yaml")
TABLES = ("table1", "table2", "fig8")
# kind -> (required fields, optional fields)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rank": (("subject", "among", "rank"), ()),
    "at_most": (("subject", "among", "rank"), ()),
    "top_group": (("among", "group", "k"), ()),
    "beats_nth": (("subject", "group", "n"), ("relative",)),
    "dominates": (("subject", "other", "steps"), ()),
    "trend": (("subjects", "from", "to", "direction"), ()),
    "qualitative": (("see",), ()),
}


@dataclass(frozen=True)
class Claim:
    id: str
    quote: str
    kind: str
    test: dict[str, Any]
    table: str = ""
    datasets: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    reading: str = ""

    @property
    def checkable(self) -> bool:
        return self.kind != "qualitative"


@dataclass(frozen=True)
class ClaimsFile:
    path: str
    groups: dict[str, tuple[str, ...]]
    claims: tuple[Claim, ...] = field(default_factory=tuple)

    def group(self, name: str) -> tuple[str, ...]:
        return self.groups[name]


def _fail(path: Path, where: str, what: str) -> UserError:
    return UserError(f"{path}: {where}: {what}; fix the claims file (format in its header)")


def _claim(path: Path, raw: Any, groups: dict[str, tuple[str, ...]], seen: set[str]) -> Claim:
    if not isinstance(raw, dict) or "id" not in raw:
        raise _fail(path, "claims", f"every claim needs an 'id' (got {raw!r:.60})")
    cid = str(raw["id"])
    if cid in seen:
        raise _fail(path, f"claim {cid}", "id used twice")
    seen.add(cid)
    test = raw.get("test")
    if not isinstance(test, dict) or test.get("kind") not in KINDS:
        raise _fail(path, f"claim {cid}", f"test.kind must be one of {', '.join(KINDS)}")
    kind = test["kind"]
    required, optional = KINDS[kind]
    absent = [k for k in required if k not in test]
    extra = sorted(set(test) - {"kind", *required, *optional})
    if absent or extra:
        raise _fail(path, f"claim {cid}", f"test '{kind}' needs {list(required)}"
                    + (f", missing {absent}" if absent else "") + (f", unknown {extra}" if extra else ""))
    for key in ("among", "group"):
        if key in test and test[key] not in groups:
            raise _fail(path, f"claim {cid}", f"group '{test[key]}' is not defined under 'groups'")
    if "quote" not in raw:
        raise _fail(path, f"claim {cid}", "needs the 'quote' it checks")
    datasets = tuple(str(d) for d in raw.get("datasets", ()))
    metrics = tuple(str(m) for m in raw.get("metrics", ()))
    table = str(raw.get("table", ""))
    if kind != "qualitative":
        if table not in TABLES:
            raise _fail(path, f"claim {cid}", f"table must be one of {', '.join(TABLES)}")
        if not datasets or not metrics:
            raise _fail(path, f"claim {cid}", "needs 'datasets' and 'metrics'")
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise _fail(path, f"claim {cid}", f"unknown metrics {unknown} (known: {', '.join(METRICS)})")
    return Claim(cid, str(raw["quote"]), kind, dict(test), table, datasets, metrics, str(raw.get("reading", "")))


def load_claims(path: str | Path = DEFAULT_PATH) -> ClaimsFile:
    """Read and validate the claims file."""
    from lgcaa.config import read_config_file

    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: claims file not found; restore it from git (results/paper/ is committed)")
    raw = read_config_file(p)  # anchors/aliases refused, malformed YAML one line
    if not isinstance(raw, dict) or not isinstance(raw.get("claims"), list):
        raise _fail(p, "top level", "expected the keys 'groups' and 'claims' (a list)")
    groups = {str(k): tuple(str(x) for x in v) for k, v in (raw.get("groups") or {}).items()}
    seen: set[str] = set()
    claims = tuple(_claim(p, c, groups, seen) for c in raw["claims"])
    return ClaimsFile(str(p), groups, claims)
