"""One run skeleton for the three training commands: ``train``, ``mlp`` and ``scalar``.

Every training command does the same things in the same order; only the model, the trainer and
a few flags differ. ``TrainingRun.run`` is that order, written once:

    1. check    every flag, every output path and the memory the model needs   (exit 2, nothing done)
    2. resume   read the --resume checkpoint and compare its flags              (exit 2, no data read)
    3. data     load the dataset; check it against the flags (--val-split)      (exit 2)
    4. build    the model, optimizer, schedule and trainer; restore --resume    (exit 2)
    5. train    fit under --save/--save-every, Ctrl-C, SIGTERM, divergence      (exit 1, 130, 143)
    6. report   test accuracy, plots

Under ``mpiexec -n K`` (K > 1, or with --distributed) every process runs these steps: each
checks the same flags, reads the same data and resumes the same checkpoint, and the trainer
shares the training out (``vectorized/data_parallel.py``). Only rank 0 prints, writes
checkpoints and reports; a failure on any rank, caught or not, ends every rank with a line
naming the rank (``World.stop_all_on_error``), so that none is left waiting for it.

A command subclasses ``TrainingRun`` and fills in ``problems`` (its own flag combinations),
``record`` (what its checkpoints record), ``build`` and ``describe``. Everything that can be
checked without training is checked before step 5, so a typo costs a second, not an hour.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from typing import Any

from . import arguments, output
from .checkpoints import checkpoint_problems, fit_with_checkpoints, resume_run
from .errors import fail
from .paths import output_file_problem, output_folder_problem


def _gibibytes(nbytes: float) -> str:
    return f"{nbytes / 2**30:,.1f} GiB"


class TrainingRun:
    """The skeleton of ``nnscratch train|mlp|scalar`` (see the module docstring)."""

    command = ""  # the subcommand's name, for messages and the interrupted-run file
    data_parallel = True  # whether several processes can train it (under mpiexec)
    bytes_per_parameter = 28  # what training holds per parameter: see ``memory_problem``

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.model: Any = None
        self.optimizer: Any = None
        self.schedule: Any = None
        self.trainer: Any = None
        self.watcher: Any = None  # the --watch watcher, once built
        self.x_train: Any = None
        self.y_train: Any = None
        self.x_test: Any = None
        self.metadata: dict = {}  # what the checkpoints record: the architecture and the training options
        self.plan = ""  # the line ``describe`` printed before training
        self.tensorboard: Any = None  # the --tensorboard log (``vectorized.tensorboard.TensorBoardLog``)
        self.world: Any = None  # the processes training together (``common.distributed.World``)

    # ------------------------------------------------------------------ what each command fills in

    def problems(self) -> list[str]:
        """What is wrong with this command's own flags (each alone passed its argparse type)."""
        return []

    def num_parameters_planned(self) -> int | None:
        """The number of parameters the flags ask for, known before building (None: not known)."""
        return None

    def record(self) -> dict:
        """The checkpoint metadata the flags determine (architecture and training options)."""
        raise NotImplementedError

    def build(self, dataset: Any, record: dict) -> None:
        """Set model, optimizer, schedule, trainer and the arrays; add the data's sizes to ``record``."""
        raise NotImplementedError

    def describe(self, dataset: Any) -> str:
        """The line printed before training: the model, the recipe, the data."""
        raise NotImplementedError

    def fit(self) -> None:
        args = self.args
        self.trainer.fit(
            self.x_train,
            self.y_train,
            args.epochs,
            args.batch_size,
            val_split=args.val_split,
            early_stopping=args.early_stopping,
        )

    def report(self, dataset: Any) -> None:
        """After training: the test results and the plots, with --watch the health table and warnings,
        then the HTML report and TensorBoard's images."""
        predicted = output.finish_run(self.trainer, self.x_test, dataset, self.args.plots, self.title)
        if self.watcher is not None:
            from .health import format_health

            print(format_health(self.watcher))
        self.write_outputs(dataset, predicted)

    def start_watching(self) -> Any:
        """With --watch [K], a watcher of the built model and optimizer (for the trainer); else None."""
        every = getattr(self.args, "watch", None)
        if every is not None:
            from ..vectorized.watch import watch

            self.watcher = watch(self.model, self.optimizer, every)
        return self.watcher

    def write_outputs(self, dataset: Any, predicted: Any) -> None:
        """--report's page and --tensorboard's last events (the confusion matrix, the first filters, what
        --watch saw), for the test predictions (N,)."""
        if getattr(self.args, "report", None):
            from .report import write_report

            print(f"report: {write_report(self, dataset, predicted)}")
        if self.tensorboard is not None:
            from .tensorboard import finish_tensorboard

            finish_tensorboard(self, dataset, predicted)

    @property
    def title(self) -> str:
        return self.command

    def print_epoch(self, _trainer: Any, entry: dict) -> None:
        """The trainers' epoch callback: one line per epoch (``output.print_epoch``)."""
        output.print_epoch(entry, self.args.epochs)

    # ------------------------------------------------------------------ the skeleton

    def run(self) -> int:
        """``run_steps`` in this process, or in every process of an MPI run; the exit code."""
        from ..common.distributed import world

        try:
            self.world = world(True if getattr(self.args, "distributed", False) else None)
        except RuntimeError as error:  # --distributed without mpi4py
            return fail(self.command, str(error))
        if self.world.size == 1:
            return self.run_steps()
        with self.world.stop_all_on_error(), open(os.devnull, "w") as nowhere:
            with contextlib.nullcontext() if self.world.is_root else contextlib.redirect_stdout(nowhere):
                code = self.run_steps()
            if code:  # said on stderr already; the other ranks may be waiting for this one
                self.world.abort(f"nnscratch {self.command} stopped with exit status {code}", code)
        return code

    def run_steps(self) -> int:
        """Check, resume, load, build, train, report; the exit code (see the module docstring)."""
        from ..common.checkpoint import load_checkpoint
        from ..common.seed import manual_seed

        args = self.args
        manual_seed(args.seed)  # first: the model may be built while its flags are checked
        problems = self.common_problems() or self.problems()
        for problem in problems:  # every problem at once: the user fixes them in one go
            fail(self.command, problem)
        if problems:
            return 2
        record = self.record()
        resumed = load_checkpoint(args.resume, expected=record) if args.resume else None
        if not self.use_device():
            return 2
        dataset = arguments.load_data(args)
        problem = arguments.split_problem(args, dataset.y_train[: self.train_limit])
        if problem:
            return fail(self.command, problem)
        self.build(dataset, record)
        if not resume_run(resumed, record, dataset, self.parts, args, self.command):
            return 2
        self.plan = self.describe(dataset) + self.processes_note()
        print(self.plan)
        args.run_started = True  # from here on an error is a failure of the run (exit 1), not bad input
        self.metadata = {**record, "epochs": args.epochs}
        if self.world.is_root:
            self.open_tensorboard()
        try:
            code = fit_with_checkpoints(
                self.trainer, self.fit, args, self.metadata, self.command, self.run_name, self.world.is_root
            )
            if code is not None:
                return code
            if self.world.is_root:
                self.report(dataset)
        finally:
            if self.tensorboard is not None:
                self.tensorboard.close()  # what was logged stays readable, even after a failed run
        return 0

    def open_tensorboard(self) -> None:
        """With --tensorboard DIR: a TensorBoardLog there, called by the trainer after every epoch."""
        if getattr(self.args, "tensorboard", None):
            from ..vectorized.tensorboard import TensorBoardLog

            self.tensorboard = TensorBoardLog(self.args.tensorboard)
            self.trainer.callbacks.append(self.tensorboard)

    def use_device(self) -> bool:
        """Switch to the --device asked for; False (said on stderr) when it cannot be had."""
        return arguments.use_requested_device(self.args.device, self.command)

    @property
    def parts(self) -> tuple:
        """What a checkpoint restores: (model, optimizer, schedule, trainer)."""
        return (self.model, self.optimizer, self.schedule, self.trainer)

    @property
    def train_limit(self) -> int | None:
        """How many training images the run uses (None: all)."""
        return None

    @property
    def run_name(self) -> str:
        """Names the interrupted-run file when there is no --save: the command and its model."""
        return self.command

    def common_problems(self) -> list[str]:
        """The checks every training command shares: flag combinations, output paths, memory."""
        args = self.args
        problems = arguments.training_problems(args) + checkpoint_problems(args)
        if args.save is not None:
            problems.append(output_file_problem("--save", args.save))
        for flag in ("plots", "report", "tensorboard"):
            if getattr(args, flag, None) is not None:
                problems.append(output_folder_problem(f"--{flag}", getattr(args, flag)))
        if getattr(args, "tensorboard", None) is not None:
            problems.append(arguments.tensorboard_problem())
        problems.append(self.memory_problem(self.num_parameters_planned()))
        problems.append(self.processes_problem())
        return [problem for problem in problems if problem]

    def processes_note(self) -> str:
        """What the plan line adds for a run of several processes: how they share each batch."""
        processes = self.world.size
        if processes == 1:
            return ""
        statistics = ", BatchNorm statistics over the global batch" if self.args.sync_bn else ""
        return f"; {processes} processes of {self.args.batch_size // processes} samples per batch{statistics}"

    def processes_problem(self) -> str | None:
        """Why this run cannot be shared by the processes mpiexec started (None: it can, or there is one)."""
        from ..common.distributed import batch_share_problem

        processes = self.world.size
        if processes == 1:
            return None
        if not self.data_parallel:
            return f"nnscratch {self.command} trains in one process: run it without mpiexec -n {processes}"
        return batch_share_problem("--batch-size", self.args.batch_size, processes)

    def memory_problem(self, num_parameters: int | None) -> str | None:
        """Why a model of ``num_parameters`` cannot be trained in the memory this machine has free.

        Training keeps, per parameter, the weight and its gradient, the optimizer's moments (two
        for Adam) and the copy of both that the checkpointing keeps: about ``bytes_per_parameter``
        bytes. Activations come on top, so this refuses only what can never fit.
        """
        from ..common.memory import available_memory

        available = available_memory()
        if num_parameters is None or available is None:
            return None
        needed = num_parameters * self.bytes_per_parameter
        if needed <= available:
            return None
        return (
            f"the model has {num_parameters:,} parameters: training it needs about {_gibibytes(needed)} of memory, "
            f"and {_gibibytes(available)} is available"
        )


def layer_sizes_parameters(sizes: list[int]) -> int:
    """The parameter count of fully connected layers of these widths (input first): weights and biases."""
    return sum(math.prod(pair) + pair[1] for pair in zip(sizes[:-1], sizes[1:], strict=True))
