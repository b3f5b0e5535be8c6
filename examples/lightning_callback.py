"""fitdoctor in your own Lightning code: FitDoctorCallback logs every epoch to the run store and
writes the diagnosis report at the end; EarlyStopping decides on the 3-epoch average.
Real data: scikit-learn's digits. Run: python examples/lightning_callback.py [--epochs 10]"""

import argparse

import lightning as L
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from fitdoctor.integrations.lightning import EarlyStopping, FitDoctorCallback


class DigitsMLP(L.LightningModule):
    def __init__(self, lr: float = 3e-3, hidden: int = 64):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def step(self, batch, split):
        x, y = batch
        out = self.net(x)
        loss = nn.functional.cross_entropy(out, y)
        self.log(f"{split}_loss", loss, on_epoch=True, on_step=False)
        self.log(f"{split}_acc", (out.argmax(1) == y).float().mean(), on_epoch=True, on_step=False)
        return loss

    def training_step(self, batch, i):
        return self.step(batch, "train")

    def validation_step(self, batch, i):
        self.step(batch, "val")

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10)}


def loaders():
    d = load_digits()
    x_tr, x_va, y_tr, y_va = train_test_split(d.data / 16.0, d.target, test_size=0.25, random_state=0,
                                              stratify=d.target)
    t = lambda a, dt: torch.tensor(a, dtype=dt)  # noqa: E731
    return (DataLoader(TensorDataset(t(x_tr, torch.float32), t(y_tr, torch.long)), batch_size=64, shuffle=True),
            DataLoader(TensorDataset(t(x_va, torch.float32), t(y_va, torch.long)), batch_size=256))


def main(epochs: int = 10, store: str = "fitdoctor.db", report: str = "fitdoctor-report") -> str:
    L.seed_everything(0, verbose=False)
    doctor = FitDoctorCallback(name="lightning-digits", store=store, report=report)
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_model_summary=False, enable_progress_bar=False,
                        callbacks=[doctor, EarlyStopping(monitor="val_acc", patience=4, smoothing=3)])
    train, val = loaders()
    trainer.fit(DigitsMLP(), train, val)
    print(f"run {doctor.run_id}: report in {report}/report.html")
    return doctor.run_id


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--store", default="fitdoctor.db")
    ap.add_argument("--report", default="fitdoctor-report")
    a = ap.parse_args()
    main(a.epochs, a.store, a.report)
