"""lr-find's result rendered: the --json document and the terminal lines."""

from __future__ import annotations

from rich.console import Console

from ..lrfind import CONSENSUS, LRFindResult, policy


def lrfind_document(result: LRFindResult) -> dict:
    """lr-find --json (schema fitdoctor.lrfind/2): the first repeat's curve, the others under repeats."""
    curve = result.curves[0]
    return {"schema": "fitdoctor.lrfind/2", "suggestion": result.suggestion,
            "suggestions": result.suggestions, "lr": curve.lr, "loss": curve.loss,
            "cost_epochs": result.cost_epochs, "agreement_decades": result.agreement_decades,
            "spread_decades": result.spread_decades, "message": result.message or None,
            "moved_from": result.moved_from, "policy": policy(result.pretrained), "refused": result.refused or None,
            "smoothed": curve.smooth, "stopped": curve.stopped,
            "repeats": [{"lr": c.lr, "loss": c.loss, "stopped": c.stopped} for c in result.curves[1:]]}


def render_lrfind_terminal(result: LRFindResult, repeats: int, out: Console, err: Console) -> None:
    """Each rule's LR with its spread over the repeats, the suggestion, the note (on ``err``), the cost."""
    for rule, lr in result.suggestions.items():
        spread = result.spread_decades.get(rule)
        k = sum(1 for p in result.per_repeat if p.get(rule))
        over = f"{repeats}" if k == repeats else f"{k} of {repeats}"
        out.print(f"  {rule:<11} {lr:.3g}" if lr else f"  {rule:<11} -", highlight=False, end="")
        out.print((f"   (spread over {over} repeats: {spread:.2f} decades)" if spread is not None and lr else "")
                  + ("" if rule in CONSENSUS else "   (shown, not used)"), highlight=False)
    if result.suggestion is not None:
        out.print(f"suggested LR: {result.suggestion:.3g} ({policy(result.pretrained)}; steepest, half_drop "
                  f"and min_div_10 agree within {result.agreement_decades:.2f} decades)", highlight=False)
    if result.message:
        err.print(f"[yellow]note:[/] {result.message}", highlight=False)
    out.print(f"cost: {result.cost_epochs:.2f} epochs of compute", highlight=False)
