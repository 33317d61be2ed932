"""Where benchmark scripts leave their figures: one JSON file per run under benchmarks/results/, each with the
machine it was measured on. The project's machines differ from session to session, and a figure measured on a
CPU with AVX-512 bf16 is not comparable with one from an AVX2-only CPU, so a run on a CPU without AVX-512 writes
its files under a name ending in that CPU's capability (`search-sample-store-avx2.json`) and leaves the
AVX-512 machine's files, which the README quotes, in place."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """The CPU the figures come from: model name, cores, the vector instructions torch dispatches to
    ("AVX512", "AVX2", ...) and whether the pair pass runs in bf16 there."""
    import torch

    from search.model.runtime import bf16_supported

    model = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "bf16": bf16_supported(torch.device("cpu")), "torch": torch.__version__}


def results_name(name: str) -> str:
    """`name`, with "-<capability>" added on a CPU without AVX-512 (see the module docstring)."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    return name if capability.startswith("AVX512") else f"{name}-{capability.lower().replace(' ', '-')}"


def write_results(name: str, report: dict[str, Any]) -> Path:
    """Write `report` and the `machine()` it ran on to benchmarks/results/<results_name(name)>.json, say where,
    and return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{results_name(name)}.json"
    out.write_text(json.dumps({**report, "machine": machine()}, indent=2) + "\n")
    print(f"wrote {out}")
    return out
