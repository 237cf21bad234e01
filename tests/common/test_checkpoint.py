import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

from nnscratch.common.checkpoint import (
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    metadata_differences,
    pack_state,
    read_checkpoint,
    save_checkpoint,
    unpack_state,
    write_checkpoint,
)
from nnscratch.common.seed import manual_seed
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.optim import SGD, Adam, Lookahead
from nnscratch.vectorized.schedules import CosineAnnealingLR
from tests.checkpoint_support import assert_same_state


def nested_state():
    return {
        "model": {
            "0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
            "0.bias": np.zeros(2),
            "1.num_batches_tracked": np.array(7, dtype=np.int64),  # 0-d: must stay 0-d
        },
        "optimizer": {"lr": 0.1, "step": 3, "state": [{"momentum": np.ones(3)}, {"momentum": None}]},
        "trainer": {"epoch": 2, "history": [{"loss": 1.5}, {"loss": 0.9}], "done": False, "name": "lenet"},
        "rng": {"bit_generator": "PCG64", "state": {"state": 2**100 + 7, "inc": 12345}},
    }


def test_nested_state_round_trips_exactly_with_metadata(tmp_path):
    path = write_checkpoint(tmp_path / "run.npz", nested_state(), {"architecture": "lenet", "options": {"width": 2}})
    loaded = read_checkpoint(path)
    assert_same_state(loaded.state, nested_state())
    assert loaded.metadata["architecture"] == "lenet" and loaded.metadata["options"] == {"width": 2}
    assert loaded.metadata["format_version"] == FORMAT_VERSION and "nnscratch_version" in loaded.metadata
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"], "no temporary file left behind"


def test_pack_and_unpack_are_inverse_and_refuse_arbitrary_objects():
    skeleton, arrays = pack_state(nested_state())
    assert set(arrays) == {
        "model/0.weight",
        "model/0.bias",
        "model/1.num_batches_tracked",
        "optimizer/state/0/momentum",
    }
    assert_same_state(unpack_state(skeleton, arrays), nested_state())
    with pytest.raises(CheckpointError, match=r"'trainer/callback': cannot store a function without pickle"):
        pack_state({"trainer": {"callback": lambda: None}})


def test_a_failed_write_keeps_the_previous_checkpoint_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = write_checkpoint(tmp_path / "run.npz", {"step": 1})

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        write_checkpoint(path, {"step": 2})
    assert read_checkpoint(path).state == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from nnscratch.common.checkpoint import write_checkpoint
    path = sys.argv[1]
    step = 0
    while True:
        step += 1
        # big enough that a kill often lands in the middle of writing
        write_checkpoint(path, {"step": step, "weights": np.full(300_000, step, dtype=np.float64)})
        print(step, flush=True)
    """
)


def test_sigkill_while_writing_never_leaves_an_unreadable_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    rng = np.random.default_rng(0)
    kills = 0
    for _ in range(12):
        process = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, env=env)
        process.stdout.readline()  # at least one complete checkpoint exists now
        time.sleep(rng.uniform(0.0, 0.15))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        kills += 1
        loaded = read_checkpoint(path)
        step = loaded.state["step"]
        assert step >= 1 and (loaded.state["weights"] == step).all(), "a complete state, never a mix"
    assert kills == 12
    # a kill between mkstemp and os.replace leaves a hidden temporary; the next good write removes it
    write_checkpoint(path, {"step": -1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz", "writer.py"]


class Exploit:
    """Unpickling this would create a file: the test proves that never happens."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickled_object_inside_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    np.savez(
        path,
        __metadata__=np.frombuffer(b'{"format_version": 1}', dtype=np.uint8),
        __state__=np.frombuffer(b'{"x": {"__array__": "x"}}', dtype=np.uint8),
        **{"arrays/x": np.array([Exploit(str(marker))], dtype=object)},
    )
    with pytest.raises(CheckpointError, match=r"object array that only pickle could load; refused"):
        read_checkpoint(path)
    assert not marker.exists(), "nothing from the file was executed"


