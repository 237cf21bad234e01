"""ONNX export: every layer and every gallery architecture, run in ONNX Runtime, gives nnscratch's eval-mode output."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime
import pytest

from nnscratch.cli import main
from nnscratch.common.checkpoint import read_checkpoint
from nnscratch.common.datasets import load_dataset, normalize_images
from nnscratch.convolutional.architectures import ARCHITECTURES, IMAGE_TO_IMAGE, build, build_image_to_image
from nnscratch.convolutional.blocks import ConvNeXtBlock, MBConvBlock, ResidualBlock
from nnscratch.convolutional.conv_transpose import ConvTranspose2D
from nnscratch.convolutional.modules import (
    GELU,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    GroupNorm,
    Identity,
    LayerNorm2D,
    LeakyReLU,
    LogSoftmax,
    MaxPool2D,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    SqueezeExcite,
    Tanh,
)
from nnscratch.convolutional.recipes import RECIPES
from nnscratch.convolutional.skip import ConcatSkip
from nnscratch.interop import onnx as interop_onnx
from nnscratch.vectorized.batchnorm import BatchNorm1D
from nnscratch.vectorized.layernorm import LayerNorm
from nnscratch.vectorized.module import Module
from nnscratch.vectorized.modules import Linear
from tests.interop.gallery import INPUTS, max_difference, onnx_checked_model, randomize

TOLERANCE = 1e-4  # max abs difference of float32 logits, as the issue asks
IMAGE = (4, 6, 6)  # one sample; every layer runs at batch 1 and 7
BATCHES = (1, 7)
LAYERS = [
    (Conv2D(4, 3, 3, stride=2, padding=1, seed=0), IMAGE),
    (Conv2D(4, 3, (1, 3), bias=False, seed=0), IMAGE),
    (Conv2D(4, 3, 3, padding=2, dilation=2, seed=0), IMAGE),
    (Conv2D(4, 6, 3, padding=1, groups=2, seed=0), IMAGE),
    (DepthwiseConv2D(4, 3, stride=2, padding=1, seed=0), IMAGE),
    (ConvTranspose2D(4, 3, 3, stride=2, padding=1, output_padding=1, seed=0), IMAGE),
    (ConvTranspose2D(4, 3, (2, 3), padding=(0, 1), dilation=2, bias=False, seed=0), IMAGE),
    (ConvTranspose2D(4, 6, 3, stride=2, groups=2, seed=0), IMAGE),
    (Linear(5, 3, seed=0), (5,)),
    (Linear(5, 3, bias=False, seed=0), (5,)),
    (BatchNorm1D(5), (5,)),
    (BatchNorm2D(4, eps=1e-3), IMAGE),
    (LayerNorm2D(4), IMAGE),
    (GroupNorm(2, 4), IMAGE),
    (LayerNorm(5, eps=1e-3), (5,)),
    (MaxPool2D(3, stride=2, padding=1), IMAGE),
    (AvgPool2D(3, stride=2, padding=1), IMAGE),
    (GlobalAvgPool2D(), IMAGE),
    (GlobalAvgPool2D(keepdims=True), IMAGE),
    (SqueezeExcite(4, 2), IMAGE),
    (ConcatSkip(4, Sequential(Conv2D(4, 2, 3, padding=1, seed=0), ReLU())), IMAGE),
    (ResidualBlock(4, 8, stride=2), IMAGE),
    (ResidualBlock(4, 4), IMAGE),
    (MBConvBlock(4, 4, 3, expand_ratio=2, use_se=True), IMAGE),
    (MBConvBlock(4, 6, 3, stride=2, expand_ratio=1, activation="relu6"), IMAGE),
    (ConvNeXtBlock(4, kernel_size=3), IMAGE),
    (ConvNeXtBlock(4, kernel_size=3, layer_scale_init=None), IMAGE),
    (Sequential(Flatten(), Dropout(0.3), Identity(), Linear(144, 2, seed=1)), IMAGE),
    (Sequential(ReLU(), ReLU6(), LeakyReLU(0.2), Tanh(), Sigmoid(), SiLU(), Softmax(axis=1)), IMAGE),
    (Sequential(GELU(), GELU("tanh")), IMAGE),
    (LogSoftmax(axis=1), IMAGE),
    (LogSoftmax(), (5,)),
]


def onnx_runtime(proto) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the machine is shared; one thread is plenty for these sizes
    return onnxruntime.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(("layer", "input_shape"), LAYERS, ids=lambda value: type(value).__name__)
def test_every_layer_computes_in_onnx_runtime_what_it_computes_in_eval_mode(layer, input_shape):
    randomize(layer, seed=0).eval()
    session = onnx_runtime(interop_onnx.onnx_model(layer, input_shape))
    for batch in BATCHES:
        x = np.random.default_rng(batch).standard_normal((batch, *input_shape)).astype(np.float32)
        assert max_difference(layer, session, x) <= 1e-5, f"{layer!r} at batch {batch}"


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize(("channels", "size"), INPUTS)
def test_every_architecture_gives_the_same_logits_in_onnx_runtime_at_any_batch_size(name, channels, size):
    model = onnx_checked_model(name, channels, size)
    session = onnx_runtime(interop_onnx.onnx_model(model))
    for batch in (1, 7, RECIPES[name].batch_size):
        x = np.random.default_rng(batch).standard_normal((batch, channels, size, size)).astype(np.float32)
        assert max_difference(model, session, x) <= TOLERANCE, f"{name} at batch {batch}"


@pytest.mark.parametrize("name", IMAGE_TO_IMAGE)
@pytest.mark.parametrize(("channels", "size"), INPUTS)
def test_every_image_to_image_model_gives_the_same_images_in_onnx_runtime(name, channels, size):
    model = randomize(build_image_to_image(name, channels, size), seed=2).eval()
    session = onnx_runtime(interop_onnx.onnx_model(model))
    for batch in BATCHES:
        x = np.random.default_rng(batch).uniform(0, 1, (batch, channels, size, size)).astype(np.float32)
        assert max_difference(model, session, x) <= TOLERANCE, f"{name} at batch {batch}"


def test_the_file_passes_the_full_check_with_a_dynamic_batch_and_the_state_dict_names(tmp_path):
    model = build("resnet18", 1, 10, 28, width=8)
    proto = interop_onnx.export_onnx(model, tmp_path / "resnet.onnx")
    loaded = onnx.load(tmp_path / "resnet.onnx")
    onnx.checker.check_model(loaded, full_check=True)
    assert [(opset.domain, opset.version) for opset in loaded.opset_import] == [("", interop_onnx.OPSET)]
    (graph_input,), (graph_output,) = loaded.graph.input, loaded.graph.output
    input_dims = [dim.dim_param or dim.dim_value for dim in graph_input.type.tensor_type.shape.dim]
    output_dims = [dim.dim_param or dim.dim_value for dim in graph_output.type.tensor_type.shape.dim]
    assert input_dims == ["N", 1, 28, 28] and output_dims == ["N", 10]
    initializers = {tensor.name for tensor in proto.graph.initializer}
    saved = {name for name in model.state_dict() if not name.endswith("num_batches_tracked")}
    assert saved <= initializers and "4.conv1.weight" in initializers and "4.bn1.running_var" in initializers


def test_export_uses_eval_mode_and_leaves_each_module_in_the_mode_it_was_in():
    model = build("baseline", 1, 10, 28)
    model.train()
    model[1].eval()  # one BatchNorm already in eval mode
    session = onnx_runtime(interop_onnx.onnx_model(model))
    assert [module.training for module in model.modules()].count(False) == 1 and not model[1].training
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    model.eval()  # dropout off, running statistics: what the graph computes
    assert max_difference(model, session, x) <= TOLERANCE


class Doubling(Module):
    def forward(self, x):
        return 2 * x


def test_a_layer_without_an_onnx_form_is_refused_by_class_and_path():
    with pytest.raises(ValueError, match=r"^export_onnx: Doubling \(at '1\.0' in the model\) has no ONNX form"):
        interop_onnx.onnx_model(Sequential(Linear(2, 2), Sequential(Doubling())), (2,))
    with pytest.raises(ValueError, match=r"^export_onnx: Doubling \(the model itself\) has no ONNX form"):
        interop_onnx.onnx_model(Doubling(), (2,))


def test_an_input_shape_is_needed_when_the_model_records_none():
    mlp = Sequential(Linear(4, 2))
    with pytest.raises(ValueError, match=r"Sequential does not record its input shape; give input_shape"):
        interop_onnx.onnx_model(mlp)
    with pytest.raises(ValueError, match=r"input_shape must be positive sizes without the batch axis, got \(0,\)"):
        interop_onnx.onnx_model(mlp, (0,))


def test_the_export_command_writes_a_trained_checkpoint_that_onnx_runtime_runs_alike(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "lenet", "--dataset", "sample", "--epochs", "1", "--quiet", "--save", "run.npz"]) == 0
    capsys.readouterr()
    assert main(["export", "run.npz", "-o", "lenet.onnx"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lenet.onnx: lenet as ONNX (opset 17), input 'input' (N, 1, 28, 28) -> 'output' logits\n")
    checkpoint = read_checkpoint("run.npz")
    trained_on = checkpoint.metadata["dataset"]
    model = build("lenet", 1, 10, 28)
    checkpoint.restore(model)
    proto = onnx.load("lenet.onnx")
    properties = {entry.key: entry.value for entry in proto.metadata_props}
    assert json.loads(properties["normalize_mean"]) == trained_on["mean"]
    images = normalize_images(load_dataset("sample").x_test[:50], trained_on["mean"], trained_on["std"])
    assert max_difference(model.eval(), onnx_runtime(proto), images) <= TOLERANCE


def test_a_reconstruct_checkpoint_exports_to_a_file_that_onnx_runtime_runs_alike(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flags = ["--dataset", "sample", "--epochs", "1", "--quiet", "--save", "ae.npz"]
    assert main(["reconstruct", "autoencoder", *flags]) == 0
    capsys.readouterr()
    assert main(["export", "ae.npz", "-o", "ae.onnx"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ae.onnx: autoencoder as ONNX (opset 17), input 'input' (N, 1, 28, 28) -> 'output' images\n")
    model = build_image_to_image("autoencoder", 1, 28)
    read_checkpoint("ae.npz").restore(model)
    proto = onnx.load("ae.onnx")
    properties = {entry.key: entry.value for entry in proto.metadata_props}
    mean, std = (json.loads(properties[key]) for key in ("normalize_mean", "normalize_std"))
    assert mean == [0.0] and std == [1.0]  # the autoencoder reads pixels in [0, 1], not standardised
    pixels = normalize_images(load_dataset("sample").x_test[: max(BATCHES)], mean, std)
    for batch in BATCHES:
        assert max_difference(model.eval(), onnx_runtime(proto), pixels[:batch]) <= TOLERANCE


def test_the_export_command_refuses_what_it_cannot_write(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["mlp", "--dataset", "sample", "--epochs", "1", "--quiet", "--save", "run.npz"]) == 0
    capsys.readouterr()
    assert main(["export", "run.npz", "-o", "notes.txt"]) == 2
    assert "nnscratch export: error: --output: notes.txt: name the file *.onnx" in capsys.readouterr().err
    assert main(["export", "run.npz", "-o", "missing/model.onnx"]) == 2
    assert "--output: missing/model.onnx: missing does not exist" in capsys.readouterr().err
    assert main(["export", "run.npz", "-o", "mlp.onnx"]) == 0  # the MLP reads flattened images
    assert "input 'input' (N, 784)" in capsys.readouterr().out
    assert main(["scalar", "--dataset", "sample", "--epochs", "1", "--quiet", "--save", "scalar.npz"]) == 0
    capsys.readouterr()
    assert main(["export", "scalar.npz", "-o", "scalar.onnx"]) == 2
    assert "scalar.npz: the scalar tier's network has no ONNX form" in capsys.readouterr().err
