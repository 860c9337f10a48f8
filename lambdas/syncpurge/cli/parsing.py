"""The argument parsers' behaviour: a mistake in a subcommand's flags is reported with that
subcommand's usage, `--help` gives each flag's default, the exit codes are listed once (in
`syncpurge --help`), and help text is wrapped between words only: a path, an ARN or a run id
is never split across lines, and the help fits 100 columns whatever the terminal."""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from syncpurge.cli.terminal import EXIT_INVALID
from syncpurge.engine import MAX_WORKERS

EXIT_CODES = """exit codes:
  0    SUCCEEDED or DRY_RUN
  1    the run failed, or an entry failed to delete
  2    invalid input or a preflight refusal (nothing was deleted)
  3    GUARD_TRIPPED (nothing was deleted; apply the reviewed plan with
       --apply-plan RUN_ID, or --force, or a larger --max-purge /
       --max-purge-fraction lets it through)
  130  stopped by Ctrl-C (the partial report and journal are written)"""
SEE_EXIT_CODES = "exit codes: see syncpurge --help"
HELP_WIDTH = 100  # the widest help gets, on a terminal or off one


def worker_count(value: str) -> int:
    """--workers: a whole number from 1 to MAX_WORKERS (the S3 clients' connection pools)."""
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if not 1 <= workers <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 1 to {MAX_WORKERS}")
    return workers


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit code is 2 too, keep it
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def wrap(text: str, width: int, indent: str = "", hang: str | None = None) -> list[str]:
    """`text` in lines of at most `width` columns, broken at spaces only: never inside a
    word, nor at a word's hyphens (s3://my-bucket/x, an ARN, ./syncpurge-reports). Lines
    after the first start with `hang` (default `indent`)."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent if hang is None else hang,
        break_long_words=False,
        break_on_hyphens=False,
    )


# "  3    GUARD_TRIPPED ...": a label, two or more spaces, its text (which wraps under itself)
LABELLED = re.compile(r"^\s*\S+\s{2,}")


class HelpFormatter(argparse.HelpFormatter):
    """Each flag's default in --help (a switch's is off), and help wrapped between words
    to at most HELP_WIDTH columns; a description or epilog keeps its own line breaks."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = min(shutil.get_terminal_size().columns, HELP_WIDTH) - 2
        super().__init__(prog, indent_increment, max_help_position, width)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(" ".join(text.split()), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        for line in text.splitlines():
            words = line.lstrip()
            lead = indent + line[: len(line) - len(words)]
            label = LABELLED.match(line)
            hang = indent + " " * label.end() if label else lead
            lines.extend(wrap(words, width, lead, hang) if words else [""])
        return "\n".join(lines)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.help == argparse.SUPPRESS or "default" in text or action.required:
            return text
        if not action.option_strings or isinstance(action, argparse._StoreTrueAction):
            return text
        if action.default not in (None, argparse.SUPPRESS):
            return f"{text} (default: %(default)s)".lstrip()
        return text


class CommandParser(ArgumentParser):
    """A subcommand's parser: flags it doesn't know are its own error (with its usage, not
    the top level's), and its --help points at the exit codes rather than repeating them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("epilog", SEE_EXIT_CODES)
        super().__init__(**kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        unknown = self._unknown_flags(sys.argv[1:] if args is None else list(args))
        if unknown:  # before argparse's own checks: a mistyped required flag is the typo
            self.error(f"unrecognized arguments: {' '.join(unknown)}{self._suggestion(unknown)}")
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._suggestion(extras)}")
        return parsed, extras

    def _unknown_flags(self, args: list[str]) -> list[str]:
        """The --flags a command without subcommands of its own doesn't know (as argparse
        reads them: a flag's unambiguous beginning is that flag)."""
        if self._subparsers is not None:
            return []  # its subcommand's parser judges what follows the subcommand
        flags = [flag for action in self._actions for flag in action.option_strings]
        unknown = []
        for arg in args:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if not name.startswith("--") or name in flags:
                continue
            if not (self.allow_abbrev and any(flag.startswith(name) for flag in flags)):
                unknown.append(arg)
        return unknown

    def _suggestion(self, extras: list[str]) -> str:
        flags = [flag for action in self._actions for flag in action.option_strings]
        for extra in extras:
            if extra.startswith("--"):
                close = difflib.get_close_matches(extra.split("=")[0], flags, n=1)
                if close:
                    return f" (did you mean {close[0]}?)"
        return ""


def top_parser(**kwargs: Any) -> ArgumentParser:
    return ArgumentParser(epilog=EXIT_CODES, formatter_class=HelpFormatter, **kwargs)
