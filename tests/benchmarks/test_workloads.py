"""The nnscratch side: each model set up as its command sets it up."""

import numpy as np
import pytest

from benchmarks.workloads import build_setup, check_settings, cli_settings, model_inputs
from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.recipes import RECIPES


@pytest.fixture(scope="module")
def sample():
    return load_dataset("sample")


@pytest.mark.parametrize("model", ["lenet", "baseline", "resnet18"])
def test_gallery_settings_are_the_recipes(model):
    settings, recipe = cli_settings(model), RECIPES[model]
    for name in ("epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "schedule"):
        assert getattr(settings, name) == getattr(recipe, name), name
    assert settings.augment_shift == recipe.augment_shift and settings.val_split == 0.1 and settings.seed == 0


def test_mlp_and_scalar_settings_are_their_commands_defaults():
    mlp = cli_settings("mlp")
    assert (mlp.hidden_sizes, mlp.optimizer, mlp.lr, mlp.schedule, mlp.batch_size) == (
        [256, 128],
        "adam",
        1e-3,
        "cosine",
        64,
    )
    scalar = cli_settings("scalar")
    assert (scalar.hidden_sizes, scalar.optimizer, scalar.lr, scalar.batch_size) == ([32], "sgd", 0.01, 32)


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown architecture 'resnet50'; choose one of: baseline, lenet"):
        cli_settings("resnet50")


def test_settings_the_command_would_refuse_are_refused(sample):
    settings = cli_settings("baseline", "sample")
    settings.schedule, settings.warmup_epochs, settings.epochs = "cosine", 3, 2
    with pytest.raises(ValueError, match=r"baseline: --warmup-epochs \(3\) must be smaller than --epochs \(2\)"):
        check_settings("baseline", settings)
    with pytest.raises(ValueError, match=r"--warmup-epochs \(3\)"):
        build_setup("baseline", settings, sample)


def test_inputs_are_normalised_float32_images_or_rows(sample):
    images = sample.x_train[:3]
    assert model_inputs("lenet", sample, images).shape == (3, 1, 28, 28)
    rows = model_inputs("mlp", sample, images)
    assert rows.shape == (3, 784) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows, sample.normalize(images).reshape(3, -1))


def test_initial_weights_are_those_of_the_command(sample):
    setup = build_setup("lenet", cli_settings("lenet", "sample"), sample)
    manual_seed(0)  # `nnscratch train lenet` resets the root seed to --seed, then builds
    expected = build("lenet", 1, 10, 28).state_dict()
    for name, value in setup.model.state_dict().items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
    assert setup.augmentation.shift == 0 and setup.schedule.milestones == [7, 11]


@pytest.mark.parametrize("model", ["mlp", "scalar"])
def test_a_setup_trains_an_epoch_slice_and_predicts(sample, model):
    setup = build_setup(model, cli_settings(model, "sample"), sample)
    x, y = model_inputs(model, sample, sample.x_train[:40]), sample.y_train[:40]
    loss, accuracy = setup.train_epoch(x, y)
    assert loss > 0 and 0 <= accuracy <= 1
    assert len(setup.predict(x)) == 40
