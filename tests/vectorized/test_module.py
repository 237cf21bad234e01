"""The module protocol: parameter discovery, buffers, state_dict, modes, the backward cache."""

import numpy as np
import pytest

from nnscratch.vectorized.modules import (
    BatchNorm1D,
    Dropout,
    Flatten,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    grad_enabled,
    no_grad,
)


class Block(Module):
    """A module holding parameters every way the walk must find them."""

    def __init__(self):
        self.first = Linear(3, 4, seed=0)
        self.scale = Parameter(np.ones(4))
        self.stack = [ReLU(), Linear(4, 2, seed=1)]
        self.heads = {"a": Linear(2, 2, seed=2), "b": BatchNorm1D(2)}
        self._private = Linear(2, 2, seed=3)  # private attributes are not walked


def small_mlp(seed=0):
    return Sequential(
        Linear(3, 5, seed=seed), BatchNorm1D(5), ReLU(), Dropout(0.5, seed=seed), Linear(5, 2, seed=seed + 1)
    )


def test_parameters_are_found_by_walking_attributes_lists_and_dicts_in_assignment_order():
    names = [name for name, _ in Block().named_parameters()]
    assert names == [
        "scale",  # the module's own parameters first, then its children's, depth first (as PyTorch)
        "first.weight",
        "first.bias",
        "stack.1.weight",
        "stack.1.bias",
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "heads.b.bias",
    ]
    assert len(Block().parameters()) == len(names)


def test_sequential_names_children_by_position_as_pytorch():
    names = [name for name, _ in small_mlp().named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"]
    assert [name for name, _ in small_mlp().named_buffers()] == [
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]


def test_a_shared_parameter_is_listed_once():
    layer = Linear(2, 2, seed=0)
    model = Sequential(layer, ReLU(), layer)
    assert len(model.parameters()) == 2


def test_state_dict_holds_parameters_and_buffers_and_round_trips_in_place():
    source, target = small_mlp(seed=0), small_mlp(seed=10)
    source.train()
    source.forward(np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32))  # moves the running stats
    weight_before = target[0].weight.data
    target.load_state_dict(source.state_dict())
    for name, array in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], array, err_msg=name)
    assert target[0].weight.data is weight_before  # copied into the existing arrays
    assert int(target[1].num_batches_tracked) == 1
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(source.eval().forward(x), target.eval().forward(x))


def test_load_state_dict_names_missing_unexpected_and_misshaped_keys_and_changes_nothing():
    model = small_mlp()
    before = {name: array.copy() for name, array in model.state_dict().items()}
    state = {name: array.copy() + 1 for name, array in model.state_dict().items()}
    del state["4.bias"]
    state["9.weight"] = np.zeros(3)
    state["0.weight"] = np.zeros((4, 3))
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "missing keys: ['4.bias']" in message
    assert "unexpected keys: ['9.weight']" in message
    assert "0.weight: expected (5, 3), got (4, 3)" in message
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_non_strict_loading_skips_missing_and_unexpected_keys_but_not_wrong_shapes():
    model = small_mlp()
    model.load_state_dict({"0.bias": np.full(5, 7.0), "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model[0].bias.data, np.full(5, 7.0, dtype=np.float32))
    with pytest.raises(ValueError, match=r"mis-shaped: 0.bias: expected \(5,\), got \(2,\)"):
        model.load_state_dict({"0.bias": np.zeros(2)}, strict=False)


def test_train_and_eval_reach_every_nested_module():
    model = Block()
    model.eval()
    assert all(not module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())
    assert model.train(False) is model and not model.heads["b"].training


def test_zero_grad_clears_every_gradient():
    model = small_mlp()
    for parameter in model.parameters():
        parameter.grad += 3.0
    model.zero_grad()
    assert all(not parameter.grad.any() for parameter in model.parameters())


def test_no_grad_keeps_nothing_for_backward_and_restores_the_mode():
    model = Sequential(Linear(3, 4, seed=0), ReLU(), Flatten(), Linear(4, 2, seed=1))
    with no_grad():
        assert not grad_enabled()
        model.forward(np.ones((2, 3), dtype=np.float32))
    assert grad_enabled()
    assert all(getattr(module, "_cache", None) is None for module in model.modules())
    with pytest.raises(RuntimeError, match=r"Linear.backward\(\) called before forward\(\).*no_grad"):
        model.backward(np.ones((2, 2), dtype=np.float32))


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"ReLU.backward\(\) called before forward\(\)"):
        ReLU().backward(np.ones(3))


def test_to_converts_parameters_and_floating_buffers_but_not_counters():
    model = small_mlp().to(np.float64)
    assert all(parameter.data.dtype == np.float64 for parameter in model.parameters())
    assert all(parameter.grad.dtype == np.float64 for parameter in model.parameters())
    assert model[1].running_var.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64


def test_sequential_backward_runs_the_layers_in_reverse():
    model = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1)).to(np.float64)
    x = np.random.default_rng(0).standard_normal((5, 3))
    grad_out = np.random.default_rng(1).standard_normal((5, 2))
    model.forward(x)
    grad_x = model.backward(grad_out)
    # the chain rule by hand, layer by layer (the ReLU runs forward again: one backward per forward)
    first, relu, last = model
    relu.forward(first.forward(x))
    grad_hidden = relu.backward(grad_out @ last.weight.data)
    np.testing.assert_allclose(grad_x, grad_hidden @ first.weight.data)
    assert len(model) == 3 and list(model)[1] is relu


def test_repr_shows_the_tree_and_the_layer_arguments():
    text = repr(small_mlp())
    assert "(0): Linear(in_features=3, out_features=5, bias=True)" in text
    assert "(3): Dropout(p=0.5)" in text
