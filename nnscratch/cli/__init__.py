"""The ``nnscratch`` command line: one small module per subcommand.

    nnscratch datasets                 what datasets are where, with checksum status   (datasets.py)
    nnscratch download NAME [--dir D]  fetch mnist / fashion-mnist / cifar10            (download.py)
    nnscratch scalar                   train the scalar network, or --trace one sample  (scalar.py)
    nnscratch mlp                      train the vectorized MLP                         (mlp.py)
    nnscratch train ARCH               train a CNN of the gallery                       (train.py)
    nnscratch reconstruct ARCH         train an image-to-image model (autoencoder ...)  (reconstruct.py)
    nnscratch summary ARCH             layers, shapes, parameters, FLOPs                (summary.py)
    nnscratch evaluate PATH            test a saved model (checkpoint or safetensors)   (evaluate.py)
    nnscratch export PATH -o F.onnx    a saved model as an ONNX graph                   (export.py)
    nnscratch lr-find ARCH             sweep the rate, plot the loss, suggest a rate    (lr_find.py)
    nnscratch gradcheck LAYER          a layer's backward against central differences   (gradcheck.py)
    nnscratch exercises ACTION DIR     write the library's pieces (start/check/train)   (exercises.py)

Each module has ``add_arguments(parser)`` (its flags) and ``run(args)`` (the work, returning the
exit code). Flags shared by the training commands are declared once in ``arguments.py``; the
checkpoint flags and Ctrl-C handling in ``checkpoints.py``; what is printed and plotted in
``output.py``; the order every training command follows (check, resume, load, build, train,
report) in ``runner.py``. Every value is checked by its argparse ``type``, and combinations,
output paths and memory before any work starts, so bad input never leaves half-done work; an
error is one line on stderr, never a traceback (``errors.py``; ``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..common.memory import keep_freed_memory
from . import (
    datasets,
    download,
    evaluate,
    exercises,
    export,
    gradcheck,
    lr_find,
    mlp,
    reconstruct,
    scalar,
    summary,
    train,
)
from .arguments import augmentation_from, training_problems
from .checkpoints import resume_command
from .errors import BAD_INPUT, REPORTED_ERRORS, RUN_FAILED, OneLineParser, add_debug_argument, debugging, fail, one_line
from .train import apply_recipe

SUBCOMMANDS = {
    "train": (train, "train a CNN architecture and report its test accuracy"),
    "reconstruct": (reconstruct, "train an autoencoder or a U-Net of the gallery and score its output images"),
    "summary": (summary, "every layer of an architecture: shapes, parameters, FLOPs, memory of a training step"),
    "datasets": (datasets, "list datasets, where they are, checksum status"),
    "download": (download, "download a dataset (the only networked command)"),
    "mlp": (mlp, "train the vectorized MLP (tier 2) and report its test accuracy"),
    "scalar": (scalar, "train the scalar network (tier 1), or --trace one sample"),
    "evaluate": (evaluate, "test a saved checkpoint, or safetensors weights (--arch): accuracy, per class, confusion"),
    "export": (export, "write a saved model as an ONNX graph (run it in ONNX Runtime)"),
    "lr-find": (lr_find, "learning-rate range test: loss against a growing rate, a suggested rate"),
    "gradcheck": (gradcheck, "check a layer's backward against central differences"),
    "exercises": (exercises, "exercises you write: start DIR, check DIR [NAME...], train DIR"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="nnscratch", description="Neural networks from scratch: scalar, vectorized and convolutional tiers."
    )
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, summary_line) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=summary_line, description=summary_line)
        module.add_arguments(sub)
        add_debug_argument(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``nnscratch`` command; its exit code. Errors are one line on stderr (see ``errors.py``):
    2 for bad input, 1 for a run that failed after it started, 130 for Ctrl-C outside training."""
    keep_freed_memory()  # NumPy's fresh arrays reuse freed memory instead of faulting in new pages
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # to print the command that resumes an interrupted run
    try:
        code = args.run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below and not at exit
        return code
    except BrokenPipeError:  # the reader stopped early (`nnscratch summary resnet18 | head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so exiting flushes nowhere, quietly
        return 141  # what a shell reports for a command stopped by SIGPIPE, as `yes | head` is
    except REPORTED_ERRORS as error:
        if debugging(args):
            raise
        return fail(args.command, one_line(error), RUN_FAILED if getattr(args, "run_started", False) else BAD_INPUT)
    except Exception as error:  # a bug in nnscratch, not in the command: say so, in one line too
        if debugging(args):
            raise
        return fail(
            args.command,
            f"internal error ({type(error).__name__}: {one_line(error)}); please report it with the output of --debug",
            RUN_FAILED,
        )
    except KeyboardInterrupt:  # outside training (which saves and says so itself): nothing to keep
        if debugging(args):
            raise
        print(f"\nnnscratch {args.command}: interrupted", file=sys.stderr)
        return 130


__all__ = [
    "SUBCOMMANDS",
    "apply_recipe",
    "augmentation_from",
    "build_parser",
    "main",
    "resume_command",
    "training_problems",
]
