"""Renderers: terminal (rich), Markdown, HTML, plots; English or Chinese."""

from .documents import render_html, render_markdown, write_reports
from .terminal import render_terminal

__all__ = ["render_html", "render_markdown", "render_terminal", "write_reports"]
