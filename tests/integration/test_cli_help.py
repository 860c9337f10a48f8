"""The admin's first hour (issue 30), the parser's side: a typo in a subcommand's flag is
answered with that subcommand's usage, `--help` gives each flag's default, the exit codes
are listed once (in `syncpurge --help`), and help never splits a path, an ARN or a run id
across lines, and fits 100 columns off a terminal.

Help is rendered by the CLI itself, in a subprocess (stdout a pipe, as in a log or CI)."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_INVALID, build_parser, main
from syncpurge.cli.parsing import EXIT_CODES, HELP_WIDTH, HelpFormatter

pytestmark = pytest.mark.integration

SYNCPURGE = Path(sys.executable).parent / "syncpurge"
# A token a person copies: an s3:// path, an ARN, a hyphenated name or flag, a run id.
TOKEN = re.compile(r"s3://\S+|arn:\S+|\S+-\S+|\S+/\S+")


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under `parser`, by the words that reach it (the top level first)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


PARSERS = dict(commands(build_parser()))
SUBCOMMANDS = sorted(path for path in PARSERS if path)
LEAVES = [
    path
    for path in SUBCOMMANDS
    if not any(isinstance(a, argparse._SubParsersAction) for a in PARSERS[path]._actions)
]


def help_of(path: tuple[str, ...], columns: int) -> str:
    done = subprocess.run(
        [str(SYNCPURGE), *path, "--help"],
        env={**os.environ, "COLUMNS": str(columns)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def expanded_helps(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Each flag's help as --help shows it (its default filled in), and the description."""
    formatter = parser._get_formatter()
    assert isinstance(formatter, HelpFormatter)
    if parser.description:
        yield parser.description
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            yield formatter._expand_help(action)


# ------------------------------------------------------------------ a typo's usage


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_a_typo_in_a_subcommands_flag_prints_that_subcommands_usage(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--no-such-flag", "x"])

    err = capsys.readouterr().err
    assert exited.value.code == EXIT_INVALID
    assert err.startswith(f"usage: syncpurge {' '.join(path)} "), err
    assert f"syncpurge {' '.join(path)}: error: unrecognized arguments: --no-such-flag" in err
    assert "Traceback" not in err


def test_a_near_miss_names_the_flag_meant_in_a_subprocess() -> None:
    done = subprocess.run(
        [str(SYNCPURGE), "reconcile", "--sourc-bucket", "a", "--target-bucket", "b"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == EXIT_INVALID
    assert done.stderr.startswith("usage: syncpurge reconcile "), done.stderr
    assert "(did you mean --source-bucket?)" in done.stderr
    assert "{reconcile,start" not in done.stderr  # not the top level's usage
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------ defaults, exit codes


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_help_gives_each_flags_default(path: tuple[str, ...]) -> None:
    """Every optional flag that takes a value says what happens without it; a switch's
    default is off and a required flag has none."""
    parser = PARSERS[path]
    formatter = parser._get_formatter()
    assert isinstance(formatter, HelpFormatter)
    missing = [
        action.option_strings[-1]
        for action in parser._actions
        if action.option_strings
        and action.nargs != 0  # switches (store_true, --help)
        and not action.required
        and "default" not in formatter._expand_help(action)
    ]
    assert missing == [], f"syncpurge {' '.join(path)}: no default in --help for {missing}"


def test_the_show_flags_default_is_its_value() -> None:
    text = " ".join(help_of(("reconcile",), 100).split())
    assert "then the command that applies its plan (default: 20)" in text
    demo = " ".join(help_of(("demo",), 100).split())
    assert "(default: syncpurge-demo-reports)" in demo


def test_the_exit_codes_are_listed_once_in_the_top_level_help() -> None:
    top = help_of((), 100)
    assert EXIT_CODES in top
    for path in SUBCOMMANDS:
        shown = help_of(path, 100)
        assert "GUARD_TRIPPED" not in shown, path
        assert "130" not in shown, path
        assert shown.rstrip().endswith("exit codes: see syncpurge --help"), path


# ------------------------------------------------------------------ tokens and width


@pytest.mark.parametrize("columns", [100, 200, 60])
@pytest.mark.parametrize("path", [(), *SUBCOMMANDS], ids=lambda p: " ".join(p) or "syncpurge")
def test_help_fits_100_columns_and_never_splits_a_token(
    path: tuple[str, ...], columns: int
) -> None:
    shown = help_of(path, columns)
    lines = shown.splitlines()

    # (narrower than 100, a token longer than the line is given a line of its own, whole)
    too_wide = [line for line in lines if len(line) > HELP_WIDTH]
    assert too_wide == [], f"COLUMNS={columns}: lines over 100 columns:\n" + "\n".join(too_wide)
    for text in expanded_helps(PARSERS[path]):
        for found in TOKEN.findall(text):
            token = found.rstrip(".,;:)'")
            assert any(token in line for line in lines), (
                f"COLUMNS={columns}: {token!r} is split across lines in "
                f"`syncpurge {' '.join(path)} --help`:\n{shown}"
            )