def test_missing_truncated_corrupt_foreign_and_newer_files_are_explained(tmp_path):
    with pytest.raises(CheckpointError, match=r"no such checkpoint file"):
        read_checkpoint(tmp_path / "absent.npz")

    good = write_checkpoint(tmp_path / "good.npz", {"w": np.random.default_rng(0).standard_normal(5000)})
    data = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.npz: not a checkpoint \(not an \.npz archive; \d+ bytes"):
        read_checkpoint(truncated)

    corrupt = tmp_path / "corrupt.npz"
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("arrays/w.npy")
    flipped = bytearray(data)
    flipped[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # inside the array's bytes
    corrupt.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match=r"corrupt\.npz: corrupt or truncated checkpoint \(Bad CRC-32"):
        read_checkpoint(corrupt)

    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    with pytest.raises(CheckpointError, match=r"an \.npz archive but not an nnscratch checkpoint"):
        read_checkpoint(foreign)

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match=r"notes\.txt: not a checkpoint"):
        read_checkpoint(text)

    newer = write_checkpoint(tmp_path / "newer.npz", {"w": 1}, {"format_version": FORMAT_VERSION + 1})
    with pytest.raises(CheckpointError, match=rf"format version {FORMAT_VERSION + 1} is newer than this nnscratch"):
        read_checkpoint(newer)


def test_a_checkpoint_gets_the_permissions_of_any_new_file(tmp_path):
    previous = os.umask(0o027)
    try:
        path = write_checkpoint(tmp_path / "run.npz", {"step": 1})
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o640


# ----------------------------------------------------------------------------- save_checkpoint / load_checkpoint

METADATA = {"architecture": {"name": "mlp", "hidden_sizes": [8]}, "dataset": {"name": "sample"}}


def small_run(seed=0, hidden=8, batchnorm=True, dropout=0.2):
    """A model with every kind of state (weights, BatchNorm buffers, a dropout stream), Lookahead(Adam), cosine."""
    manual_seed(seed)
    model = build_mlp(12, [hidden], 3, dropout=dropout, batchnorm=batchnorm)
    optimizer = Lookahead(Adam(model.parameters(), lr=1e-2), k=2)
    return model, optimizer, CosineAnnealingLR(optimizer, T_max=5, warmup_epochs=1)


def train_steps(model, optimizer, steps, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        logits = model.forward(rng.standard_normal((6, 12)).astype(np.float32))
        optimizer.zero_grad()
        model.backward(np.ones_like(logits) / 6)
        optimizer.step()


def copies(state):
    return {name: np.array(value) for name, value in state.items()}


def test_save_and_load_restore_every_part_and_the_same_predictions(tmp_path):
    model, optimizer, schedule = small_run(seed=0)
    train_steps(model, optimizer, 3)
    schedule.step()
    path = save_checkpoint(tmp_path / "run.npz", model, optimizer, schedule, {"epoch": 1, "rng": [1, 2]}, METADATA)
    x_test = np.random.default_rng(1).standard_normal((20, 12)).astype(np.float32)
    expected_logits = model.eval().forward(x_test)
    model.train()

    other, other_optimizer, other_schedule = small_run(seed=5)  # other weights, fresh moments, epoch 0
    checkpoint = load_checkpoint(path, other, other_optimizer, other_schedule, expected=METADATA)
    assert checkpoint.epoch == 1 and checkpoint.state["trainer"] == {"epoch": 1, "rng": [1, 2]}
    for name, array in model.state_dict().items():
        saved = other.state_dict()[name]
        assert saved.dtype == array.dtype and saved.shape == array.shape and np.array_equal(saved, array), name
    assert other.extra_state_dict() == model.extra_state_dict()
    assert other_optimizer.step_count == 3 and other_schedule.epoch == 1 and other_optimizer.lr == optimizer.lr
    np.testing.assert_array_equal(other.eval().forward(x_test), expected_logits)

    other.train()
    train_steps(model, optimizer, 2, seed=9)  # dropout masks, Adam moments and Lookahead's slow weights all continue
    train_steps(other, other_optimizer, 2, seed=9)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], array, err_msg=name)


