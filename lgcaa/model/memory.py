"""Peak memory of a piece of work, on CUDA or CPU, excluding what was allocated before it started.

CUDA: `torch.cuda.max_memory_allocated` after `reset_peak_memory_stats` (caching-allocator bytes).
CPU: torch's `MemTracker` (torch.distributed._tools.mem_tracker, a TorchDispatchMode that follows every
tensor storage and its lifetime), peak of everything it tracks minus parameters and buffers; gradients that
exist before the call would count, so callers clear them (`zero_grad(set_to_none=True)`) first. It slows
ops down, so time and memory are measured in separate passes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def peak_bytes(fn: Callable[[], object], device: torch.device | str) -> tuple[int, str]:
    """Run `fn` once; return (peak bytes above the level at entry, method name)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base, "torch.cuda.max_memory_allocated"
    from torch.distributed._tools.mem_tracker import MemTracker

    tracker = MemTracker()
    with tracker:
        fn()
    peak = tracker.get_tracker_snapshot("peak")
    total = 0
    for dev, kinds in peak.items():
        if str(dev) != "cpu":
            continue
        named = {str(k).split(".")[-1]: v for k, v in kinds.items()}
        total += named.get("Total", 0) - named.get("PARAM", 0) - named.get("BUFFER", 0)
    return int(total), "torch MemTracker peak minus parameters/buffers (CPU)"
