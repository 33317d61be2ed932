"""One module per `news-search` subcommand; each exposes `register(subparsers)`. Also what both CLIs share."""

import argparse
import difflib
import os
import sys
from typing import NoReturn, Sequence

EXIT_BROKEN_PIPE = 141  # what a shell reports for a command stopped by SIGPIPE (128 + 13)


def reader_gone() -> int:
    """The reader of our output went away (`news-search query ... | head -1`): stop quietly, as Unix tools do,
    with stdout pointed at /dev/null so the interpreter's last flush cannot raise again (the recipe in Python's
    `signal` documentation). Returns the exit code."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, saying which option a mistyped one was meant to be (`unrecognized arguments: --form;
    did you mean --from?`), for the subcommand the user called. Every refusal is one line and exit code 2, like
    the commands' own range checks (argparse would print its usage block first), and a flag must be spelled
    out: argparse would take `--rerank-dept` for `--rerank-depth`, and a later flag could change what a
    script's abbreviation means."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """Exit 2 with `prog: error: message` and where the usage is, on one line."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        args = sys.argv[1:] if args is None else list(args)
        parsed, extras = self.parse_known_args(args, namespace)
        parser = self._command_parser(parsed)
        if extras:
            options = sorted(o for o in parser._option_string_actions if o.startswith("--"))
            hints = [f"{x}: did you mean {meant}?" for x in extras if x.startswith("-")
                     for meant in [_meant(x.split("=")[0], options)] if meant not in (None, x.split("=")[0])]
            parser.error(f"unrecognized arguments: {' '.join(extras)}" + ("; " + "; ".join(hints) if hints else ""))
        flags = args[:args.index("--")] if "--" in args else args  # after "--" every word is a value
        given = [a.split("=")[0] for a in flags if a.startswith("--")]
        for option in dict.fromkeys(given):
            action = parser._option_string_actions.get(option)
            # a value given twice is refused, as the API refuses a parameter given twice; lists (append) may repeat
            if given.count(option) > 1 and isinstance(action, argparse._StoreAction):
                parser.error(f"{option} is given {given.count(option)} times: give it once")
        return parsed

    def _command_parser(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The subcommand's parser when the parser has subcommands and one was given, else this one."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = getattr(parsed, action.dest or "", None)
                if chosen in action.choices:
                    return action.choices[chosen]
        return self


def _meant(typed: str, options: list[str]) -> str | None:
    """The option a mistyped one was meant to be: one it begins (`--pair` for `--pair-window`), else the closest."""
    started = [o for o in options if o.startswith(typed)]
    close = started or difflib.get_close_matches(typed, options, n=1, cutoff=0.5)
    return close[0] if close else None


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_runtime_option(parser: argparse.ArgumentParser) -> None:
    """`--runtime` of the pair pass (search/model/runtime.py)."""
    from search.model.config import RUNTIMES

    parser.add_argument("--runtime", choices=RUNTIMES, default="auto",
                        help="runtime of the pair pass: torch (float32), torch-bf16 (bf16 autocast, faster on CPUs "
                             "with native bf16, same results to three decimals), torch-int8 (smoothed int8 on a "
                             "CPU, about 15%% less time per search than float32, see docs/speed.md), onnxruntime, "
                             "or auto (torch-bf16 where the CPU has native bf16, else torch-int8 where the "
                             "checkpoint has its scales, else torch; default)")


def add_rerank_options(parser: argparse.ArgumentParser, default: str) -> None:
    """`--rerank-depth`, `--rerank-margin` and `--pair-window`: the speed / quality trade-off of the pair pass
    (docs/speed.md); `default` says what applies when a flag is left out. The ranges are the API's
    (`search.pipeline.LIMITS`)."""
    from search.pipeline import LIMITS  # here, not at the top: `train` parses its flags without the search stack

    parser.add_argument("--rerank-depth", type=int, metavar="N",
                        help=f"fused candidates the pair pass considers (rerank and answer; it reads each "
                             f"article's best of them, best two when second_passage_weight > 0), 0-{LIMITS.max_k}; "
                             f"fewer is faster (default: {default})")
    parser.add_argument("--rerank-margin", type=float, metavar="M",
                        help=f"the pair pass reads a candidate only if its fused score (0-1) is at most M below the "
                             f"first candidate's: 0-1, 1 reads every one down to the rerank depth; smaller is "
                             f"faster (default: {default})")
    parser.add_argument("--pair-window", type=int, metavar="PIECES",
                        help=f"word pieces of each passage the pair pass reads: 0 (whole) or "
                             f"{LIMITS.min_pair_window}-{LIMITS.max_pair_window}; smaller is faster "
                             f"(default: {default})")
