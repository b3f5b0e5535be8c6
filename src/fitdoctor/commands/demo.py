"""demo: train an overfitting run on real data, diagnose it, run the top recommendation and
compare the two."""

from __future__ import annotations

import os
from typing import Optional

import typer

from .common import check_lang, out_console, say, user_errors, warn


def demo_cmd(
    out: str = typer.Option("fitdoctor-demo", "--out", help="Where the store, runs and reports go."),
    lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    config: Optional[str] = typer.Option(None, "--config", help="Start from this config instead of "
                                         "the bundled one (MiniLM on Rotten Tomatoes)."),
) -> None:
    """Train an overfitting run on real data, diagnose it, run the top recommendation, compare."""
    with user_errors():
        check_lang(lang)
        from ..demo import run_demo

        index = run_demo(out, lang=lang, say=say, warn=warn, progress=progress, config=config)
        out_console.print(f"report: {os.path.abspath(index)}", highlight=False, soft_wrap=True)
