"""Benchmarks run by `lgcaa bench NAME`: each prints one JSON object with absolute numbers and ratios
measured in the same run (ours vs a reference), never timed assertions in tests.

`BENCHES` is the one list of their names; `summary` is a benchmark's one-line description (its docstring's
first paragraph), what `lgcaa bench --help` shows.
"""

from __future__ import annotations

from types import ModuleType

# name -> module exposing add_arguments(parser) and run(args) -> dict. Explicit registry.
BENCHES: dict[str, str] = {
    "attention": "lgcaa.bench.attention",
    "sample": "lgcaa.bench.sample",
    "train-step": "lgcaa.bench.train_step",
    "metrics": "lgcaa.bench.metrics",
    "degrade": "lgcaa.bench.degrade",
    "activations": "lgcaa.bench.activations",
    "prior": "lgcaa.bench.prior",
    "eval-memory": "lgcaa.bench.eval_memory",
}


def summary(name: str, mod: ModuleType) -> str:
    """Benchmark `name`'s description: the first paragraph of its module's docstring on one line, without the
    `lgcaa bench X` prefix."""
    text = (mod.__doc__ or name).strip().split("\n\n")[0].replace("\n", " ")
    return text.split(": ", 1)[-1] if text.startswith("`") else text  # drop the `lgcaa bench X` prefix
