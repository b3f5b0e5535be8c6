"""diagnose, compare and report: read histories or stored runs, diagnose or compare them, render
the result in the terminal, as JSON or as report files."""

from __future__ import annotations

import json
from typing import List, Optional

import typer

from ..diagnosis import DiagnoseOptions, diagnose, to_document
from ..diagnosis.document import finding_codes
from ..errors import UsageError
from ..history import FORMATS
from ..inputs import compare_inputs, open_histories
from ..store import DEFAULT_PATH as DEFAULT_STORE
from .common import check_lang, err_console, out_console, user_errors


def diagnose_cmd(
    paths: List[str] = typer.Argument(..., help="Training histories: console logs, CSV, JSON, "
                                      "trainer_state.json, TensorBoard event files, run "
                                      "directories or MLflow mlruns/; - reads standard input."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric to monitor (default: the "
                                         "validation accuracy-like metric, else validation loss)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="max or min (default: inferred from the name)."),
    val_size: Optional[int] = typer.Option(None, "--val-size", help="Validation-set size: adds the "
                                           "sampling error sqrt(p(1-p)/N) to intervals."),
    fmt: Optional[str] = typer.Option(None, "--format", help=f"Force a format: {', '.join(FORMATS)}."),
    run: Optional[str] = typer.Option(None, "--run", help="For a file holding several runs (the epoch "
                                      "counter restarts) or an MLflow directory: a run number, or 'all'."),
    as_json: bool = typer.Option(False, "--json", help="Print the diagnosis document(s) as JSON."),
    out: Optional[str] = typer.Option(None, "--out", help="Write report.md, report.html, curves.png "
                                      "and diagnosis.json into this directory."),
    lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="Run store for run ids."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help="A CI gate: exit 1 when any "
                                          "of these findings is reported (comma-separated codes, "
                                          "e.g. overfitting,no_learning,divergence); each is "
                                          "printed on stderr. Bad input still exits 2."),
) -> None:
    """Diagnose training histories: log files, run directories, or run ids from the store."""
    with user_errors():
        check_lang(lang)
        gate = _finding_codes(fail_on) if fail_on else set()
        histories = [h.with_options(monitor=metric, mode=mode, val_size=val_size)
                     for h in open_histories(paths, fmt, run, store)]
        results = [(h, diagnose(h, DiagnoseOptions())) for h in histories]
        if out:
            from ..report.batch import write_diagnosis_reports
            for page in write_diagnosis_reports(results, out, lang, store):
                if not as_json:
                    err_console.print(f"report: {page}", highlight=False)
        if as_json:
            docs = [to_document(d) for _, d in results]
            typer.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
        else:
            from ..report import render_terminal
            for _, d in results:
                render_terminal(d, out_console, lang)
    hits = [(h, f) for h, d in results for f in d.findings if f.code in gate]
    for h, f in hits:
        err_console.print(f"fail-on {f.code}: {h.source}: {f.message}", highlight=False,
                          markup=False, soft_wrap=True)
    if hits:
        raise typer.Exit(1)


def _finding_codes(text: str) -> set[str]:
    """--fail-on's codes, each one a finding fitdoctor reports."""
    known = finding_codes()
    codes = {c.strip() for c in text.split(",") if c.strip()}
    unknown = sorted(codes - known)
    if unknown or not codes:
        raise UsageError(f"--fail-on: unknown finding code(s) {', '.join(unknown) or '(none given)'}; "
                         f"known: {', '.join(sorted(known))}.")
    return codes


def compare_cmd(
    items: List[str] = typer.Argument(..., help="Run ids from the store, or training logs (two or more)."),
    val_size: Optional[int] = typer.Option(None, "--val-size", help="Validation-set size, for the "
                                           "two-proportion test when no per-example predictions are stored."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric to compare (default: each run's monitor)."),
    fmt: Optional[str] = typer.Option(None, "--format", help=f"Force a log format: {', '.join(FORMATS)}."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison document."),
    out: Optional[str] = typer.Option(None, "--out", help="Write comparison.md/.html/.json/.png here."),
    lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="Run store for run ids."),
    group: Optional[str] = typer.Option(None, "--group", help="Compare configurations, not runs: "
                                        "a regular expression searched in each run's NAME as the "
                                        "table shows it (a file's name with its extension, e.g. "
                                        "healthy-s0.csv; a stored run's name; FILE#k for the k-th "
                                        "run of a file holding several). The text its first capture "
                                        "group matches names the configuration; the runs that share "
                                        r"it are its seeds. Example: --group '(.*)-s\d+'. Adds the "
                                        "seeds and validation size a pair would need."),
) -> None:
    """Which differences between runs are real: ranked table, pairwise tests, Holm correction."""
    with user_errors():
        check_lang(lang)
        from ..diagnosis.comparison import compare
        from ..diagnosis.configs import compare_configs
        from ..report.comparison import document_for, render_for, write_comparison

        inputs, histories = compare_inputs(items, store, fmt, metric, val_size)
        if len(inputs) < 2:
            raise UsageError(f"compare needs two or more runs; got {len(inputs)}.")
        result = compare_configs(inputs, group) if group is not None else compare(inputs, val_size=val_size)
        if out:
            written = write_comparison(result, histories, out, lang,
                                       diagnoses={i.name: i.diagnosis for i in inputs})
            if not as_json:
                err_console.print(f"report: {written['html']}", highlight=False)
        if as_json:
            typer.echo(json.dumps(document_for(result), indent=2, ensure_ascii=False))
        else:
            render_for(result, out_console, lang)


def report_cmd(store: str = typer.Option(DEFAULT_STORE, "--store", help="The run store to list."),
               out: str = typer.Option(..., "--out", help="Folder for index.html and each run's report."),
               lang: str = typer.Option("en", "--lang", help="Report language: en or zh.")) -> None:
    """An index page of every stored run (status, verdict, best with its interval), each linked
    to its own interactive report."""
    with user_errors():
        check_lang(lang)
        from ..report.index import write_store_index
        out_console.print(f"report: {write_store_index(store, out, lang)}", highlight=False, soft_wrap=True)
