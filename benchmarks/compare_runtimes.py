"""Faster runtimes for the pair pass, and what each costs in quality against torch float32.

Runtimes: torch fp32 (the product's: packed rows, search/model/packed.py), the same through the transformers
forward on padded batches (what it ran before), torch bf16 autocast (CPUs with native bf16), ONNX Runtime fp32,
ONNX Runtime dynamic int8 with per-channel weights (`reduce_range` on CPUs without VNNI), torch
`quantize_dynamic` int8 on every Linear (per-tensor; the one issue 13 measured as unacceptable), and the
product's `torch-int8` (smoothed activations, per-channel weights, feed-forward outputs in float32:
search/model/int8.py). Each runs the same pair pass through the product's own decoding
(`NewsModel.score_pair_list`, with the model's pair window), on
* the sample store: every query's fused candidates down to the model's rerank depth — Spearman of the pair
  relevance against fp32 per query (mean), agreement of the top candidate, and of the answer span (same
  characters); latency of that pair pass (p50 / p95 ms; every candidate down to the depth, where a search now
  reads each article's best of them);
* SQuAD validation: answer EM / F1 on passage-sized contexts (`--questions` questions, spread by hash).
Column "holds" is this pass-level check: F1 within 1% of fp32 and rankings that agree (Spearman >= 0.99). The
rule for a default is the issue's, on the validation collections: `news-search eval --runtime R` within 1% of
float32 on every figure (README, "The int8 pair pass"). The runtimes take turns on each search, in a rotating
order, so the machine's drift (±15% between runs on a 2-core cloud CPU) hits them alike; `bench_search.py
--runtime` measures whole searches.
Prints a table and writes benchmarks/results/runtimes.json.

    python benchmarks/compare_runtimes.py --store runs/sample-store --threads 2
"""
from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import torch
from bench_search import fixed_queries
from results_io import write_results

ROOT = Path(__file__).resolve().parents[1]


