"""The pair pass on ONNX Runtime: the same network and weights, a faster CPU runtime for the query-time pass.

At load, `MultiTaskEncoder.pair` is exported to ONNX in memory (about a second for MiniLM-L6; nothing is
written to disk, so a new checkpoint never meets a stale file) and run by an `onnxruntime.InferenceSession`
with as many threads as torch uses. Its outputs are torch's own up to float rounding (relevance within 1e-4,
the same answer spans: tests/model/test_onnx_pairs.py); `benchmarks/compare_runtimes.py` measures the speed and
the quality of it and of the int8 variants against torch fp32 (this is the runtime that kept both). On CUDA,
torch stays: the ONNX session here is CPU-only.
"""
from __future__ import annotations

import io
import warnings

import torch
from torch import nn

from search.model.config import RUNTIMES
from search.model.encoder import MultiTaskEncoder, PairOutput

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


class _PairGraph(nn.Module):
    """`pair` returning a tuple, the form the exporter traces."""

    def __init__(self, net: MultiTaskEncoder) -> None:
        super().__init__()
        self.net = net

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.net.pair(input_ids, attention_mask, token_type_ids)
        return out.relevance, out.start_logits, out.end_logits


def export_pair_graph(net: MultiTaskEncoder) -> bytes:
    """The ONNX model (serialized) of `net.pair` with dynamic batch and token axes; needs the onnx package."""
    example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long),
               torch.zeros(2, 8, dtype=torch.long))
    graph = io.BytesIO()
    # the tracer warns about shape-dependent Python in the encoder's mask code; the traced graph is checked
    # against torch's outputs on real passages of many lengths (tests/model/test_onnx_pairs.py)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_PairGraph(net).eval(), example, graph, input_names=list(INPUTS),
                          output_names=["relevance", "start_logits", "end_logits"],
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in INPUTS},
                          opset_version=OPSET, dynamo=False)
    return graph.getvalue()


class OnnxPairPass:
    """Callable like `MultiTaskEncoder.pair`: (B, T) ids, mask and segment ids -> PairOutput ((B,), (B, T), (B, T)),
    running `graph` (from `export_pair_graph`, or a quantized form of it) on `threads` CPU threads.
    Raises ImportError when onnxruntime is not installed."""

    def __init__(self, graph: bytes, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 token_type_ids: torch.Tensor) -> PairOutput:
        feeds = {"input_ids": input_ids.cpu().numpy(), "attention_mask": attention_mask.cpu().numpy(),
                 "token_type_ids": token_type_ids.cpu().numpy()}
        relevance, start, end = self.session.run(None, feeds)
        return PairOutput(torch.from_numpy(relevance), torch.from_numpy(start), torch.from_numpy(end))


def choose_runtime(runtime: str, device: torch.device) -> str:
    """"torch" or "onnxruntime" for `runtime` (one of RUNTIMES) on `device`; raises ValueError on an unknown name,
    and ImportError when onnxruntime is asked for by name but not installed."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    if runtime == "torch" or device.type != "cpu" and runtime == "auto":
        return "torch"
    try:
        import onnx  # noqa: F401  (the exporter's dependency)
        import onnxruntime  # noqa: F401
    except ImportError:
        if runtime == "onnxruntime":
            raise ImportError("the onnxruntime runtime needs the packages onnxruntime and onnx: "
                              "pip install onnxruntime onnx") from None
        return "torch"
    return "onnxruntime"
