"""fitdoctor in a plain PyTorch loop: fitdoctor.track logs each epoch to the run store and
fitdoctor.build_scheduler gives warmup + ReduceLROnPlateau (which torch's SequentialLR cannot).
Real data: scikit-learn's 1,797 digits. Run: python examples/plain_loop.py [--epochs 15]"""

import argparse

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import fitdoctor


def main(epochs: int = 15, store: str = "fitdoctor.db") -> str:
    torch.manual_seed(0)
    d = load_digits()
    x_tr, x_va, y_tr, y_va = train_test_split(d.data / 16.0, d.target, test_size=0.25,
                                              random_state=0, stratify=d.target)
    x_tr, x_va = torch.tensor(x_tr, dtype=torch.float32), torch.tensor(x_va, dtype=torch.float32)
    y_tr, y_va = torch.tensor(y_tr), torch.tensor(y_va)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    sched = fitdoctor.build_scheduler(opt, "ReduceLROnPlateau", {"factor": 0.5, "patience": 2},
                                      epochs=epochs, warmup=3, monitor_mode="max")
    loss_fn = nn.CrossEntropyLoss()
    with fitdoctor.track("plain-loop-digits", config={"lr": 3e-3, "warmup": 3}, store=store,
                         val_size=len(y_va)) as run:
        for epoch in range(epochs):
            lr = opt.param_groups[0]["lr"]
            model.train()
            perm = torch.randperm(len(y_tr))
            total, correct = 0.0, 0
            for i in range(0, len(perm), 64):
                idx = perm[i:i + 64]
                out = model(x_tr[idx])
                loss = loss_fn(out, y_tr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.after_batch()
                total += float(loss) * len(idx)
                correct += int((out.argmax(1) == y_tr[idx]).sum())
            model.eval()
            with torch.no_grad():
                out = model(x_va)
                val_loss = float(loss_fn(out, y_va))
                val_acc = float((out.argmax(1) == y_va).float().mean())
            sched.after_epoch(val_acc)
            run.log(epoch=epoch, lr=lr, train_loss=total / len(y_tr), train_acc=correct / len(y_tr),
                    val_loss=val_loss, val_acc=val_acc)
    print(f"run {run.run_id}: diagnose it with `fitdoctor diagnose {run.run_id} --store {store}`")
    return run.run_id


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--store", default="fitdoctor.db")
    a = ap.parse_args()
    main(a.epochs, a.store)
