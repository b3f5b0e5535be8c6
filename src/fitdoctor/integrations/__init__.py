"""fitdoctor where the training already is: a plain-loop tracker (``fitdoctor.track``), a
Lightning callback, a Hugging Face TrainerCallback, and ``build_scheduler`` for any loop."""

from .track import Run, track

__all__ = ["Run", "track"]
