"""The commands of the command line, one module per group: diagnose.py (diagnose, compare,
report), train.py (train, schedule, lr-find, sweep), runs.py (runs list/show/export), watch.py,
demo.py; common.py holds what they share (the consoles, the error handler). Each only parses,
calls the library and renders; ``fitdoctor.cli`` registers them on the Typer app."""
