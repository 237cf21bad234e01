"""Data-parallel training under ``mpiexec -n 2``: the same weights as one process, identical replicas,
checkpoints that resume with any number of processes, and a failing rank that stops the run.

Each test starts ``mpiexec -n 2 python -m ...`` (``tests/distributed/worker.py`` or the
``nnscratch`` command) as a subprocess with a timeout, one BLAS thread per rank, on the bundled
sample. Skipped only where mpi4py (the ``[distributed]`` extra) is not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="the [distributed] extra (mpi4py, mpich) is not installed")
pytestmark = pytest.mark.slow  # end-to-end runs on the bundled sample

REPO = Path(__file__).resolve().parents[2]
MPIEXEC = shutil.which("mpiexec", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
if MPIEXEC is None:
    pytest.skip("mpiexec is not installed (the [distributed] extra installs MPICH's)", allow_module_level=True)

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
MLP_FLAGS = ["mlp", "--dataset", "sample", "--hidden-sizes", "32", "--dropout", "0", "--schedule", "none"]
MLP_FLAGS += ["--batch-size", "64", "--quiet"]


def launch(args: list[str], processes: int, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m ARGS`` in ``processes`` processes (mpiexec for more than one)."""
    command = [sys.executable, "-m", *args]
    if processes > 1:
        command = [MPIEXEC, "-n", str(processes), *command]
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)


def train_worker(model: str, processes: int, cwd: Path) -> dict[int, dict[str, np.ndarray]]:
    """Every rank's parameters after ``worker.STEPS`` steps of ``model``, by rank."""
    result = launch(["tests.distributed.worker", model, "weights"], processes, cwd)
    assert result.returncode == 0, result.stderr
    return {rank: dict(np.load(cwd / f"weights.rank{rank}.npz")) for rank in range(processes)}


def max_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert a.keys() == b.keys()
    return max(float(np.abs(a[name] - b[name]).max()) for name in a)


@pytest.mark.parametrize("model", ["mlp", "lenet", "bn-cnn"])
def test_two_ranks_with_global_batch_b_match_one_process_with_batch_b(model, tmp_path):
    from tests.distributed.worker import build_trainer

    one = train_worker(model, 1, tmp_path)[0]
    two = train_worker(model, 2, tmp_path)
    initial = {name: parameter.data for name, parameter in build_trainer(model).model.named_parameters()}
    assert max_difference(one, initial) > 1e-2  # the 20 steps moved the weights: the comparison means something
    assert max_difference(two[0], one) <= 1e-5
    assert all(two[0][name].tobytes() == two[1][name].tobytes() for name in two[0])  # replicas bit-identical


def test_replicas_that_drift_apart_stop_the_run_naming_the_first_differing_parameter(tmp_path):
    result = launch(["tests.distributed.worker", "mlp", "weights", "--perturb"], 2, tmp_path)
    assert result.returncode != 0
    assert "ReplicasDiffer: after epoch 2, parameter '0.bias' differs between rank 0 and 1 other rank(s)" in (
        result.stderr
    )


def test_a_checkpoint_from_two_ranks_resumes_on_one_and_on_two_as_the_unbroken_run(tmp_path):
    def train(processes: int, *flags: str) -> dict[str, np.ndarray]:
        result = launch(["nnscratch", *MLP_FLAGS, *flags], processes, tmp_path)
        assert result.returncode == 0, result.stderr
        arrays = np.load(tmp_path / flags[-1])  # the --save path
        return {name: arrays[name] for name in arrays.files if name.startswith("arrays/model/")}

    unbroken = train(2, "--epochs", "3", "--save", "unbroken.npz")
    train(2, "--epochs", "2", "--save", "half.npz")
    resumed_on_two = train(2, "--epochs", "3", "--resume", "half.npz", "--save", "resumed-on-2.npz")
    resumed_on_one = train(1, "--epochs", "3", "--resume", "half.npz", "--save", "resumed-on-1.npz")
    assert all(unbroken[name].tobytes() == resumed_on_two[name].tobytes() for name in unbroken)
    assert max_difference(resumed_on_one, unbroken) <= 1e-5


def test_two_ranks_print_once_the_metrics_of_one_process(tmp_path):
    def epoch_lines(processes: int) -> list[str]:
        result = launch(["nnscratch", *MLP_FLAGS, "--epochs", "2", "--val-split", "0.1"], processes, tmp_path)
        assert result.returncode == 0, result.stderr
        # loss, accuracy and validation, without the timings
        return [line.split("  lr ")[0] for line in result.stdout.splitlines() if line.startswith("epoch ")]

    one, two = epoch_lines(1), epoch_lines(2)
    assert len(one) == 2
    assert two == one


def test_a_batch_size_the_ranks_cannot_share_is_refused_by_name(tmp_path):
    result = launch(["nnscratch", *MLP_FLAGS, "--epochs", "1", "--batch-size", "63"], 2, tmp_path)
    assert result.returncode == 2
    assert "--batch-size 63 is the global batch: it must be divisible by the 2 processes" in result.stderr


def test_a_rank_that_raises_stops_both_ranks_within_seconds_and_the_last_checkpoint_is_intact(tmp_path):
    from tests.distributed.worker import build_trainer

    args = ["tests.distributed.worker", "mlp", "weights", "--save", "last.npz", "--fail-rank", "1", "--fail-epoch", "2"]
    start = time.monotonic()
    result = launch(args, 2, tmp_path, timeout=30)
    assert time.monotonic() - start < 10
    assert result.returncode != 0
    assert "rank 1: ValueError: bad input on purpose" in result.stderr
    trainer = build_trainer("mlp")
    trainer.load_checkpoint(tmp_path / "last.npz")
    assert trainer.epoch == 1


def test_a_rank_killed_with_sigkill_ends_the_run_instead_of_hanging(tmp_path):
    command = [
        MPIEXEC,
        "-n",
        "2",
        sys.executable,
        "-m",
        "tests.distributed.worker",
        "mlp",
        "weights",
        "--sleep-rank",
        "1",
    ]
    with subprocess.Popen(
        command, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as run:
        try:
            line = run.stdout.readline()  # "rank 1 pid PID", printed as it starts to sleep
            os.kill(int(line.split()[-1]), signal.SIGKILL)
            start = time.monotonic()
            run.wait(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
    assert time.monotonic() - start < 60
    assert run.returncode != 0


def test_distributed_without_mpi4py_is_an_error_naming_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['mpi4py'] = None\n"  # what an environment without the extra sees
        "from nnscratch.cli import main\n"
        "sys.exit(main(['mlp', '--dataset', 'sample', '--epochs', '1', '--distributed']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "nnscratch mlp: error: distributed training needs mpi4py" in result.stderr
    assert "pip install 'nnscratch[distributed]'" in result.stderr