def test_different_metadata_is_refused_naming_each_difference(tmp_path):
    model, optimizer, schedule = small_run()
    path = save_checkpoint(tmp_path / "run.npz", model, metadata=METADATA)
    expected = {"architecture": {"name": "mlp", "hidden_sizes": [16]}, "dataset": {"name": "mnist"}, "lr": 0.1}
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path, model, expected=expected)
    assert str(error.value) == (
        f"{path}: saved with a different architecture or options: architecture.hidden_sizes is [8] in the "
        "checkpoint, [16] now; dataset.name is 'sample' in the checkpoint, 'mnist' now; lr is not recorded in "
        "the checkpoint (0.1 now)"
    )
    assert metadata_differences({"sizes": [1, 2]}, {"sizes": (1, 2)}) == [], "compared as JSON: a tuple is a list"


def test_misshaped_missing_and_unexpected_arrays_are_named_with_their_shapes(tmp_path):
    model, _, _ = small_run(hidden=8)
    path = save_checkpoint(tmp_path / "run.npz", model)
    wider, _, _ = small_run(hidden=16)
    with pytest.raises(
        CheckpointError,
        match=r"run\.npz: cannot load its model state: Sequential\.load_state_dict: "
        r"mis-shaped: 0\.weight: expected \(16, 12\), got \(8, 12\); 0\.bias: expected \(16,\)",
    ):
        load_checkpoint(path, wider)
    plain, _, _ = small_run(batchnorm=False, dropout=0.0)  # Linear ReLU Linear: no BatchNorm at 1, last Linear at 2
    with pytest.raises(CheckpointError, match=r"missing keys: \['2\.weight', '2\.bias'\] \| unexpected keys: "):
        load_checkpoint(path, plain)
    path = save_checkpoint(tmp_path / "plain.npz", plain)
    with pytest.raises(
        CheckpointError,
        match=r"missing keys: \['1\.weight', '1\.bias', '4\.weight', '4\.bias', '1\.running_mean', '1\.running_var', "
        r"'1\.num_batches_tracked'\] \| unexpected keys: \['2\.weight', '2\.bias'\]",
    ):
        load_checkpoint(path, model)


def test_a_part_that_does_not_fit_leaves_every_object_as_it_was(tmp_path):
    model, optimizer, schedule = small_run(seed=0)
    train_steps(model, optimizer, 2)
    path = save_checkpoint(tmp_path / "run.npz", model, optimizer, schedule)
    other, _, _ = small_run(seed=3)
    train_steps(other, SGD(other.parameters(), lr=0.1), 1)  # a dropout stream under way, too
    weights, streams = copies(other.state_dict()), other.extra_state_dict()
    with pytest.raises(CheckpointError, match=r"cannot load its optimizer state: .*the state is for 'Lookahead', not"):
        load_checkpoint(path, other, SGD(other.parameters(), lr=0.1))
    for name, array in other.state_dict().items():
        np.testing.assert_array_equal(array, weights[name], err_msg=f"{name} was changed by a failed load")
    assert other.extra_state_dict() == streams


def test_a_part_the_file_lacks_is_named(tmp_path):
    model, optimizer, schedule = small_run()
    path = save_checkpoint(tmp_path / "weights.npz", model)
    with pytest.raises(
        CheckpointError,
        match=r"weights\.npz: holds no optimizer and no schedule state \(it holds: "
        r"model, model_extra\)",
    ):
        load_checkpoint(path, model, optimizer, schedule)
    truncated = write_checkpoint(tmp_path / "cut.npz", {"model": model.state_dict(), "model_extra": {}, "trainer": {}})
    with pytest.raises(CheckpointError, match=r"cannot load its model_extra state: .*missing keys: \['3'\]"):
        load_checkpoint(truncated, model)


def test_an_incomplete_part_names_the_missing_entry_and_is_rolled_back(tmp_path):
    model, optimizer, _ = small_run()
    state = {"model": model.state_dict(), "model_extra": model.extra_state_dict(), "optimizer": optimizer.state_dict()}
    state["optimizer"] = {**state["optimizer"], "base": {**state["optimizer"]["base"], "lr": 0.5}}
    del state["optimizer"]["base"]["step"]  # the base optimizer sets lr, then reads the missing step
    path = write_checkpoint(tmp_path / "run.npz", state)
    with pytest.raises(
        CheckpointError, match=r"run\.npz: cannot load its optimizer state: the entry 'step' is missing"
    ):
        load_checkpoint(path, model, optimizer)
    assert optimizer.lr == 1e-2 and optimizer.base.step_count == 0
