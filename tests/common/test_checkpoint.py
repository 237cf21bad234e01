import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from nnscratch.common import checkpoint as checkpoint_module
from nnscratch.common.checkpoint import (
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    metadata_differences,
    metadata_problems,
    non_finite_entries,
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
from tests.hostile_checkpoints import (
    TIB,
    WEIGHT,
    Member,
    changed_members,
    deflate_bomb,
    drop_entry,
    member,
    members,
    metadata,
    npy,
    npy_declaring,
    set_entry,
    state,
    weight,
    write_zip,
)


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
    record = {"architecture": {"name": "lenet"}, "options": {"width": 2}}
    path = write_checkpoint(tmp_path / "run.npz", nested_state(), record)
    loaded = read_checkpoint(path)
    assert_same_state(loaded.state, nested_state())
    assert loaded.metadata["architecture"] == {"name": "lenet"} and loaded.metadata["options"] == {"width": 2}
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
    with pytest.raises(
        CheckpointError, match=r"corrupt\.npz: member 'arrays/w\.npy': corrupt or truncated \(Bad CRC-32"
    ):
        read_checkpoint(corrupt)

    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    with pytest.raises(CheckpointError, match=r"an \.npz archive but not an nnscratch checkpoint"):
        read_checkpoint(foreign)

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match=r"notes\.txt: not a checkpoint"):
        read_checkpoint(text)

    newer = tmp_path / "newer.npz"
    metadata(set_entry("format_version", FORMAT_VERSION + 1))(write_checkpoint(tmp_path / "now.npz", {"w": 1}), newer)
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

SAMPLE = {"classes": ["a", "b", "c"], "image_shape": [1, 2, 6], "mean": [0.5], "std": [0.25]}
METADATA = {"architecture": {"name": "mlp", "hidden_sizes": [8]}, "dataset": {"name": "sample", **SAMPLE}}


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
    misshaped = r"mis-shaped: 0\.weight: expected \(16, 12\), got \(8, 12\); 0\.bias: expected \(16,\)"
    with pytest.raises(CheckpointError, match=r"run\.npz: cannot load its model state: " + misshaped):
        load_checkpoint(path, wider)  # found in the arrays' headers, before their data is read
    with pytest.raises(
        CheckpointError, match=r"cannot load its model state: Sequential\.load_state_dict: " + misshaped
    ):
        read_checkpoint(path).restore(wider)  # read first, as the CLI does: the model's own check
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


# ----------------------------------------------------------------------------- hostile files


@pytest.fixture
def run_file(tmp_path):
    """A valid checkpoint of a small run (model, optimizer, schedule, trainer state), and its model."""
    model, optimizer, schedule = small_run()
    train_steps(model, optimizer, 2)
    path = save_checkpoint(tmp_path / "run.npz", model, optimizer, schedule, {"epoch": 1, "history": []}, METADATA)
    return path, model


def broken(run_file, tmp_path, build, name="broken.npz"):
    """The path of a copy of the run's checkpoint that ``build`` broke."""
    target = tmp_path / name
    build(run_file[0], target)
    return target


def refused_within(path, megabytes, match):
    """Assert that reading ``path`` is a CheckpointError matching ``match`` that allocated under ``megabytes``."""
    tracemalloc.start()  # NumPy reports its array allocations to tracemalloc
    try:
        with pytest.raises(CheckpointError, match=match):
            read_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 2**20, f"{peak / 2**20:.1f} MiB allocated to refuse it"


