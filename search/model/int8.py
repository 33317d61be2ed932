"""The pair pass in int8: smoothed activations, per-channel int8 weights, the feed-forward output in float32.

Plain dynamic int8 of every Linear (torch `quantize_dynamic`, one scale per tensor) ran the pair pass 1.31-1.45x
faster on an AVX2 CPU but changed the ranking too much (Spearman 0.88-0.89 against float32 over the sample store's
candidates, about half the answer spans kept: benchmarks/results/runtimes-avx2.json). Three standard
post-training remedies, together:

1. **Smoothing** (SmoothQuant, Xiao et al. 2023): a few input channels of a Linear carry values far larger than
   the rest, and the one int8 scale of a call's activations then leaves the others a handful of levels. With
   `s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)` (alpha 0.5, the paper's), `X W^T = (X / s) (W s)^T` exactly; the
   division moves to a per-channel multiply before the Linear (BERT's layer norms also feed the residual stream,
   so it cannot be folded into them as in pre-norm models), and the weights absorb `s`. `max|X_j|` is measured
   by `calibrate` on training pairs, never on validation data.
2. **Per-channel weights**: one int8 scale per output row of each weight (torch's `per_channel_dynamic_qconfig`).
3. **The feed-forward output stays float32**: its input, after GELU, has the strongest outliers of a BERT layer
   (Bondarenko et al. 2021, "Understanding and Overcoming the Challenges of Efficient Transformer
   Quantization"); the other Linear layers (query, key, value, attention output, feed-forward input: two thirds
   of the Linear work) run in int8.

The scales are saved beside a checkpoint in `int8/smoothing.safetensors` (not part of its fingerprint: they
change no vector the index stores). Measured against float32: docs/speed.md, `benchmarks/compare_runtimes.py`.
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Callable, Sequence

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from search.model.encoder import MultiTaskEncoder
from search.model.packed import packable

SMOOTHING_FILE = Path("int8") / "smoothing.safetensors"
ALPHA = 0.5  # SmoothQuant's migration strength: the outliers' range split evenly between activations and weights


class SmoothedLinear(nn.Module):
    """`linear(x * inverse_scale)`: the Linear of step 1 with its input channels divided by `s` ((H,) buffer)."""

    def __init__(self, inverse_scale: torch.Tensor, linear: nn.Module) -> None:
        super().__init__()
        self.register_buffer("inverse_scale", inverse_scale)
        self.linear = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x * self.inverse_scale)  # (..., H) -> (..., out)


def int8_linears(net: MultiTaskEncoder) -> dict[str, nn.Linear]:
    """The encoder's Linear layers that run in int8, by module name: all but the feed-forward outputs (and the
    pooler, which no head uses). Raises ValueError for an encoder other than a BERT (the names it reads are
    BERT's: another architecture's feed-forward outputs would go to int8 unnoticed)."""
    if not packable(net.encoder):
        raise ValueError("the torch-int8 runtime supports BERT encoders only; use torch or torch-bf16")
    return {name: module for name, module in net.encoder.named_modules()
            if isinstance(module, nn.Linear) and not name.startswith("pooler")
            and not (name.endswith("output.dense") and ".attention." not in name)}


def _groups(names: Sequence[str]) -> dict[str, list[str]]:
    """Linear layers reading the same input share one scale: query, key and value of a layer."""
    groups: dict[str, list[str]] = {}
    for name in names:
        key = name.rsplit(".", 1)[0] if name.endswith(("query", "key", "value")) else name
        groups.setdefault(key, []).append(name)
    return groups


@torch.inference_mode()
def calibrate(net: MultiTaskEncoder, run_pairs: Callable[[], object]) -> dict[str, torch.Tensor]:
    """Per input channel, the largest |activation| entering each int8 Linear while `run_pairs()` runs pair passes
    through `net` (float32): {module name: (H,) float32}. Raises ValueError when some Linear saw no input."""
    seen: dict[str, torch.Tensor] = {}

    def watch(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0).float()  # (H,)
            seen[name] = torch.maximum(seen[name], x) if name in seen else x
        return hook

    handles = [m.register_forward_hook(watch(n)) for n, m in int8_linears(net).items()]
    try:
        run_pairs()
    finally:
        for handle in handles:
            handle.remove()
    missing = sorted(set(int8_linears(net)) - set(seen))
    if missing:
        raise ValueError(f"calibration ran no input through {', '.join(missing[:3])}: give it pairs to score")
    return seen


def smoothing_scales(net: MultiTaskEncoder, activation_max: dict[str, torch.Tensor],
                     alpha: float = ALPHA) -> dict[str, torch.Tensor]:
    """Step 1's `s` for each int8 Linear ({name: (H,)}), shared by the layers of one input."""
    linears = int8_linears(net)
    scales = {}
    for names in _groups(list(linears)).values():
        act = activation_max[names[0]].clamp(min=1e-5)  # (H,)
        weight = torch.stack([linears[n].weight.detach().abs().amax(0) for n in names]).amax(0).clamp(min=1e-5)
        s = (act ** alpha / weight.float() ** (1 - alpha)).clamp(min=1e-5)
        scales.update({n: s for n in names})
    return scales


