"""One module per `news-search` subcommand; each exposes `register(subparsers)`."""

import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_runtime_option(parser: argparse.ArgumentParser) -> None:
    """`--runtime` of the pair pass (search/model/onnx_pairs.py)."""
    from search.model.config import RUNTIMES

    parser.add_argument("--runtime", choices=RUNTIMES, default="auto",
                        help="runtime of the pair pass: onnxruntime (faster on a CPU, same results), torch, or auto "
                             "(onnxruntime on a CPU when installed; default)")
