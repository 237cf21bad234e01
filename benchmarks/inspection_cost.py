"""What ``--report`` and ``--tensorboard`` add to a training run, measured in one process.

    python -m benchmarks.inspection_cost                        lenet, 1 epoch on the sample, 5 rounds
    python -m benchmarks.inspection_cost --model mlp --epochs 2 --rounds 3

The same ``nnscratch`` command runs plain, with ``--report DIR``, with ``--tensorboard DIR``, and
with both, taking turns (plain, report, tensorboard, both, plain, ...: ``timing.time_interleaved``)
after one untimed round, each run writing into a fresh folder. The warm-up imports matplotlib and
tensorboardX once, so the figures are the steady cost of drawing the pictures, the saliency maps,
the page and the event files, not the first import (which a separate ``nnscratch`` process pays:
about a second more on 2 cores). Printed: each variant's median seconds per run, its min-max
range, and the median's ratio to the plain run's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from collections.abc import Callable, Sequence

from benchmarks.machine import measured_run
from benchmarks.timing import PAUSE, Spread, time_interleaved
from nnscratch.cli import main as nnscratch
from nnscratch.cli.arguments import non_negative_float, positive_int

COMMANDS = {
    "lenet": ["train", "lenet"],
    "baseline": ["train", "baseline"],
    "mlp": ["mlp", "--hidden-sizes", "256,128"],
}
VARIANTS = {
    "plain": (),
    "report": ("--report",),
    "tensorboard": ("--tensorboard",),
    "both": ("--report", "--tensorboard"),
}


def run_of(command: Sequence[str], flags: Sequence[str]) -> Callable[[], None]:
    """One call of ``nnscratch COMMAND``, each of ``flags`` given a fresh folder, the output swallowed."""

    def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            argv = [*command, *(part for flag in flags for part in (flag, f"{folder}/{flag.strip('-')}"))]
            with contextlib.redirect_stdout(io.StringIO()):
                code = nnscratch(argv)
            if code != 0:
                raise RuntimeError(f"nnscratch {' '.join(argv)} exited with {code}")

    return run


def table(times: dict[str, list[float]]) -> str:
    """One line per variant: median seconds per run, range, and the ratio to the plain run."""
    plain = Spread.of(times["plain"]).median
    lines = [f"{'variant':<12} {'median s':>9} {'min-max s':>13} {'ratio':>6}"]
    for name, values in times.items():
        spread = Spread.of(values)
        span = f"{spread.min:.2f}-{spread.max:.2f}"
        lines.append(f"{name:<12} {spread.median:>9.2f} {span:>13} {spread.median / plain:>6.2f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inspection_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=COMMANDS, default="lenet", help="default: %(default)s")
    parser.add_argument("--epochs", type=positive_int, default=1, help="default: %(default)s")
    parser.add_argument("--rounds", type=positive_int, default=5, help="default: %(default)s")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default: %(default)s)")
    parser.add_argument("--threads", type=positive_int, default=2, help="BLAS threads (%(default)s)")
    parser.add_argument("--pause", type=non_negative_float, default=PAUSE, help="sleep before each run (%(default)s)")
    args = parser.parse_args(argv)
    command = [*COMMANDS[args.model], "--dataset", "sample", "--epochs", str(args.epochs), "--quiet"]
    steps = {name: run_of(command, flags) for name, flags in VARIANTS.items()}
    with measured_run(args.threads) as run:
        times = time_interleaved(steps, args.rounds, warmup=args.warmup, pause=args.pause)
    print(f"nnscratch {' '.join(command)}: seconds per run, {args.rounds} interleaved rounds")
    print(table(times))
    print(f"load average before {run['load_average']['before']}, after {run['load_average']['after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
