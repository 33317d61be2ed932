"""One module per `news-search` subcommand; each exposes `register(subparsers)`."""

import argparse


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
                             "with native bf16, same results to three decimals), onnxruntime, or auto (torch-bf16 "
                             "where the CPU has native bf16, else torch; default)")
