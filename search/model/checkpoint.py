"""Save and load a checkpoint folder that works with no network.

Layout: the encoder as a sentence-transformers model (fp16 safetensors in shards under 15 MB, tokenizer,
pooling config, the embedding head's projection as a Dense module when it has one), `heads.safetensors` for the
five heads, `newsearch.json` (label sets, limits, recipe) and, when known, `eval.json`.
`SentenceTransformer(folder)` loads the encoder with its embedding head and gives the vectors newsearch indexes.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from search.model.config import ModelConfig
from search.model.encoder import MultiTaskEncoder
from search.model.errors import ModelLoadError
from search.model.info import CONFIG_FILE, read_meta
HEADS_FILE = "heads.safetensors"
EVAL_FILE = "eval.json"
FORMAT_VERSION = 1

_ST_TYPES = {"Transformer": "sentence_transformers.models.Transformer",
             "Pooling": "sentence_transformers.models.Pooling",
             "Dense": "sentence_transformers.models.Dense",
             "Normalize": "sentence_transformers.models.Normalize"}


def half_precision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """fp16 copies of the floating-point tensors (integer buffers kept): half the disk, and loading casts back
    to float32, so nothing that matters for this small encoder is lost."""
    return {k: (v.detach().to(torch.float16) if v.is_floating_point() else v.detach()).contiguous()
            for k, v in state.items()}


def save_checkpoint(folder: str | Path, net: MultiTaskEncoder, tokenizer: PreTrainedTokenizerBase,
                    recipe: dict[str, Any] | None = None) -> Path:
    """Write the whole model to `folder` (replaced atomically: written aside, then renamed)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    encoder = net.encoder
    encoder.save_pretrained(tmp, state_dict=half_precision(encoder.state_dict()), safe_serialization=True,
                            max_shard_size="14MB")
    tokenizer.save_pretrained(tmp)
    save_file(half_precision({k: v for k, v in net.state_dict().items() if not k.startswith("encoder.")}),
              str(tmp / HEADS_FILE))
    _write_json(tmp / CONFIG_FILE, {"format": FORMAT_VERSION, "model": net.config.to_dict(), "recipe": recipe or {}})
    _write_sentence_transformers(tmp, net)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder


def _write_sentence_transformers(folder: Path, net: MultiTaskEncoder) -> None:
    """The sentence-transformers description of the embedding pass: Transformer -> mean Pooling -> [Dense, the
    projection, identity activation] -> Normalize (each module as the library saves it)."""
    # deferred: the library loads slowly and only saving needs it; the module moved in sentence-transformers 5
    try:
        from sentence_transformers.base.modules.dense import Dense
    except ImportError:
        from sentence_transformers.models import Dense

    hidden = net.encoder.config.hidden_size
    modules = ["Transformer", "Pooling"]
    projection = net.embedding_head.projection
    if projection is not None:
        modules.append("Dense")
        (folder / "2_Dense").mkdir()
        # the weights as heads.safetensors holds them (fp16), so both loaders give the same vectors
        Dense(hidden, hidden, bias=True, activation_function=nn.Identity(),
              init_weight=projection.weight.detach().half().float(),
              init_bias=projection.bias.detach().half().float()).save(str(folder / "2_Dense"))
    modules.append("Normalize")
    paths = {"Transformer": "", "Pooling": "1_Pooling", "Dense": "2_Dense",
             "Normalize": f"{len(modules) - 1}_Normalize"}
    _write_json(folder / "modules.json", [{"idx": i, "name": str(i), "path": paths[m], "type": _ST_TYPES[m]}
                                          for i, m in enumerate(modules)])
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": net.config.max_passage_tokens,
                                                        "do_lower_case": False})
    (folder / "1_Pooling").mkdir()
    _write_json(folder / "1_Pooling" / "config.json", {"word_embedding_dimension": hidden,
                                                       "pooling_mode_mean_tokens": True})
    (folder / paths["Normalize"]).mkdir()


def save_evaluation(folder: str | Path, results: dict[str, Any]) -> Path:
    """Store `news-search eval`'s results in the checkpoint as eval.json, the figures a release ships with.

    The sections this run measured replace the stored ones and the others stay, so re-measuring one task (say
    after a decoding change) keeps the rest of the release's figures; `seconds` then adds up the runs.
    Only the weights enter the fingerprint, so stores indexed with this checkpoint stay valid."""
    path = Path(folder) / EVAL_FILE
    stored = json.loads(path.read_text()) if path.is_file() else {}
    merged = {**stored, **results}
    if "seconds" in stored and "seconds" in results:
        merged["seconds"] = round(stored["seconds"] + results["seconds"], 1)
    tmp = path.with_name(EVAL_FILE + ".tmp")
    _write_json(tmp, merged)
    tmp.replace(path)
    return path


def save_model_settings(folder: str | Path, settings: dict[str, Any]) -> Path:
    """Store settings (e.g. `ranking`, `min_answer_confidence`) in the model section of the checkpoint's
    newsearch.json; the weights, and so the fingerprint that stores are matched against, stay as they are.
    Raises ValueError on an out-of-range value, before anything is written."""
    path = Path(folder) / CONFIG_FILE
    meta = json.loads(path.read_text())
    meta["model"].update(settings)
    ModelConfig.from_dict(meta["model"])  # refuses out-of-range settings before anything is written
    tmp = path.with_suffix(".tmp")
    _write_json(tmp, meta)
    tmp.replace(path)
    return path


def load_checkpoint(folder: str | Path) -> tuple[MultiTaskEncoder, PreTrainedTokenizerBase, dict[str, Any]]:
    """Load (network, tokenizer, newsearch.json contents); fail with a message that says what to do."""
    folder = Path(folder)
    meta = read_meta(folder)
    try:
        config = ModelConfig.from_dict(meta["model"])
        encoder = AutoModel.from_pretrained(folder).float()
        net = MultiTaskEncoder(encoder, config)
        heads = load_file(str(folder / HEADS_FILE))
        missing = {k for k in net.state_dict() if not k.startswith("encoder.")} - set(heads)
        if missing:
            raise ValueError(f"heads file lacks {sorted(missing)[:3]}")
        net.load_state_dict({k: v.float() for k, v in heads.items()}, strict=False)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except Exception as exc:  # safetensors, json and transformers raise many kinds; the user needs one message
        raise ModelLoadError(f"checkpoint at {folder} is corrupt or incomplete ({type(exc).__name__}: "
                             f"{str(exc)[:200]}); re-copy it or re-run `news-search train`") from exc
    net.eval()
    return net, tokenizer, meta


def load_recipe(folder: str | Path) -> dict[str, Any]:
    """The training recipe stored with a checkpoint ({} when there is none)."""
    path = Path(folder) / CONFIG_FILE
    return json.loads(path.read_text()).get("recipe", {}) if path.is_file() else {}


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
