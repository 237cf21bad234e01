"""--save, --save-every, --resume and Ctrl-C for every training command.

Training commands take ``--save PATH [--save-every N]`` and ``--resume PATH`` (with the same
flags; ``--epochs`` is the length of the whole run). Ctrl-C and SIGTERM save the last complete
epoch and print the command that resumes it; a run that diverges keeps its last good epoch
(``fit_with_checkpoints``).
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .arguments import positive_int
from .output import plural


def existing_file(text: str) -> str:
    """argparse type: the path of an existing file (a checkpoint to resume or evaluate)."""
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return text


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """--save --save-every --resume: the checkpoint flags of every training command."""
    parser.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz) here after training and on Ctrl-C")
    parser.add_argument("--save-every", type=positive_int, metavar="N", help="also write it after every N-th epoch")
    parser.add_argument(
        "--resume",
        type=existing_file,
        metavar="PATH",
        help="continue the run saved in PATH (give the same flags; --epochs is the length of the whole run)",
    )


def checkpoint_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with the combination of checkpoint flags."""
    return ["--save-every needs --save PATH"] if args.save_every and not args.save else []


def dataset_record(dataset) -> dict:
    """What a checkpoint records of the data: name, classes, image shape and the normalisation statistics."""
    return {
        "name": dataset.name,
        "classes": list(dataset.classes),
        "image_shape": list(dataset.image_shape),
        "mean": dataset.mean.tolist(),
        "std": dataset.std.tolist(),
    }


def resume_run(resumed, record: dict, dataset, parts: tuple, args: argparse.Namespace, command: str) -> bool:
    """Add the data to the run's metadata ``record`` (``dataset_record``); then, with --resume, check the
    checkpoint's metadata against it and restore ``parts`` = (model, optimizer, schedule, trainer).

    False (the reason printed) when the checkpoint does not fit; nothing is changed then.
    """
    from ..common.checkpoint import CheckpointError

    record["dataset"] = dataset_record(dataset)
    if resumed is None:
        return True
    try:
        resumed.check_metadata(record)
        resumed.restore(*parts)
    except CheckpointError as error:
        print(f"nnscratch {command}: error: {error}", file=sys.stderr)
        return False
    print(f"resuming {args.resume}: {parts[-1].epoch} of {plural(args.epochs, 'epoch')} done")
    return True


def resume_command(argv: Sequence[str], path: str | Path) -> str:
    """The command line that resumes from ``path``: ``argv`` without its --resume, plus ``--resume path``."""
    kept, skip_value = [], False
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if skip_value:
            skip_value = False
        elif len(flag) > len("--re") and "--resume".startswith(flag):  # argparse accepts --resume's prefixes
            skip_value = "=" not in arg
        else:
            kept.append(arg)
    return shlex.join(["nnscratch", *kept, "--resume", str(path)])


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a batch system's time limit) arrived: handled like Ctrl-C."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside this block SIGTERM raises ``Terminated``, so a killed run saves like an interrupted one."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: signals cannot be caught here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_path(args: argparse.Namespace, run_name: str) -> Path:
    """Where an interrupted run is saved: --save, else --resume, else a file named after the run and the
    time it was stopped, so that it never overwrites another run's (``mlp-interrupted-20261205-143000.npz``)."""
    if args.save or args.resume:
        return Path(args.save or args.resume)
    return Path(f"{run_name}-interrupted-{time.strftime('%Y%m%d-%H%M%S')}.npz")


def _keep_last_good_epoch(autosave, trainer, args: argparse.Namespace, start_epoch: int) -> None:
    """After divergence: with --save, write the state after the last good epoch there (unless it is
    on disk already), and say which checkpoint is the last good one. ``Autosave`` never keeps a
    state whose weights hold NaN or infinity, so the state it has is good by construction."""
    completed = len(trainer.history)  # the epochs finished before the failing one, resumed ones included
    if completed > autosave.epoch:
        print(f"the weights after epoch {completed} hold NaN or infinity: that state is not kept", file=sys.stderr)
    kept = (args.resume, start_epoch) if args.resume else None
    if autosave.written and autosave.written[1] == autosave.epoch:
        kept = autosave.written
    elif args.save and autosave.epoch > start_epoch:
        path = autosave.write()
        print(
            f"saved the state after epoch {autosave.epoch}, the last good one, to {path}"
            f"\nresume with:\n  {resume_command(getattr(args, 'argv', sys.argv[1:]), path)}",
            file=sys.stderr,
        )
        return
    if kept:
        print(
            f"nothing of that epoch was saved: the last good checkpoint is {kept[0]} (epoch {kept[1]})", file=sys.stderr
        )


def fit_with_checkpoints(
    trainer,
    fit: Callable[[], object],
    args: argparse.Namespace,
    metadata: dict,
    command: str,
    run_name: str,
    writes: bool = True,
):
    """Run ``fit()`` under the checkpoint flags; None when training ended normally, else the exit code.

    - ``--save PATH``: the final state is written there; ``--save-every N`` also after every
      N-th epoch of the run.
    - Ctrl-C or SIGTERM: the state after the last complete epoch (``Autosave`` keeps a copy) is
      written to ``interrupted_path`` and the command that resumes it is printed (exit 130, 143).
    - Divergence (NonFiniteLossError): nothing of the failing epoch is written; with --save, the
      last good epoch is (when --save-every has not written it already); exit 1.

    writes: False on the ranks other than 0 of a run of several processes, which write nothing
    (their trainer runs no callbacks, so --save-every writes from rank 0 only as well).
    """
    from ..common.autosave import Autosave
    from ..common.divergence import NonFiniteLossError

    start_epoch = trainer.epoch
    autosave = Autosave(args.save, metadata, args.save_every)
    try:
        autosave.record(trainer)
    except RuntimeError as error:  # a model whose state cannot be saved here (dropout on the GPU)
        if args.save:
            print(f"nnscratch {command}: error: {error}", file=sys.stderr)
            return 2
        print(f"note: Ctrl-C will not save a checkpoint: {error}", file=sys.stderr)
        autosave = None
    else:
        trainer.callbacks.append(autosave)
    try:
        with sigterm_as_interrupt():
            fit()
    except KeyboardInterrupt as interruption:
        if autosave is None:
            raise
        path = autosave.write(interrupted_path(args, run_name))
        how = "terminated" if isinstance(interruption, Terminated) else "interrupted"
        print(
            f"\n{how} during epoch {autosave.epoch + 1}: saved the state after epoch {autosave.epoch} to {path}"
            f"\nresume with:\n  {resume_command(getattr(args, 'argv', sys.argv[1:]), path)}",
            file=sys.stderr,
        )
        return 143 if isinstance(interruption, Terminated) else 130
    except NonFiniteLossError as error:
        print(f"nnscratch {command}: error: {error}", file=sys.stderr)
        if autosave is not None:
            _keep_last_good_epoch(autosave, trainer, args, start_epoch)
        return 1
    if args.save and writes:
        autosave.record(trainer)  # keeps the last finite state, should the final one hold NaN
        print(f"checkpoint: {autosave.write()} (after epoch {autosave.epoch})")
    return None
