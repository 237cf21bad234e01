"""The image-to-image models (autoencoder, tiny_unet), U-Net's skip and the trainer that fits them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnscratch.common.datasets import load_dataset, normalize_images
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import (
    ARCHITECTURES,
    IMAGE_TO_IMAGE,
    ImageClassifier,
    build,
    build_image_to_image,
    options_of,
)
from nnscratch.convolutional.modules import Conv2D, ReLU
from nnscratch.convolutional.reconstruction_trainer import ReconstructionTrainer
from nnscratch.convolutional.segmentation import foreground_mask, mask_scores
from nnscratch.convolutional.skip import ConcatSkip
from nnscratch.interop.torch import from_torch, to_torch
from nnscratch.vectorized.losses import BCEWithLogitsLoss
from nnscratch.vectorized.optim import Adam
from tests.support import assert_close


@pytest.mark.parametrize("name", IMAGE_TO_IMAGE)
@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 32)])
def test_every_image_to_image_model_returns_one_output_pixel_per_input_pixel(name, channels, size):
    model = build_image_to_image(name, in_channels=channels, image_size=size)
    x = np.random.default_rng(0).random((2, channels, size, size)).astype(np.float32)
    y = model.forward(x)
    assert y.shape == (2, channels if name == "autoencoder" else 1, size, size)
    assert y.dtype == np.float32
    assert model.architecture == {
        "name": name,
        "in_channels": channels,
        "image_size": size,
        "options": options_of(name),
    }


def test_the_autoencoder_squeezes_28x28_pixels_into_a_code_of_half_as_many_numbers():
    model = build_image_to_image("autoencoder")
    code = np.zeros((1, 1, 28, 28), dtype=np.float32)
    for layer in model.layers[:4]:  # the encoder
        code = layer.forward(code)
    assert code.shape == (1, 8, 7, 7) and code.size == 28 * 28 // 2
    reconstruction = model.forward(np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32))
    assert ((reconstruction > 0) & (reconstruction < 1)).all()  # the sigmoid's range: pixels, like the input's


def test_the_image_to_image_models_stay_out_of_the_classifier_registry():
    assert not set(IMAGE_TO_IMAGE) & set(ARCHITECTURES)
    assert all(isinstance(build(name), ImageClassifier) for name in ("lenet", "baseline"))
    with pytest.raises(ValueError, match="^unknown architecture 'autoencoder'; choose one of: baseline, lenet"):
        build("autoencoder")


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("autoencoder", {"image_size": 30}, "image_size must be a multiple of 4, got 30"),
        ("tiny_unet", {"image_size": 27}, "image_size must be even, got 27"),
        ("tiny_unet", {"depth": 2}, r"build_image_to_image\('tiny_unet'\): unknown option\(s\) \['depth'\]"),
        ("autoencoder", {"width": 1.5}, "option width must be an integer, got 1.5"),
        ("unet", {}, "unknown architecture 'unet'; choose one of: autoencoder, tiny_unet"),
    ],
)
def test_impossible_builds_are_refused_with_a_message_naming_the_problem(name, options, message):
    with pytest.raises(ValueError, match=message):
        build_image_to_image(name, **options)


@pytest.mark.parametrize("name", IMAGE_TO_IMAGE)
def test_forward_and_every_gradient_match_the_pytorch_twin_in_float64(name):
    manual_seed(3)
    model = build_image_to_image(name).to(np.float64)
    model.layers[0].needs_input_grad = True  # compare dL/dx too
    twin = to_torch(model)
    rng = np.random.default_rng(1)
    x, grad_y = rng.random((3, 1, 28, 28)), rng.standard_normal((3, 1, 28, 28))
    x_torch = torch.from_numpy(x).requires_grad_()
    y_torch = twin(x_torch)
    y_torch.backward(torch.from_numpy(grad_y))
    assert_close(model.forward(x), y_torch, rtol=1e-9, atol=1e-12, name=f"{name} forward")
    model.zero_grad()
    assert_close(model.backward(grad_y), x_torch.grad, rtol=1e-9, atol=1e-12, name=f"{name} dL/dx")
    twin_parameters = dict(twin.named_parameters())
    for parameter_name, parameter in model.named_parameters():
        assert_close(parameter.grad, twin_parameters[parameter_name].grad, rtol=1e-9, atol=1e-12, name=parameter_name)


@pytest.mark.parametrize("name", IMAGE_TO_IMAGE)
def test_the_twin_converts_back_to_the_same_model(name):
    model = build_image_to_image(name).to(np.float64)
    back = from_torch(to_torch(model))
    x = np.random.default_rng(2).random((2, 1, 28, 28))
    assert sorted(back.state_dict()) == sorted(model.state_dict())
    assert_close(back.forward(x), model.forward(x), rtol=1e-12, atol=1e-14, name=name)


def test_concat_skip_refuses_an_inner_network_that_changes_the_image_size():
    skip = ConcatSkip(2, Conv2D(2, 2, 3))  # no padding: 6x6 -> 4x4
    with pytest.raises(ValueError, match=r"ConcatSkip\(channels=2\): the inner network must keep the height and"):
        skip.forward(np.zeros((1, 2, 6, 6)))


@pytest.mark.parametrize("channels", [0, 2.0, True])
def test_concat_skip_refuses_a_channel_count_that_is_not_a_positive_int(channels):
    with pytest.raises(ValueError, match=r"^ConcatSkip: channels must be a positive integer, got "):
        ConcatSkip(channels, ReLU())


def test_concat_skip_hands_the_skipped_channels_their_gradient_unchanged():
    skip = ConcatSkip(2, ReLU())
    x = np.array([-1.0, 2.0]).reshape(1, 2, 1, 1)
    skip.forward(x)
    grad = skip.backward(np.arange(1.0, 5.0).reshape(1, 4, 1, 1))  # dL/dy: 1, 2 (skip), 3, 4 (through ReLU)
    np.testing.assert_array_equal(grad.ravel(), [1.0, 2.0 + 4.0])


@pytest.fixture(scope="module")
def sample_images():
    """300 training and 100 test images of the bundled sample, pixels in [0, 1]."""
    dataset = load_dataset("sample")
    scale = normalize_images
    return scale(dataset.x_train[:300], [0.0], [1.0]), scale(dataset.x_test[:100], [0.0], [1.0])


def test_a_short_run_lowers_the_autoencoders_reconstruction_error(sample_images):
    x, x_test = sample_images
    manual_seed(0)
    model = build_image_to_image("autoencoder")
    trainer = ReconstructionTrainer(model, Adam(model.parameters(), lr=3e-3), quiet=True)
    before, _ = trainer.evaluate(x_test, x_test)
    history = trainer.fit(x, x, epochs=3, batch_size=32)
    after, pixel_accuracy = trainer.evaluate(x_test, x_test)
    assert history[-1]["loss"] < history[0]["loss"] and after < 0.6 * before
    assert 0.5 < pixel_accuracy <= 1.0
    assert trainer.predict(x_test[:5]).shape == (5, 1, 28, 28)


def test_a_short_run_teaches_the_unet_the_foreground_masks(sample_images):
    x, x_test = sample_images
    masks, test_masks = foreground_mask(x), foreground_mask(x_test)
    manual_seed(0)
    model = build_image_to_image("tiny_unet")
    optimizer = Adam(model.parameters(), lr=3e-3)
    trainer = ReconstructionTrainer(model, optimizer, BCEWithLogitsLoss(), quiet=True, output_threshold=0.0)
    trainer.fit(x, masks, epochs=3, batch_size=32, val_split=0.2)
    scores = mask_scores(trainer.predict(x_test), test_masks)
    assert scores["pixel_accuracy"] == pytest.approx(trainer.evaluate(x_test, test_masks)[1])
    assert scores["pixel_accuracy"] > 0.85 and scores["iou"] > 0.7
    assert len(trainer.history) == 3 and trainer.history[-1]["val_loss"] < trainer.history[0]["val_loss"]


def test_mask_scores_count_every_pixel_and_ignore_the_background_in_the_iou():
    logits = np.array([1.0, 1.0, -1.0, -1.0]).reshape(1, 1, 2, 2)  # predicted: 1 1 0 0
    masks = np.array([1.0, 0.0, 0.0, 0.0]).reshape(1, 1, 2, 2)
    assert mask_scores(logits, masks) == {"pixel_accuracy": 0.75, "iou": 0.5}


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        (np.zeros((10,), dtype=np.int64), r"y must hold one target image \(N, C', H, W\) per image of x"),
        (np.zeros((9, 1, 28, 28), np.float32), r"x has shape \(10, 1, 28, 28\), y has shape \(9, 1, 28, 28\)"),
        (np.zeros((10, 2, 28, 28), np.float32), r"outputs of shape \(1, 28, 28\) per image, and the targets have"),
    ],
)
def test_targets_that_do_not_fit_the_images_or_the_model_are_refused_before_training(targets, message):
    model = build_image_to_image("autoencoder")
    trainer = ReconstructionTrainer(model, Adam(model.parameters()), quiet=True)
    with pytest.raises(ValueError, match=message):
        trainer.fit(np.zeros((10, 1, 28, 28), np.float32), targets, epochs=1, batch_size=4)
    assert trainer.epoch == 0
