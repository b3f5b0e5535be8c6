"""The command line: the Typer app, its --version, and the commands of fitdoctor.commands
registered on it in the order --help lists them. Each command only parses, calls the library and
renders; a FitDoctorError becomes a one-line message on stderr and exit code 2, never a
traceback (commands/common.py)."""

from __future__ import annotations

import typer

from . import __version__
from .commands import demo, diagnose, runs, train, watch

__all__ = ["app", "main"]

HELP = {"help_option_names": ["-h", "--help"]}    # subcommands inherit it from the root context
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, context_settings=HELP,
                  help="fitdoctor: read training histories and tell, with statistics, whether "
                       "and when a run over- or under-fits and what to try next.")

COMMANDS = [("diagnose", diagnose.diagnose_cmd), ("compare", diagnose.compare_cmd),
            ("report", diagnose.report_cmd), ("lr-find", train.lr_find_cmd), ("sweep", train.sweep_cmd),
            ("schedule", train.schedule_cmd), ("train", train.train_cmd), ("watch", watch.watch_cmd),
            ("demo", demo.demo_cmd)]
for _name, _command in COMMANDS:
    app.command(_name)(_command)

runs_app = typer.Typer(help="List, show and export stored runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
for _name, _command in [("list", runs.runs_list), ("show", runs.runs_show), ("export", runs.runs_export)]:
    runs_app.command(_name)(_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fitdoctor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


def main() -> None:
    app(prog_name="fitdoctor")
