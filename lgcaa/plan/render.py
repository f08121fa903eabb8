"""The text `lgcaa plan` prints: one line per job, the totals, the rates used, one line per missing input."""

from __future__ import annotations

from lgcaa.plan.jobs import PlannedJob, Totals
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


def rate_lines(jobs: list[PlannedJob]) -> list[str]:
    used = {j.estimate.rate.key: j.estimate.rate for j in jobs if j.estimate}
    out = ["rates (lgcaa/plan/throughput.py):"]
    for key in sorted(used):
        r = used[key]
        out.append(f"  {key}: {r.per_second:.3g} {r.unit} at {r.side} px on {r.device} — {r.basis}: {r.source.removeprefix('extrapolated: ')}")
    return out


def render(profile: str, jobs: list[PlannedJob], t: Totals, missing: list[Missing], show_jobs: bool = True) -> str:
    lines = [f"lgcaa plan: profile '{profile}', {t.jobs} jobs (hours: GPU-hours for GPU jobs, CPU-hours otherwise; "
             "runtime: the time limit each job asks for)"]
    if show_jobs:
        lines += job_table(jobs)
    lines += totals_lines(t) + rate_lines(jobs)
    if missing:
        lines.append(f"readiness: {len(missing)} missing input(s) — nothing should be submitted before these are fixed:")
        lines += [m.line() for m in missing]
    else:
        lines.append("readiness: every input is present and verified")
    return "\n".join(lines)
