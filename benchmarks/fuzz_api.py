"""The long schemathesis run over the live app's OpenAPI schema (the suite runs a bounded one,
tests/api/test_contract.py): every operation, schema-valid and schema-breaking requests, the same checks.

    python benchmarks/fuzz_api.py --store runs/sample-store [--cases 500] [--seed 0]

Prints a table (operation, mode, cases, failures) and writes benchmarks/results/fuzz-api.json with each distinct
failure's message.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from results_io import write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="a store built by news-index")
    parser.add_argument("--cases", type=int, default=500, help="examples per operation and mode")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import schemathesis
    from hypothesis import HealthCheck, given, seed, settings
    from schemathesis.generation import GenerationMode

    from search.api import create_app
    from tests.api.test_contract import CHECKS

    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(args.store))
    rows = []
    print("| operation | mode | cases | failures |\n|---|---|---|---|")
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode == GenerationMode.NEGATIVE and not (len(operation.query) or len(operation.path_parameters)):
                continue
            cases, failures = [0], []

            @seed(args.seed)
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=args.cases, deadline=None, database=None, report_multiple_bugs=True,
                      suppress_health_check=list(HealthCheck))
            def run(case) -> None:
                cases[0] += 1
                try:
                    case.call_and_validate(checks=CHECKS)
                except Exception as exc:  # recorded per case: the run goes on to count them all
                    failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

            run()
            rows.append({"operation": f"GET {operation.path}", "mode": mode.value, "cases": cases[0],
                         "failures": len(failures), "distinct": sorted(set(failures))})
            print(f"| GET {operation.path} | {mode.value} | {cases[0]} | {len(failures)} |", flush=True)
    write_results("fuzz-api", {"store": args.store, "cases_per_operation": args.cases, "seed": args.seed,
                               "rows": rows, "total_cases": sum(r["cases"] for r in rows),
                               "total_failures": sum(r["failures"] for r in rows)})


if __name__ == "__main__":
    main()