SIZE_LIES = {
    "header-declares-3-tib": (
        lambda valid: Member(npy_declaring((3 * TIB // 4,), "<f4", bytes(100_000))),
        r"header declares \(824633720832,\) float32 .* but the zip says it inflates to 100,128 bytes",
    ),
    "zip-declares-more-than-it-stores": (
        lambda valid: Member(valid.data, file_size=2**31),
        r"the zip declares 160 stored bytes \(2,147,483,648 inflated\)",
    ),
    "both-declare-4-gib-the-file-holds-160-bytes": (
        lambda valid: Member(npy_declaring((2**30 - 32,), "<f4"), file_size=2**32 - 1, compressed=valid.data),
        r"the zip declares 160 stored bytes \(4,294,967,295 inflated\)",
    ),
    "deflate-bomb-with-honest-sizes": (
        lambda valid: deflate_bomb(200_000),
        r"its arrays would take 201,\d+,\d+ bytes once inflated, more than the 16,777,216 allowed .*refused unread",
    ),
}


@pytest.mark.parametrize("case", SIZE_LIES)
def test_sizes_that_lie_are_refused_before_anything_is_allocated(run_file, tmp_path, case):
    make, match = SIZE_LIES[case]
    path = broken(run_file, tmp_path, member("arrays/model/0.bias.npy", make))
    refused_within(path, 2, match)  # a model of 8 hidden units: nothing of the declared size was allocated


def test_a_member_that_inflates_to_other_than_its_header_is_refused(run_file, tmp_path):
    def cut(valid):
        stream = zlib.compressobj(9, zlib.DEFLATED, -15)
        whole = stream.compress(valid.data) + stream.flush()
        return Member(valid.data, zipfile.ZIP_DEFLATED, compressed=whole[:-20])  # the last bytes are missing

    path = broken(run_file, tmp_path, member(WEIGHT, cut))
    with pytest.raises(CheckpointError, match=r"member 'arrays/model/0\.weight\.npy': corrupt or truncated"):
        read_checkpoint(path)
    grown = broken(run_file, tmp_path, member(WEIGHT, lambda valid: Member(valid.data + bytes(64))), "grown.npz")
    with pytest.raises(CheckpointError, match=r"header declares \(8, 12\) float32 \(384 bytes of data\) but the zip"):
        read_checkpoint(grown)


def test_deflated_big_endian_and_fortran_order_members_read_back_exactly(tmp_path):
    weights = np.arange(12, dtype=np.float32).reshape(3, 4)
    source = write_checkpoint(tmp_path / "plain.npz", {"model": {"w": weights}, "steps": np.arange(5)})
    parts = members(source)
    for name, part in parts.items():
        parts[name] = Member(part.data, zipfile.ZIP_DEFLATED)  # as np.savez_compressed would store it
    parts["arrays/model/w.npy"] = Member(npy(weights.astype(">f4")), zipfile.ZIP_DEFLATED)
    parts["arrays/steps.npy"] = Member(npy(np.asfortranarray(np.arange(5)[:, None] * [1, 10])))
    loaded = read_checkpoint(write_zip(tmp_path / "foreign.npz", parts)).state
    assert loaded["model"]["w"].dtype == np.float32 and np.array_equal(loaded["model"]["w"], weights)
    np.testing.assert_array_equal(loaded["steps"], np.arange(5)[:, None] * [1, 10])


def test_members_the_state_does_not_name_are_never_read(run_file, tmp_path):
    def add_hostile_members(parts):
        parts["arrays/unused/huge.npy"] = Member(npy_declaring((3 * TIB,), "<f8", bytes(100)))
        parts["arrays/unused/bomb.npy"] = deflate_bomb(200_000)
        parts["arrays/unused/pickle.npy"] = Member(npy(np.array([Exploit(str(tmp_path / "pwned"))], dtype=object)))
        parts["arrays/unused/bad-crc.npy"] = Member(npy(np.zeros(3)), crc=1)
        parts["notes.txt"] = Member(b"not an array at all")

    path = broken(run_file, tmp_path, changed_members(add_hostile_members))
    model = run_file[1]
    checkpoint = load_checkpoint(path, model)
    assert sorted(checkpoint.state) == ["model", "model_extra", "optimizer", "schedule", "trainer"]
    assert not (tmp_path / "pwned").exists()


def test_with_a_model_given_the_headers_are_compared_before_the_data_is_read(run_file, tmp_path):
    declared = npy_declaring((8, 12), "<i4", bytes(8 * 12 * 4))
    path = broken(run_file, tmp_path, member(WEIGHT, lambda valid: Member(declared)))
    model = run_file[1]
    with pytest.raises(CheckpointError, match=r"cannot load its model state: 0\.weight holds integer \(int32\) values"):
        load_checkpoint(path, model)
    with pytest.raises(CheckpointError, match=r"cannot load its model state: 0\.weight holds integer \(int32\)"):
        read_checkpoint(path).restore(model)  # the same rule when the file is read first (the CLI's way)


METADATA_PROBLEMS = {
    "not-an-object": (lambda record: [record], r"the metadata is a JSON list, expected an object"),
    "no-format-version": (drop_entry("format_version"), r"the metadata has no format_version"),
    "format-version-string": (
        set_entry("format_version", "1"),
        r"format_version must be an integer from 1 to 1, got '1'",
    ),
    "format-version-99": (set_entry("format_version", 99), r"checkpoint format version 99 is newer"),
    "format-version-zero": (set_entry("format_version", 0), r"format_version must be .* got 0"),
    "format-version-fraction": (set_entry("format_version", 1.5), r"format_version must be .* got 1\.5"),
    "format-version-bool": (set_entry("format_version", True), r"format_version must be .* got True"),
    "format-version-null": (set_entry("format_version", None), r"format_version must be .* got None"),
    "version-a-number": (set_entry("nnscratch_version", 1), r"metadata nnscratch_version must be a string, got 1"),
    "architecture-a-list": (set_entry("architecture", ["mlp"]), r"metadata architecture must be a JSON object"),
    "architecture-nameless": (drop_entry("architecture/name"), r"metadata architecture\.name is missing"),
    "architecture-name-null": (
        set_entry("architecture/name", None),
        r"metadata architecture\.name must be a string, got None",
    ),
    "dataset-nameless": (drop_entry("dataset/name"), r"metadata dataset\.name is missing"),
    "dataset-without-image-shape": (drop_entry("dataset/image_shape"), r"metadata dataset\.image_shape is missing"),
    "image-shape-a-string": (
        set_entry("dataset/image_shape", "28x28"),
        r"metadata dataset\.image_shape must be a list of posi",
    ),
    "mean-nan": (set_entry("dataset/mean", [float("nan")]), r"metadata dataset\.mean must be a list of finite numbers"),
    "std-negative": (
        set_entry("dataset/std", [-1.0]),
        r"metadata dataset\.std must be a list of positive finite numbers",
    ),
    "epochs-negative": (set_entry("epochs", -3), r"metadata epochs must be a non-negative integer, got -3"),
}


@pytest.mark.parametrize("case", METADATA_PROBLEMS)
def test_malformed_metadata_is_a_checkpoint_error_naming_the_key(run_file, tmp_path, case):
    edit, match = METADATA_PROBLEMS[case]
    with pytest.raises(CheckpointError, match=r"broken\.npz: " + match):
        read_checkpoint(broken(run_file, tmp_path, metadata(edit)))


def nested_list(depth):
    value = 0
    for _ in range(depth):
        value = [value]
    return value


STATE_PROBLEMS = {
    "not-an-object": (lambda value: [value], r"the state is a JSON list, expected an object"),
    "reference-elsewhere": (
        set_entry("model/0.bias", {"__array__": "model/0.weight"}),
        r"state 'model/0\.bias' refers to the array 'model/0\.weight', not its own",
    ),
    "reference-a-number": (set_entry("model/0.bias", {"__array__": 7}), r"state 'model/0\.bias' refers to the array 7"),
    "reference-to-nothing": (
        set_entry("extra", {"__array__": "extra"}),
        r"the array 'arrays/extra' is missing \(no member 'arrays/extra\.npy'\)",
    ),
    "optimizer-a-list": (set_entry("optimizer", []), r"state part 'optimizer' must be a JSON object"),
    "trainer-a-string": (set_entry("trainer", "done"), r"state part 'trainer' must be a JSON object"),
    "epoch-negative": (set_entry("trainer/epoch", -1), r"state trainer/epoch must be a non-negative integer, got -1"),
    "history-an-object": (set_entry("trainer/history", {}), r"state trainer/history must be a list"),
    "too-deep": (
        set_entry("trainer/history", nested_list(100)),
        r"state 'trainer/history/0/0/.* is nested deeper than 64 levels",
    ),
}


@pytest.mark.parametrize("case", STATE_PROBLEMS)
def test_a_malformed_state_is_a_checkpoint_error_naming_the_key(run_file, tmp_path, case):
    edit, match = STATE_PROBLEMS[case]
    with pytest.raises(CheckpointError, match=r"broken\.npz: " + match):
        read_checkpoint(broken(run_file, tmp_path, state(edit)))


def json_member(name, data, dtype="u1"):
    return member(f"{name}.npy", lambda valid: Member(npy(np.frombuffer(data, dtype))))


JSON_PROBLEMS = {
    "metadata-cut": (json_member("__metadata__", b'{"format_version": 1, "sav'), r"corrupt checkpoint metadata \("),
    "metadata-latin-1": (
        json_member("__metadata__", '{"é": 1}'.encode("latin-1")),
        r"corrupt checkpoint metadata \('utf-8' codec",
    ),
    "state-as-floats": (json_member("__state__", bytes(16), "<f8"), r"its state is a \(2,\) float64 array, not JSON"),
    "state-as-a-matrix": (
        member("__state__.npy", lambda valid: Member(npy(np.zeros((2, 2), np.uint8)))),
        r"its state is a \(2, 2\) uint8 array",
    ),
    "int-of-5000-digits": (
        json_member("__state__", b'{"n": 1%s}' % (b"0" * 5000)),
        r"corrupt checkpoint state \(Exceeds the limit",
    ),
    "nested-100000-deep": (json_member("__state__", b"[" * 100_000), r"its state or metadata is nested too deeply"),
}


@pytest.mark.parametrize("case", JSON_PROBLEMS)
def test_json_that_cannot_be_decoded_is_a_checkpoint_error_naming_what(run_file, tmp_path, case):
    build, match = JSON_PROBLEMS[case]
    with pytest.raises(CheckpointError, match=r"broken\.npz: " + match):
        read_checkpoint(broken(run_file, tmp_path, build))


def test_json_larger_than_the_limit_is_refused_unread(run_file, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "JSON_LIMIT", 1000)
    with pytest.raises(CheckpointError, match=r"its state takes [\d,]+ bytes, more than the 1,000 allowed"):
        read_checkpoint(run_file[0])


WEIGHT_PROBLEMS = {
    "nan": (lambda array: np.where(array > 0, np.nan, array), r"weights hold NaN or infinity \(0\.weight\)"),
    "minus-infinity": (lambda array: array - np.inf, r"weights hold NaN or infinity \(0\.weight\)"),
    "complex": (
        lambda array: array + 1j,
        r"the array 'model/0\.weight' holds complex numbers \(complex64\); a checkpoint holds real numbers only$",
    ),
    "integers": (lambda array: np.ones(array.shape, np.int64), r"0\.weight holds integer \(int64\) values, the mode"),
    "booleans": (lambda array: array > 0, r"0\.weight holds bool \(bool\) values, the model's are float"),
}


@pytest.mark.parametrize("case", WEIGHT_PROBLEMS)
def test_non_finite_complex_and_integer_weights_are_refused_by_name(run_file, tmp_path, case):
    transform, match = WEIGHT_PROBLEMS[case]
    path = broken(run_file, tmp_path, weight(transform))
    model = run_file[1]
    before = copies(model.state_dict())
    with pytest.raises(CheckpointError, match=r"broken\.npz: .*" + match):
        load_checkpoint(path, model)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_the_scalar_tiers_json_weights_are_checked_alike(tmp_path):
    from nnscratch.scalar import Network

    network = Network(3, [2], 2)
    path = save_checkpoint(tmp_path / "scalar.npz", network)
    nan_path, int_path = tmp_path / "nan.npz", tmp_path / "int.npz"
    state(set_entry("model/0.bias", [float("nan"), 0.5]))(path, nan_path)
    state(set_entry("model/0.bias", [1, 0]))(path, int_path)
    with pytest.raises(CheckpointError, match=r"nan\.npz: the model's weights hold NaN or infinity \(0\.bias\)"):
        load_checkpoint(nan_path, network)
    with pytest.raises(CheckpointError, match=r"int\.npz: cannot load its model state: 0\.bias holds integer values"):
        load_checkpoint(int_path, network)


def test_non_finite_entries_names_the_model_weights_that_hold_nan_or_infinity():
    state = nested_state()
    assert non_finite_entries(state) == []
    state["model"]["0.bias"] = np.array([0.0, np.inf])
    state["model"]["0.weight"][0, 0] = np.nan
    state["model"]["2.weight"] = [[0.5, float("-inf")], [1.0, 2.0]]  # the scalar tier's nested lists
    state["optimizer"]["state"][0]["momentum"] = np.full(3, np.nan)  # not a weight: not named
    assert non_finite_entries(state) == ["0.weight", "0.bias", "2.weight"]
    assert non_finite_entries({"trainer": {}}) == []


def test_what_could_not_be_read_again_is_not_written(tmp_path):
    model, _, _ = small_run()
    model.state_dict()["0.weight"][0, 0] = np.nan
    with pytest.raises(CheckpointError, match=r"nan\.npz: not written: the model's weights hold NaN .*\(0\.weight\)"):
        save_checkpoint(tmp_path / "nan.npz", model)
    with pytest.raises(CheckpointError, match=r"meta\.npz: not written: metadata dataset\.name must be a string"):
        write_checkpoint(tmp_path / "meta.npz", {"step": 1}, {"dataset": {"name": ["sample"], **SAMPLE}})
    with pytest.raises(CheckpointError, match=r"'a/b': two entries of the state have this name"):
        pack_state({"a/b": np.zeros(1), "a": {"b": np.ones(1)}})
    assert sorted(path.name for path in tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["folder", "fifo", "link-to-dev-zero", "dangling-link"])
def test_a_path_that_is_not_a_regular_file_is_refused_without_opening_it(tmp_path, kind):
    path = tmp_path / "run.npz"
    make = {
        "folder": path.mkdir,
        "fifo": lambda: os.mkfifo(path),  # opening it would block forever
        "link-to-dev-zero": lambda: path.symlink_to("/dev/zero"),  # reading it would never end
        "dangling-link": lambda: path.symlink_to(tmp_path / "gone.npz"),
    }
    make[kind]()
    expected = {"folder": "is a folder", "dangling-link": "no such checkpoint file"}.get(kind, "not a regular file")
    with pytest.raises(CheckpointError, match=rf"run\.npz: {expected}"):
        read_checkpoint(path)


# ----------------------------------------------------------------------------- temporaries and concurrent writers


def dead_process_id():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_the_temporaries_of_killed_writers_of_this_path_are_removed(tmp_path):
    dead, alive = dead_process_id(), os.getpid()
    kept = [
        f".run[1].npz.{alive}.abcdefgh.tmp",  # a writer that is still running (this process)
        f".run1.npz.{dead}.abcdefgh.tmp",  # what the unescaped glob ".run[1].npz.*.tmp" would match
        f".run[1].npz.{dead}.abc.tmp",  # not the writer's pattern: mkstemp adds 8 characters
        f".run[1].npz.backup.{dead}.abcdefgh.tmp",
        f".run[1].npz.{dead}.abcdefgh.tmp.keep",
        "run[1].npz.notes",
    ]
    stale = [f".run[1].npz.{dead}.abcdefgh.tmp", f".run[1].npz.{dead}.x_1y2z3w.tmp"]
    for name in kept + stale:
        (tmp_path / name).write_text("someone's file")
    write_checkpoint(tmp_path / "run[1].npz", {"step": 1})
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*kept, "run[1].npz"])


CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from nnscratch.common.checkpoint import write_checkpoint
    path, writer = sys.argv[1], int(sys.argv[2])
    for step in range(40):
        write_checkpoint(path, {"writer": writer, "step": step, "weights": np.full(50_000, step, dtype=np.float64)})
    """
)


def test_two_processes_writing_one_path_never_break_each_other(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(CONCURRENT_WRITER)
    path = tmp_path / "run.npz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [
        subprocess.Popen([sys.executable, str(script), str(path), str(writer)], env=env, stderr=subprocess.PIPE)
        for writer in (1, 2)
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors.decode()
    state = read_checkpoint(path).state
    assert state["writer"] in (1, 2) and state["step"] == 39 and (state["weights"] == 39).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz", "writer.py"], "no temporary left behind"


def test_an_option_recorded_only_by_later_versions_is_taken_at_its_old_value():
    older = {"training": {"lr": 0.1}}  # written before runs recorded their loss
    assert metadata_differences(older, {"training": {"lr": 0.1, "loss": "cross-entropy"}}) == []
    assert metadata_differences(older, {"training": {"lr": 0.1, "augment_rotate_p": None}}) == [], "an unset option"
    assert metadata_differences(older, {"training": {"lr": 0.1, "loss": "nll"}}) == [
        "training.loss is not recorded in the checkpoint ('nll' now)"
    ]


def test_a_task_record_of_the_wrong_form_is_named():
    assert metadata_problems({"format_version": 1, "task": "mask"}) == [
        "metadata task must be a JSON object, got 'mask'"
    ]
    assert metadata_problems({"format_version": 1, "task": {"loss": "mse"}}) == ["metadata task.target is missing"]