def save_scales(folder: str | Path, scales: dict[str, torch.Tensor]) -> Path:
    """Write `scales` under a checkpoint folder; returns the file."""
    path = Path(folder) / SMOOTHING_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({n: s.clone().contiguous() for n, s in scales.items()}, str(path))  # q, k, v share one s
    return path


def load_scales(folder: str | Path) -> dict[str, torch.Tensor]:
    """The scales `save_scales` wrote; raises FileNotFoundError saying how to make them."""
    path = Path(folder) / SMOOTHING_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the torch-int8 runtime needs the checkpoint's smoothing "
                                f"scales; make them with `news-search calibrate --model {folder}`")
    return load_file(str(path))


def _shared_tensors(net: MultiTaskEncoder) -> dict[int, torch.Tensor]:
    """A deepcopy memo keeping every tensor of a CPU `net` but the int8 Linear layers' as they are: the copy shares
    the embeddings, feed-forward outputs, layer norms and heads (about 60 MB of float32) instead of duplicating
    them. Empty off the CPU, where the copy's move to the CPU would move the shared tensors too."""
    if any(t.device.type != "cpu" for t in net.parameters()):
        return {}
    changed = {id(t) for linear in int8_linears(net).values() for t in linear.parameters()}
    return {id(t): t for t in (*net.parameters(), *net.buffers()) if id(t) not in changed}


@torch.no_grad()
def smoothed(net: MultiTaskEncoder, scales: dict[str, torch.Tensor]) -> MultiTaskEncoder:
    """A float32 copy of `net` whose `int8_linears` read `x / s` with weights `W s`: the same function (step 1 is
    exact up to rounding), ready to quantize; its other tensors are `net`'s own. `net` is left as it was. Raises
    ValueError when `scales` miss a layer."""
    missing = sorted(set(int8_linears(net)) - set(scales))
    if missing:
        raise ValueError(f"smoothing scales missing for {', '.join(missing[:3])}: calibrate this checkpoint again")
    copied = copy.deepcopy(net, _shared_tensors(net)).cpu().eval()
    modules = dict(copied.encoder.named_modules())
    for name in int8_linears(copied):
        linear, s = modules[name], scales[name].float()
        linear.weight.mul_(s)  # (out, H) * (H,): W s
        parent, attr = name.rsplit(".", 1)
        setattr(modules[parent], attr, SmoothedLinear(1.0 / s, linear))
    return copied


@torch.no_grad()
def fuse_qkv(net: MultiTaskEncoder) -> list[str]:
    """Give each attention layer of a `smoothed` copy one `qkv` SmoothedLinear (H -> 3H) holding its query, key and
    value weights one above the other; the packed forward (search/model/packed.py) reads it instead of the three.
    They share one smoothing scale, so once quantized (per-channel weights, one activation scale per call) the
    fused layer's output is the three outputs side by side, bit for bit, from one matrix product and one
    quantization of its input instead of three (measured 26.8 -> 18.4 ms per layer on 2,600 tokens, AVX2). The
    three stay for the transformers forward. Returns the new layers' module names."""
    names = []
    for name, module in net.encoder.named_modules():
        if name.endswith("attention.self"):
            parts = (module.query, module.key, module.value)  # SmoothedLinear each, one `inverse_scale`
            fused = nn.Linear(parts[0].linear.in_features, sum(p.linear.out_features for p in parts))
            fused.weight.copy_(torch.cat([p.linear.weight for p in parts]))  # (3H, H)
            fused.bias.copy_(torch.cat([p.linear.bias for p in parts]))
            module.qkv = SmoothedLinear(parts[0].inverse_scale, fused)
            names.append(f"{name}.qkv")
    return names


def int8_pair_net(net: MultiTaskEncoder, scales: dict[str, torch.Tensor]) -> MultiTaskEncoder:
    """`smoothed(net, scales)` with those Linear layers quantized, query, key and value also fused (`fuse_qkv`):
    int8 activations (one scale per call, computed on the fly) times per-channel int8 weights. Raises ValueError
    as `smoothed`."""
    quantized = smoothed(net, scales)
    names = [*int8_linears(net), *fuse_qkv(quantized)]
    spec = {f"encoder.{name}.linear": torch.ao.quantization.per_channel_dynamic_qconfig for name in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that eager quantization is moving to torchao
        torch.ao.quantization.quantize_dynamic(quantized, spec, dtype=torch.qint8, inplace=True)
    return quantized
