"""``nnscratch exercises``: write the stubs, check the learner's work, train a model of it.

    nnscratch exercises start DIR [--force] [--solutions]
    nnscratch exercises check DIR [NAME ...]       exit 0 when every exercise asked for is done, else 1
    nnscratch exercises train DIR [--model auto|mlp|lenet] [--epochs N] [--dataset NAME]

One parser for the three actions (so ``--help`` and the CLI reference list every flag); a flag
given to an action it does not belong to is refused. Bad input (no DIR, an unknown NAME, files
that would be overwritten, a misplaced flag) is exit 2, one line.
The work is in ``nnscratch/exercises``; this module only reads the flags and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import DATASET_HELP, add_dataset_argument, positive_int, seed
from .errors import BAD_INPUT, fail

COMMAND = "exercises"


ACTIONS = {
    "start": "write the stub files into DIR (created if needed)",
    "check": "check the exercises in DIR against the library: all, or the NAMEs given",
    "train": "train an MLP, then LeNet-5, made of the classes you wrote in DIR",
}
# flags of one action only, by their dest: None (or False) unless given
ACTION_FLAGS = {"force": "start", "solutions": "start", "model": "train", "epochs": "train", "dataset": "train"}
ACTION_FLAGS |= {"data_dir": "train", "seed": "train", "quiet": "train"}
DEFAULT_EPOCHS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=list(ACTIONS), metavar="ACTION", help="; ".join(f"{k}: {v}" for k, v in ACTIONS.items())
    )
    parser.add_argument("dir", metavar="DIR", help="the folder of your exercise files")
    parser.add_argument("names", nargs="*", metavar="NAME", help="check: exercises by name or number (default: all)")
    parser.add_argument("--force", action="store_true", help="start: overwrite the stub files already in DIR")
    parser.add_argument(
        "--solutions", action="store_true", help="start: write the library's solutions instead (the answer key)"
    )
    parser.add_argument(
        "--model",
        choices=("auto", "mlp", "lenet"),
        help="train: auto (the default) is the MLP, then LeNet-5 once the convolution exercises are done",
    )
    parser.add_argument("--epochs", type=positive_int, help=f"train: epochs of each model (default: {DEFAULT_EPOCHS})")
    add_dataset_argument(parser, None, f"train: the dataset (default: fashion-mnist): {DATASET_HELP}")
    parser.add_argument("--data-dir", help="train: extra folder to search first (also $NNSCRATCH_DATA)")
    parser.add_argument("--seed", type=seed, help="train: seed for weights, shuffling, dropout (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="train: no progress bars")


def misplaced(args: argparse.Namespace) -> list[str]:
    """The flags and names given to an action they do not belong to."""
    problems = [
        f"--{dest.replace('_', '-')} goes with `exercises {action}`, not `exercises {args.action}`"
        for dest, action in ACTION_FLAGS.items()
        if action != args.action and getattr(args, dest) not in (None, False)
    ]
    if args.names and args.action != "check":
        problems.append(f"exercise names ({' '.join(args.names)}) go with `exercises check`, not `{args.action}`")
    return problems


def run(args: argparse.Namespace) -> int:
    problems = misplaced(args)
    for problem in problems:
        fail(COMMAND, problem)
    if problems:
        return BAD_INPUT
    return {"start": start, "check": check, "train": train}[args.action](args)


def start(args: argparse.Namespace) -> int:
    from ..exercises.catalog import EXERCISES, FILES
    from ..exercises.stubs import file_source

    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        return fail(COMMAND, f"{folder} is a file, not a folder")
    existing = [file for file in FILES if (folder / file).exists()]
    if existing and not args.force:
        return fail(COMMAND, f"{folder} already has {', '.join(existing)}: your work is kept (--force overwrites it)")
    folder.mkdir(parents=True, exist_ok=True)
    for file in FILES:
        (folder / file).write_text(file_source(file, args.solutions, str(folder)))
    kind = "the library's solutions" if args.solutions else "stubs"
    print(f"wrote {len(FILES)} files of {kind} into {folder}, {len(EXERCISES)} exercises in course order:")
    for file in FILES:
        numbers = ", ".join(f"{e.number} {e.name}" for e in EXERCISES if e.file == file)
        print(f"  {file:17} {numbers}")
    first = EXERCISES[0]
    print(
        f"next: in {folder / first.file}, write {first.targets[0]} (replace its `raise NotImplementedError`), then\n"
        f"  nnscratch exercises check {folder} {first.name}     one exercise\n"
        f"  nnscratch exercises check {folder}            the progress table of all {len(EXERCISES)}\n"
        f"  nnscratch exercises train {folder}            an MLP of your layers (then LeNet-5), once they are done"
    )
    return 0


def existing_folder(args: argparse.Namespace) -> Path | None:
    """DIR, when it is a folder; None after saying what is wrong (exit 2)."""
    folder = Path(args.dir)
    if not folder.is_dir():
        fail(COMMAND, f"{folder}: no such folder (`nnscratch exercises start {folder}` writes the exercises)")
        return None
    return folder


def check(args: argparse.Namespace) -> int:
    from ..exercises.catalog import select
    from ..exercises.checker import DONE, check, table

    folder = existing_folder(args)
    if folder is None:
        return BAD_INPUT
    results = check(folder, select(args.names))  # an unknown NAME: a ValueError, one line from main
    print(table(results))
    return 0 if all(result.status == DONE for result in results) else 1


def train(args: argparse.Namespace) -> int:
    from ..exercises.checker import DONE, check
    from ..exercises.learner import load
    from ..exercises.training import MODEL_TITLES, needed, replacements

    folder = existing_folder(args)
    if folder is None:
        return BAD_INPUT
    models = ["mlp", "lenet"] if args.model in (None, "auto") else [args.model]
    for model in models:
        results = check(folder, needed(model))
        missing = [result for result in results if result.status != DONE]
        if missing:
            said = ", ".join(f"{result.exercise.number} {result.exercise.name} ({result.status})" for result in missing)
            message = f"{MODEL_TITLES[model]} needs exercises {said}; `nnscratch exercises check {folder}` says why"
            if model == "lenet" and args.model in (None, "auto"):
                print(f"note: {message}")
                return 0
            return fail(COMMAND, message)
        modules = {file: load(folder / file) for file in {exercise.file for exercise in needed(model)}}
        code = train_model(args, model, replacements(needed(model), modules))
        if code:
            return code
    return 0


def train_model(args: argparse.Namespace, model: str, classes: dict) -> int:
    """``nnscratch mlp --batchnorm`` or ``nnscratch train lenet`` with the shared flags, of the learner's classes."""
    from ..exercises.training import learner_run
    from . import build_parser
    from .mlp import MLPRun
    from .train import TrainRun

    command = ["mlp", "--batchnorm"] if model == "mlp" else ["train", "lenet"]
    epochs, dataset, seed = args.epochs or DEFAULT_EPOCHS, args.dataset or "fashion-mnist", args.seed or 0
    argv = [*command, "--epochs", str(epochs), "--dataset", dataset, "--seed", str(seed)]
    argv += ["--data-dir", args.data_dir] if args.data_dir else []
    argv += ["--quiet"] if args.quiet else []
    inner = build_parser().parse_args(argv)
    inner.argv = argv
    print(f"$ nnscratch {' '.join(argv)}   (with your classes)")
    try:
        return learner_run(MLPRun if model == "mlp" else TrainRun, inner, classes).run()
    finally:  # an error after training started is a failed run (exit 1), as in the command itself
        args.run_started = getattr(inner, "run_started", False)
