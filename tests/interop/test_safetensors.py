"""Weights cross between nnscratch and PyTorch through safetensors files, for every architecture of the gallery."""

from __future__ import annotations

import numpy as np
import pytest
import safetensors.torch
import torch

from nnscratch.convolutional.architectures import ARCHITECTURES, build
from nnscratch.interop.safetensors import WeightsError, load_weights, read_metadata, save_weights
from nnscratch.interop.torch import to_torch
from tests.interop.gallery import INPUTS, images, small_model

ATOL = 1e-4  # float32 logits, max abs difference


def perturbed(twin: torch.nn.Module, seed: int) -> torch.nn.Module:
    """``twin`` with new weights and running statistics, as training in PyTorch would leave them."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in twin.parameters():
            parameter.mul_(torch.empty(parameter.shape, dtype=parameter.dtype).uniform_(0.5, 1.5, generator=generator))
        for name, buffer in twin.named_buffers():
            if name.endswith("running_mean"):
                buffer.uniform_(-0.3, 0.3, generator=generator)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 2.0, generator=generator)
    return twin


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize(("channels", "size"), INPUTS)
def test_weights_cross_to_pytorch_and_back_through_safetensors_with_the_same_logits(name, channels, size, tmp_path):
    model = small_model(name, channels, size).eval()
    x = images(channels, size)
    save_weights(model, tmp_path / "ours.safetensors")
    twin = to_torch(small_model(name, channels, size, seed=7)).eval()  # other weights, until loaded
    twin.load_state_dict(safetensors.torch.load_file(tmp_path / "ours.safetensors"))
    with torch.no_grad():
        to_pytorch = np.abs(model.forward(x) - twin(torch.from_numpy(x)).numpy()).max()

    safetensors.torch.save_file(perturbed(twin, seed=3).state_dict(), tmp_path / "theirs.safetensors")
    loaded = small_model(name, channels, size).eval()
    load_weights(loaded, tmp_path / "theirs.safetensors")
    with torch.no_grad():
        from_pytorch = np.abs(loaded.forward(x) - twin(torch.from_numpy(x)).numpy()).max()
    print(f"{name} {channels}x{size}x{size}: nnscratch->torch {to_pytorch:.1e}, torch->nnscratch {from_pytorch:.1e}")
    assert to_pytorch <= ATOL and from_pytorch <= ATOL
    logits = loaded.forward(x)
    assert not np.allclose(logits, model.forward(x))  # the weights PyTorch changed did arrive
    assert np.abs(logits - loaded[-1].bias.data).max() > 1e-3  # the features reach the logits: more than a bias


def test_save_and_load_keep_every_tensor_its_dtype_and_the_metadata(tmp_path):
    model = small_model("resnet18", 1, 28)
    path = save_weights(model, tmp_path / "resnet.safetensors", metadata={"architecture": "resnet18"})
    loaded = build("resnet18", 1, 10, 28, width=8)
    load_weights(loaded, path)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key], value, err_msg=key)
        assert loaded.state_dict()[key].dtype == value.dtype, key
    assert read_metadata(path) == {"architecture": "resnet18"}
    assert safetensors.torch.load_file(path)["1.num_batches_tracked"].dtype == torch.int64


def test_float64_weights_from_pytorch_load_into_a_float32_model(tmp_path):
    twin = to_torch(small_model("lenet", 1, 28).to(np.float64))
    safetensors.torch.save_file(twin.state_dict(), tmp_path / "f64.safetensors")
    model = build("lenet")
    load_weights(model, tmp_path / "f64.safetensors")
    assert model[0].weight.data.dtype == np.float32
    np.testing.assert_allclose(model[0].weight.data, twin[0].weight.detach().numpy(), rtol=1e-7)


def test_without_strict_the_keys_the_file_lacks_keep_their_values_and_extra_keys_are_not_read(tmp_path):
    model = build("lenet")
    state = {key: np.asarray(value) for key, value in model.state_dict().items() if key != "0.bias"}
    state["extra"] = np.zeros(3, np.float32)
    safetensors.numpy.save_file(state, tmp_path / "partial.safetensors")
    target = build("lenet")
    bias_before = target[0].bias.data.copy()
    with pytest.raises(WeightsError, match=r"missing keys: \['0.bias'\]; unexpected keys: \['extra'\]"):
        load_weights(target, tmp_path / "partial.safetensors")
    load_weights(target, tmp_path / "partial.safetensors", strict=False)
    np.testing.assert_array_equal(target[0].bias.data, bias_before)
    np.testing.assert_array_equal(target[0].weight.data, model[0].weight.data)


def test_a_refused_file_changes_no_weight(tmp_path):
    model = build("lenet")
    state = {key: np.asarray(value).copy() for key, value in model.state_dict().items()}
    state["3.weight"][0, 0, 0, 0] = np.nan
    safetensors.numpy.save_file(state, tmp_path / "nan.safetensors")
    target = build("lenet")
    before = {key: value.copy() for key, value in target.state_dict().items()}
    with pytest.raises(WeightsError, match=r"nan.safetensors: .*NaN or infinity \(3.weight\)"):
        load_weights(target, tmp_path / "nan.safetensors")
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
