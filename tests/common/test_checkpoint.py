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
    pack_state,
    read_checkpoint,
    unpack_state,
    write_checkpoint,
)


def nested_state():
    return {
        "model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "0.bias": np.zeros(2)},
        "optimizer": {"lr": 0.1, "step": 3, "state": [{"momentum": np.ones(3)}, {"momentum": None}]},
        "trainer": {"epoch": 2, "history": [{"loss": 1.5}, {"loss": 0.9}], "done": False, "name": "lenet"},
        "rng": {"bit_generator": "PCG64", "state": {"state": 2**100 + 7, "inc": 12345}},
    }


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    else:
        assert a == b and type(a) is type(b)


def test_nested_state_round_trips_exactly_with_metadata(tmp_path):
    path = write_checkpoint(tmp_path / "run.npz", nested_state(), {"architecture": "lenet", "options": {"width": 2}})
    loaded = read_checkpoint(path)
    assert_same(loaded.state, nested_state())
    assert loaded.metadata["architecture"] == "lenet" and loaded.metadata["options"] == {"width": 2}
    assert loaded.metadata["format_version"] == FORMAT_VERSION and "nnscratch_version" in loaded.metadata
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"], "no temporary file left behind"


def test_pack_and_unpack_are_inverse_and_refuse_arbitrary_objects():
    skeleton, arrays = pack_state(nested_state())
    assert set(arrays) == {"model/0.weight", "model/0.bias", "optimizer/state/0/momentum"}
    assert_same(unpack_state(skeleton, arrays), nested_state())
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
