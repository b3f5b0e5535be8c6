"""``read_history(path)``: sniff the format of a training history and read it (the sniffer and
the dispatch to the readers are in :mod:`.sniff`).

Formats: ``console`` (text logs), ``csv`` (Lightning, Keras, timm, Ultralytics, generic),
``hf`` (Hugging Face ``trainer_state.json``), ``jsonl`` (DeiT/DETR ``log.txt``, mmcv
``*.log.json``, detectron2 ``metrics.json``), ``json`` (a list of per-epoch objects),
``tensorboard`` (event files), ``yolov5-txt`` (YOLOv5's headerless ``results.txt``); a
directory may also be an MLflow tracking directory (``mlruns/``, one history per run)."""

from .sniff import FORMATS, read_histories, read_history

__all__ = ["FORMATS", "read_histories", "read_history"]
