"""Weight-space ensembling with the base encoder (WiSE-FT, Wortsman et al., CVPR 2022).

Multi-task fine-tuning on a small budget pulls the shared encoder away from the pre-trained sentence embedding,
and dense retrieval pays for it. Averaging the fine-tuned encoder's weights with the base encoder's,
theta = alpha * fine_tuned + (1 - alpha) * base, recovers most of the base model's embedding quality while the
heads keep most of what they learned; the heads themselves are kept as trained. No extra pass at run time:
the result is an ordinary checkpoint.
"""
from __future__ import annotations

from pathlib import Path

from transformers import AutoModel

from search.model.base import resolve_base
from search.model.checkpoint import load_checkpoint, load_recipe, save_checkpoint


def interpolate_with_base(checkpoint: str | Path, alpha: float, out: str | Path) -> Path:
    """Write to `out` the checkpoint whose encoder is `alpha` of `checkpoint`'s and 1 - alpha of its base's."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (1 = the fine-tuned encoder unchanged), got {alpha}")
    net, tokenizer, _ = load_checkpoint(checkpoint)
    base = AutoModel.from_pretrained(resolve_base(net.config.base)).float().state_dict()
    tuned = net.encoder.state_dict()
    if set(base) != set(tuned):
        raise ValueError(f"{checkpoint}'s encoder and its base {net.config.base or 'MiniLM'} differ in layout")
    net.encoder.load_state_dict({k: alpha * v + (1 - alpha) * base[k] if v.is_floating_point() else v
                                 for k, v in tuned.items()})
    recipe = load_recipe(checkpoint) | {"weight_average_with_base": alpha, "fine_tuned": str(checkpoint)}
    return save_checkpoint(out, net, tokenizer, recipe)