def int8_graph(net, folder: Path) -> bytes:
    """The product's exported pair graph, quantized: dynamic int8, per-channel weights, `reduce_range` on CPUs
    without VNNI (ONNX Runtime's advice)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from search.model.runtime import export_pair_graph

    folder.mkdir(parents=True, exist_ok=True)
    source, target = folder / "pair-fp32.onnx", folder / "pair-int8.onnx"
    source.write_bytes(export_pair_graph(net))
    cpuinfo = Path("/proc/cpuinfo")
    vnni = cpuinfo.exists() and "avx512_vnni" in cpuinfo.read_text()
    quantize_dynamic(str(source), str(target), per_channel=True, reduce_range=not vnni, weight_type=QuantType.QInt8)
    return target.read_bytes()


def padded(net):
    """`net.pair` through the transformers forward, padding included (the product runs it packed)."""
    def pair(*inputs):
        net.packable = False
        try:
            return net.pair(*inputs)
        finally:
            net.packable = True
    return pair


def spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic) if len(a) > 2 else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=str(ROOT / "store"), help="store folder (default: ./store)")
    parser.add_argument("--data", default="../shared/data", help="data folder with SQuAD validation")
    parser.add_argument("--queries", type=int, default=20, help="sample-store queries")
    parser.add_argument("--questions", type=int, default=500, help="SQuAD validation questions")
    parser.add_argument("--threads", type=int, default=None, help="torch / ONNX Runtime threads")
    parser.add_argument("--onnx", default="runs/onnx", help="folder for the exported ONNX files")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from search.evaluation.qa import evaluate_qa, passage_sized, sample_questions
    from search.model import NewsModel
    from search.model.runtime import Bf16PairPass, OnnxPairPass, bf16_supported, export_pair_graph, pair_pass
    from search.pipeline.retrieve import fetch_passages, retrieve
    from search.store import Filters, Store
    from search.training.data import read_squad
    from search.training.materials import SQUAD_VALID, data_path

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    model = NewsModel.load(device="cpu", runtime="torch")
    settings = model.config.ranking
    store = Store.open(args.store, readonly=True)
    store.check_model(model.model_id)
    searches = []
    for query in fixed_queries(store, args.queries):
        cands = retrieve(store, model.embed_queries([query]), query, Filters(), settings.candidates, settings.fusion,
                         settings.alpha)
        searches.append((query, [row.text for _, row in fetch_passages(store, cands)[:settings.rerank_depth]]))
    contexts = sample_questions(passage_sized(read_squad(data_path(args.data, SQUAD_VALID)), model.tokenizer,
                                              model.config.max_passage_tokens - 2), args.questions)
    torch_int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model.net), {torch.nn.Linear},
                                                        dtype=torch.qint8)
    bf16 = bf16_supported(torch.device("cpu"))
    # each runtime swaps in its own pair pass (the product's own where it offers one); the decoding around it is
    # the product's
    runtimes = {"torch fp32": model.net.pair, "torch fp32, transformers forward (padded)": padded(model.net),
                "torch bf16 autocast": Bf16PairPass(model.net),
                "onnxruntime fp32": OnnxPairPass(export_pair_graph(model.net), threads),
                "onnxruntime int8 per-channel": OnnxPairPass(int8_graph(model.net, Path(args.onnx)), threads),
                "torch int8 per-tensor": torch_int8.pair,
                "torch-int8 (smoothed, per-channel)": pair_pass("torch-int8", model.net, Path(model.name))}
    if not bf16:
        runtimes.pop("torch bf16 autocast")
    for run_pass in runtimes.values():  # warm-up
        model.pair_pass = run_pass
        for query, texts in searches[:2]:
            model.score_pairs(query, texts, settings.pair_window)
    outputs: dict[str, list] = {name: [] for name in runtimes}
    times: dict[str, list[float]] = {name: [] for name in runtimes}
    names = list(runtimes)
    for k, (query, texts) in enumerate(searches):
        # the runtimes take turns on each search, each search starting with the next one: the machine's drift
        # and the cost of going first hit them alike
        for name in names[k % len(names):] + names[:k % len(names)]:
            model.pair_pass = runtimes[name]
            began = time.perf_counter()
            outputs[name].append(model.score_pairs(query, texts, settings.pair_window))
            times[name].append((time.perf_counter() - began) * 1000.0)
    rows = {}
    for name, run_pass in runtimes.items():
        model.pair_pass = run_pass
        qa = evaluate_qa(model, contexts, settings.pair_window)
        rows[name] = {"pair_pass_ms": {"p50": float(np.percentile(times[name], 50)),
                                       "p95": float(np.percentile(times[name], 95))},
                      "squad_em": qa["exact_match"], "squad_f1": qa["f1"]}
    reference = outputs["torch fp32"]
    for name, scores in outputs.items():
        rho, top, spans = [], [], []
        for ref, got in zip(reference, scores):
            a, b = [p.relevance for p in ref], [p.relevance for p in got]
            rho.append(spearman(a, b))
            top.append(int(np.argmax(a)) == int(np.argmax(b)))
            spans += [(r.answer_start, r.answer_end) == (g.answer_start, g.answer_end) for r, g in zip(ref, got)]
        base = rows["torch fp32"]
        rows[name] |= {"spearman_vs_fp32": float(np.mean(rho)), "top1_agreement": float(np.mean(top)),
                       "same_answer_span": float(np.mean(spans)),
                       "f1_vs_fp32": rows[name]["squad_f1"] / base["squad_f1"],
                       "speedup": base["pair_pass_ms"]["p50"] / rows[name]["pair_pass_ms"]["p50"]}
        rows[name]["quality_holds"] = rows[name]["f1_vs_fp32"] >= 0.99 and rows[name]["spearman_vs_fp32"] >= 0.99
    table = Table(title=f"pair pass runtimes ({args.queries} searches x {settings.rerank_depth} pairs, window "
                        f"{settings.pair_window or 'whole'}; SQuAD {sum(len(p.qas) for p in contexts)} questions)")
    for column in ("runtime", "p50 ms", "speed-up", "Spearman", "top-1 same", "same span", "SQuAD F1", "holds"):
        table.add_column(column, justify="right")
    for name, r in rows.items():
        table.add_row(name, f"{r['pair_pass_ms']['p50']:.0f}", f"{r['speedup']:.2f}x", f"{r['spearman_vs_fp32']:.3f}",
                      f"{r['top1_agreement']:.2f}", f"{r['same_answer_span']:.2f}", f"{r['squad_f1']:.1f}",
                      "yes" if r["quality_holds"] else "no")
    Console().print(table)
    write_results("runtimes", {"store": str(Path(args.store).resolve()), "threads": threads, "bf16_cpu": bf16,
                               "ranking": settings.__dict__, "runtimes": rows})


if __name__ == "__main__":
    main()
