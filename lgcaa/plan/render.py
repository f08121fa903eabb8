"""The text `lgcaa plan` prints: one line per job, the totals, the rates used, one line per missing input."""

from __future__ import annotations

import re

from lgcaa.plan.jobs import PlannedJob, Totals, gpu_wall_hours, stage_totals
from lgcaa.plan.readiness import Missing


def job_table(jobs: list[PlannedJob]) -> list[str]:
    rows = [("rule", "job", "device", "gpus", "runtime", "hours", "basis", "rate")]
    for j in jobs:
        est = j.estimate
        rows.append((j.rule, j.name, j.device, str(j.resources.gpu), f"{j.resources.runtime}m",
                     f"{j.device_hours:.2f}" if est else "-", est.rate.basis if est else "not costed",
                     est.rate.key if est else "bookkeeping"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def totals_lines(t: Totals) -> list[str]:
    return [
        f"total: {t.gpu_hours:.1f} GPU-hours ({t.gpu_hours_measured:.1f} from measured rates, "
        f"{t.gpu_hours - t.gpu_hours_measured:.1f} extrapolated) = {t.gpu_hours / 24:.1f} GPU-days; "
        f"{t.cpu_hours:.1f} CPU-hours ({t.cpu_hours_measured:.1f} measured, {t.cpu_hours - t.cpu_hours_measured:.1f} "
        f"extrapolated); {t.out_bytes / 1e9:.1f} GB written; {t.jobs} jobs",
    ]


def stage_lines(jobs: list[PlannedJob], gpus: int) -> list[str]:
    """Per-stage subtotals, then the wall-clock of the GPU work on `gpus` GPUs (`lgcaa.plan.jobs.gpu_wall_hours`)."""
    stages = stage_totals(jobs)
    out = ["per stage (rule: jobs, GPU-hours, CPU-hours, longest job's wall-clock):"]
    out += [f"  {s.rule}: {s.jobs} jobs, {s.gpu_hours:.1f} GPU-h, {s.cpu_hours:.1f} CPU-h, longest {s.longest_hours:.2f} h"
            for s in stages if s.gpu_hours or s.cpu_hours]
    rest = [s for s in stages if not (s.gpu_hours or s.cpu_hours)]
    out.append(f"  bookkeeping (not costed): {sum(s.jobs for s in rest)} jobs of {len(rest)} rules")
    out.append(f"wall-clock on {gpus} GPU{'s' if gpus != 1 else ''}: ≈ {gpu_wall_hours(jobs, gpus):.1f} h of GPU work "
               "(GPU stages one after another, each stage's jobs longest first on the GPUs that free up first); "
               "CPU jobs not included")
    return out


def fix_lines(missing: list[Missing]) -> list[str]:
    """One fix per missing thing, in the order first needed: a command several lines share is listed once, and a
    line whose absent files (absolute paths) an earlier fix already fetches adds no second command."""
    fixes: list[str] = []
    covered: set[str] = set()
    for m in missing:
        files = set(re.findall(r"(?<![\w.])(/[^\s,()]+)", m.what))
        if m.fix in fixes or (files and files <= covered):
            continue
        fixes.append(m.fix)
        covered |= files
    return [f"to fix ({len(fixes)} command(s), each once):", *(f"  {f}" for f in fixes)]


def rate_lines(jobs: list[PlannedJob]) -> list[str]:
    used = {j.estimate.rate.key: j.estimate.rate for j in jobs if j.estimate}
    out = ["rates (lgcaa/plan/throughput.py):"]
    for key in sorted(used):
        r = used[key]
        out.append(f"  {key}: {r.per_second:.3g} {r.unit} at {r.side} px on {r.device} — {r.basis}: {r.source.removeprefix('extrapolated: ')}")
    return out


def render(profile: str, jobs: list[PlannedJob], t: Totals, missing: list[Missing], show_jobs: bool = True,
           gpus: int = 1) -> str:
    lines = [f"lgcaa plan: profile '{profile}', {t.jobs} jobs (hours: GPU-hours for GPU jobs, CPU-hours otherwise; "
             "runtime: the time limit each job asks for)"]
    if show_jobs:
        lines += job_table(jobs)
    lines += totals_lines(t) + stage_lines(jobs, gpus) + rate_lines(jobs)
    if missing:
        lines.append(f"readiness: {len(missing)} missing input(s) — nothing should be submitted before these are fixed:")
        lines += [m.line() for m in missing]
        lines += fix_lines(missing)
    else:
        lines.append("readiness: every input is present and verified")
    return "\n".join(lines)
