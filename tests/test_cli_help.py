"""Every `lgcaa` command, sub-command and flag explains itself: the whole parser is walked."""

from __future__ import annotations

import argparse
import subprocess
import sys

from lgcaa.cli import COMMANDS, PLUMBING, build_parser


def _walk(parser: argparse.ArgumentParser, path: str):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")


def test_every_command_has_a_description_and_every_flag_help():
    parser = build_parser([], full=True)
    problems, seen = [], 0
    for path, p in _walk(parser, "lgcaa"):
        seen += 1
        if not (p.description or "").strip():
            problems.append(f"{path}: no description")
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS or not action.help.strip():
                problems.append(f"{path}: {'/'.join(action.option_strings) or action.dest} has no help")
    assert seen > len(COMMANDS) + len(PLUMBING)  # nested sub-commands were walked too
    assert not problems, "\n".join(problems)


def test_version_names_the_commit():
    out = subprocess.run([sys.executable, "-m", "lgcaa", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("lgcaa ") and "git " in out.stdout and "Python 3." in out.stdout


def test_plumbing_is_listed_apart_from_user_commands():
    text = build_parser([]).format_help()
    user, plumbing = text.split("plumbing (called by the Snakemake DAG")
    assert "mlflow-sync" not in user and "mlflow-sync" in plumbing
    assert all(name in user for name in COMMANDS)
