"""The pair pass's runtime: the same network and weights, run the fastest way that keeps its results.

* `torch`: float32, the reference.
* `torch-bf16`: bf16 autocast on a CPU with native bf16 instructions (AVX-512 BF16, AMX); measured here 1.49x
  faster than float32 with the same ranking (Spearman 0.999 over 20 searches) and the same answers
  (`benchmarks/compare_runtimes.py`, `benchmarks/results/runtimes.json`).
* `onnxruntime`: `MultiTaskEncoder.pair` exported to ONNX in memory at load (about a second; nothing written to
  disk) and run by an `onnxruntime.InferenceSession`; its outputs are torch's up to float rounding, but on this
  CPU it was no faster (0.94x), so no default picks it.
* `torch-int8`: the pair pass with smoothed activations and per-channel int8 weights, the feed-forward outputs
  in float32 (search/model/int8.py; needs the checkpoint's smoothing scales, `news-search calibrate`), on a CPU.
* `auto`: torch-bf16 on a CPU with native bf16; on other CPUs torch-int8 where the checkpoint has its scales
  (the released one does), else torch; torch on CUDA.
The plain int8 variants measured beside them (ONNX Runtime per-channel, torch per-tensor) changed the ranking
and the answers too much to be offered.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from search.model.config import RUNTIMES
from search.model.encoder import MultiTaskEncoder, PairOutput
from search.model.int8 import SMOOTHING_FILE, int8_pair_net, load_scales

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
    # against torch's outputs on real passages of many lengths (tests/model/test_runtime.py)
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


class Bf16PairPass:
    """`MultiTaskEncoder.pair` under bf16 autocast (outputs in float32, as the heads cast them)."""

    def __init__(self, net: MultiTaskEncoder) -> None:
        self.net = net

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 token_type_ids: torch.Tensor) -> PairOutput:
        with torch.autocast(input_ids.device.type, dtype=torch.bfloat16):
            return self.net.pair(input_ids, attention_mask, token_type_ids)


def bf16_supported(device: torch.device) -> bool:
    """bf16 autocast pays off on CUDA and on CPUs with native bf16 instructions only (elsewhere it is emulated,
    about 20x slower than float32)."""
    if device.type == "cuda":
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose_runtime(runtime: str, device: torch.device, folder: Path | None = None) -> str:
    """The runtime `runtime` (one of RUNTIMES) means on `device` for the checkpoint in `folder` (auto picks
    torch-int8 only where the checkpoint has its smoothing scales); raises ValueError on an unknown name or
    torch-int8 off a CPU, and ImportError when onnxruntime is asked for but not installed."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    if runtime == "auto":
        if device.type != "cpu":
            return "torch"
        if bf16_supported(device):
            return "torch-bf16"
        return "torch-int8" if folder is not None and (Path(folder) / SMOOTHING_FILE).exists() else "torch"
    if runtime == "torch-int8" and device.type != "cpu":
        raise ValueError("the torch-int8 runtime runs on a CPU only (torch's dynamic int8 kernels); use torch or "
                         "torch-bf16 on a GPU")
    if runtime == "onnxruntime":
        try:
            import onnx  # noqa: F401  (the exporter's dependency)
            import onnxruntime  # noqa: F401
        except ImportError:
            raise ImportError("the onnxruntime runtime needs the packages onnxruntime and onnx: "
                              "pip install onnxruntime onnx") from None
    return runtime


def pair_pass(runtime: str, net: MultiTaskEncoder, folder: Path | None = None) -> Callable[..., PairOutput]:
    """The callable running the pair pass on a chosen runtime (see `choose_runtime`); `folder`, the checkpoint's,
    holds torch-int8's smoothing scales. Raises FileNotFoundError when torch-int8 finds no scales there."""
    if runtime == "onnxruntime":
        return OnnxPairPass(export_pair_graph(net), torch.get_num_threads())
    if runtime == "torch-int8":
        if folder is None:
            raise FileNotFoundError("the torch-int8 runtime needs a checkpoint folder with smoothing scales "
                                    "(news-search calibrate)")
        return int8_pair_net(net, load_scales(folder)).pair
    return Bf16PairPass(net) if runtime == "torch-bf16" else net.pair
