"""The PyTorch side: same weights, same optimizer settings, same schedule, same shifts, same training."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.torch_side import only_shifts, roll_each, shift_batch, torch_optimizer, torch_schedule, torch_setup
from benchmarks.workloads import build_setup, cli_settings, model_inputs
from nnscratch.common.augment import Augmentation
from nnscratch.common.datasets import load_dataset
from nnscratch.vectorized.schedules import make_schedule
from tests.support import seeds


@pytest.fixture(scope="module")
def sample():
    return load_dataset("sample")


@given(
    shape=st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6)),
    seed=seeds(),
)
def test_roll_each_rolls_every_image_by_its_own_amount_as_numpy_roll(shape, seed):
    rng = np.random.default_rng(seed)
    images = rng.standard_normal(shape).astype(np.float32)
    dy, dx = rng.integers(-7, 8, size=(2, shape[0]))
    rolled = roll_each(torch.from_numpy(images), torch.from_numpy(dy), torch.from_numpy(dx)).numpy()
    expected = np.stack([np.roll(image, (y, x), axis=(1, 2)) for image, y, x in zip(images, dy, dx, strict=True)])
    np.testing.assert_array_equal(rolled, expected)


@given(max_shift=st.integers(1, 3), seed=seeds())
def test_shifts_are_those_of_nnscratch_augmentation_for_an_equally_seeded_generator(max_shift, seed):
    images = np.random.default_rng(seed).standard_normal((9, 2, 7, 8)).astype(np.float32)
    ours = Augmentation(shift=max_shift).apply(images, np.random.default_rng([seed, 1]))
    theirs = shift_batch(torch.from_numpy(images), max_shift, np.random.default_rng([seed, 1]))
    np.testing.assert_array_equal(theirs.numpy(), ours)


def learning_rates(schedule: str, epochs: int, warmup: int):
    """(nnscratch's, torch's) learning rate of every epoch, for base lr 0.1."""
    settings = SimpleNamespace(schedule=schedule, epochs=epochs, warmup_epochs=warmup)
    holder = SimpleNamespace(lr=0.1)
    ours = make_schedule(schedule, holder, epochs, warmup)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    theirs = torch_schedule(settings, optimizer)
    ours_lrs, theirs_lrs = [], []
    for _ in range(epochs + 2):  # two past the end: the schedules must agree there too
        ours_lrs.append(holder.lr)
        theirs_lrs.append(optimizer.param_groups[0]["lr"])
        ours.step()
        optimizer.step()
        if theirs is not None:
            theirs.step()
    return ours_lrs, theirs_lrs


@given(schedule=st.sampled_from(["none", "step", "multistep", "cosine"]), epochs=st.integers(2, 20), data=st.data())
def test_torch_schedule_gives_make_schedules_learning_rates(schedule, epochs, data):
    warmup = data.draw(st.integers(0, epochs - 1)) if schedule == "cosine" else 0
    ours, theirs = learning_rates(schedule, epochs, warmup)
    np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-15)


def test_plateau_is_not_benchmarked():
    settings = SimpleNamespace(schedule="plateau", epochs=5, warmup_epochs=0)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=r"torch_schedule: the 'plateau' schedule is not benchmarked"):
        torch_schedule(settings, optimizer)


@pytest.mark.parametrize(
    ("model", "optimizer_type", "expected"),
    [
        ("baseline", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}),
        ("lenet", torch.optim.SGD, {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}),
        ("mlp", torch.optim.Adam, {"lr": 1e-3, "weight_decay": 0.0, "betas": (0.9, 0.999), "eps": 1e-8}),
        ("convnext_tiny", torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 0.05}),
    ],
)
def test_torch_optimizer_has_the_recipes_settings(model, optimizer_type, expected):
    optimizer = torch_optimizer(cli_settings(model), [torch.zeros(1, requires_grad=True)])
    assert type(optimizer) is optimizer_type
    group = optimizer.param_groups[0]
    assert {key: group[key] for key in expected} == expected


def test_torch_optimizer_refuses_lookahead():
    settings = cli_settings("lenet")
    settings.lookahead = True
    with pytest.raises(ValueError, match="torch_optimizer: torch.optim has no Lookahead"):
        torch_optimizer(settings, [torch.zeros(1, requires_grad=True)])


def test_torch_optimizer_refuses_an_unknown_optimizer():
    settings = cli_settings("lenet")
    settings.optimizer = "lion"
    with pytest.raises(ValueError, match="torch_optimizer: unknown optimizer 'lion'"):
        torch_optimizer(settings, [torch.zeros(1, requires_grad=True)])


def test_only_shifts_are_implemented_on_the_torch_side():
    assert only_shifts(Augmentation(shift=2)) == 2 and only_shifts(Augmentation.none()) == 0
    with pytest.raises(ValueError, match=r"implements random shifts only, and this recipe also uses: shift 2px, hflip"):
        only_shifts(Augmentation(shift=2, hflip=True))


def test_the_scalar_network_has_no_twin(sample):
    setup = build_setup("scalar", cli_settings("scalar", "sample"), sample)
    with pytest.raises(ValueError, match="torch_setup: the scalar network is benchmarked on its own"):
        torch_setup(setup)


def test_the_twin_starts_from_the_same_float32_weights_and_buffers(sample):
    setup = build_setup("baseline", cli_settings("baseline", "sample"), sample)
    twin = torch_setup(setup)
    theirs = twin.model.state_dict()
    for name, value in setup.model.state_dict().items():
        if theirs[name].is_floating_point():
            assert theirs[name].dtype == torch.float32
        np.testing.assert_array_equal(theirs[name].numpy(), value, err_msg=name)
    assert twin.max_shift == 2 and twin.batch_size == 64


# three batches (momentum and Adam's moments carry over between steps), small: PyTorch's float64
# convolutions on the CPU take the slow path
SAMPLES, BATCH_SIZE = 48, 16


def train_one_epoch_both(sample, model, options, dtype):
    settings = cli_settings(model, "sample")
    vars(settings).update(options, batch_size=BATCH_SIZE)
    setup = build_setup(model, settings, sample, dtype)
    twin = torch_setup(setup)
    x, y = model_inputs(model, sample, sample.x_train[:SAMPLES]).astype(dtype), sample.y_train[:SAMPLES]
    ours = setup.train_epoch(x, y)
    theirs = twin.train_epoch(torch.from_numpy(x), torch.from_numpy(y))
    return setup, twin, ours, theirs


WITHOUT_DROPOUT = pytest.mark.parametrize(
    ("model", "options"),
    [("mlp", {"dropout": 0.0}), ("baseline", {"option": [("width", 4), ("dropout", 0.0)]})],
    ids=["mlp-adam", "baseline-sgd-batchnorm-shifts"],
)


@WITHOUT_DROPOUT
def test_without_dropout_both_sides_train_the_same_epoch_in_float64(sample, model, options):
    """Same batches, shifts, optimizer and initial weights: in float64 the epoch's loss and the final
    weights and running statistics agree to rounding, so the two sides run the same recipe."""
    setup, twin, ours, theirs = train_one_epoch_both(sample, model, options, np.float64)
    np.testing.assert_allclose(theirs, ours, rtol=1e-10)
    final = twin.model.state_dict()
    for name, value in setup.model.state_dict().items():
        assert final[name].dtype in (torch.float64, torch.int64)
        np.testing.assert_allclose(final[name].numpy(), value, rtol=1e-8, atol=1e-10, err_msg=name)


@WITHOUT_DROPOUT
def test_without_dropout_both_sides_train_the_same_epoch_in_float32(sample, model, options):
    """The benchmarks' float32: the epoch's mean loss agrees closely. (The weights drift further apart
    than float32 rounding, from max-pooling ties broken differently when PyTorch's convolutions round
    equal patches unequally; the float64 test above shows the arithmetic is the same.)"""
    _, twin, ours, theirs = train_one_epoch_both(sample, model, options, np.float32)
    assert next(twin.model.parameters()).dtype == torch.float32
    np.testing.assert_allclose(theirs[0], ours[0], rtol=1e-4)
    assert abs(theirs[1] - ours[1]) <= 2 / SAMPLES
