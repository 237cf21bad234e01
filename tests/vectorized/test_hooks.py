"""Hooks on modules (``vectorized/hooks.py``): order, arguments, replacement values, removal."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional.blocks import ResidualBlock
from nnscratch.vectorized.modules import Linear, Module, ReLU, Sequential, Tanh
from tests.support import seeds


def record_every_hook(model: Module, events: list) -> list:
    """Register all four kinds of hook on every module of ``model``; each appends (kind, name, shapes)."""

    def shapes(values: tuple) -> tuple:
        return tuple(None if value is None else value.shape for value in values)

    handles = []
    for name, module in model.named_modules():
        handles += [
            module.register_forward_pre_hook(lambda m, inputs, n=name: events.append(("pre", n, shapes(inputs)))),
            module.register_forward_hook(
                lambda m, inputs, output, n=name: events.append(("forward", n, shapes(inputs), output.shape))
            ),
            module.register_backward_pre_hook(lambda m, grad_out, n=name: events.append(("bpre", n, shapes(grad_out)))),
            module.register_backward_hook(
                lambda m, grad_in, grad_out, n=name: events.append(("backward", n, shapes(grad_in), shapes(grad_out)))
            ),
        ]
    return handles


def mlp(widths: list[int], seed: int) -> Sequential:
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers += [Linear(fan_in, fan_out, seed=seed + index).to(np.float64), Tanh()]
    return Sequential(*layers[:-1])


@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.integers(1, 4), seeds())
def test_hooks_fire_in_forward_order_and_backward_in_reverse_with_the_shapes_of_each_value(widths, batch, seed):
    model = mlp(widths, seed % 1000)
    events: list = []
    record_every_hook(model, events)
    x = np.random.default_rng(seed).normal(size=(batch, widths[0]))
    y = model.forward(x)
    model.backward(np.ones_like(y))

    # Linear i maps widths[i] -> widths[i + 1]; the Tanh after it keeps widths[i + 1]
    shapes_in = [(batch, widths[(index + 1) // 2]) for index in range(len(model))]
    shapes_out = [(batch, widths[index // 2 + 1]) for index in range(len(model))]
    names = [str(index) for index in range(len(model))]
    expected = [("pre", "", ((batch, widths[0]),))]
    for name, shape_in, shape_out in zip(names, shapes_in, shapes_out, strict=True):
        expected += [("pre", name, (shape_in,)), ("forward", name, (shape_in,), shape_out)]
    expected += [("forward", "", ((batch, widths[0]),), (batch, widths[-1])), ("bpre", "", ((batch, widths[-1]),))]
    for name, shape_in, shape_out in reversed(list(zip(names, shapes_in, shapes_out, strict=True))):
        expected += [("bpre", name, (shape_out,)), ("backward", name, (shape_in,), (shape_out,))]
    expected += [("backward", "", ((batch, widths[0]),), ((batch, widths[-1]),))]
    assert events == expected


def test_hooks_on_a_residual_block_follow_its_forward_and_its_backward():
    block = ResidualBlock(2, 4, stride=2)
    events: list = []
    record_every_hook(block, events)
    x = np.random.default_rng(0).normal(size=(3, 2, 6, 6)).astype(np.float32)
    y = block.forward(x)
    block.backward(np.ones_like(y))

    forward = [name for kind, name, *_ in events if kind == "forward"]
    backward = [name for kind, name, *_ in events if kind == "backward"]
    main = ["conv1", "bn1", "relu1", "conv2", "bn2"]
    shortcut = ["shortcut.0", "shortcut.1"]
    assert forward == [*main, *shortcut, "shortcut", "relu_out", ""]
    # its backward: the main path, then the shortcut (each reversed), as ResidualBlock.backward is written
    assert backward == ["relu_out", *reversed(main), *reversed(shortcut), "shortcut", ""]
    seen = {(kind, name): rest for kind, name, *rest in events}
    assert seen[("forward", "conv1")] == [((3, 2, 6, 6),), (3, 4, 3, 3)]
    assert seen[("backward", "conv1")] == [((3, 2, 6, 6),), ((3, 4, 3, 3),)]
    assert seen[("backward", "")] == [((3, 2, 6, 6),), ((3, 4, 3, 3),)]


def test_removed_hooks_stop_firing_and_removing_twice_is_harmless():
    model = Sequential(Linear(3, 2, seed=0), ReLU())
    events: list = []
    handles = record_every_hook(model, events)
    for handle in handles:
        handle.remove()
    handles[0].remove()
    model.backward(np.ones_like(model.forward(np.ones((2, 3)))))
    assert events == []
    assert all("_hooks" not in vars(module) for module in model.modules()), "no hook left: back to the fast path"


def test_a_hook_removed_while_others_stay_leaves_the_others_firing():
    layer = Linear(3, 2, seed=0)
    calls = []
    first = layer.register_forward_hook(lambda *_: calls.append("first"))
    with layer.register_forward_hook(lambda *_: calls.append("second")):
        first.remove()
        layer.forward(np.ones((1, 3)))
    layer.forward(np.ones((1, 3)))
    assert calls == ["second"]


def test_replacement_values_from_each_kind_of_hook_are_used_as_if_computed_by_the_layer():
    rng = np.random.default_rng(1)
    x, grad_y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    first, second = Linear(3, 5, seed=0).to(np.float64), Linear(5, 2, seed=1).to(np.float64)
    model = Sequential(first, Tanh(), second)

    # by hand: input + 1, first layer's output doubled, gradient into the Tanh tripled
    hidden = np.tanh(2 * ((x + 1) @ first.weight.data.T + first.bias.data))
    expected_y = hidden @ second.weight.data.T + second.bias.data
    grad_hidden = 3 * (grad_y @ second.weight.data)
    expected_grad_first = (grad_hidden * (1 - hidden**2)).T @ (x + 1)

    model.register_forward_pre_hook(lambda m, inputs: (inputs[0] + 1,))
    first.register_forward_hook(lambda m, inputs, output: 2 * output)
    second.register_backward_hook(lambda m, grad_in, grad_out: (3 * grad_in[0],))
    np.testing.assert_allclose(model.forward(x), expected_y, rtol=1e-12)
    model.backward(grad_y)
    np.testing.assert_allclose(first.weight.grad, expected_grad_first, rtol=1e-12)


def test_a_backward_pre_hook_replaces_the_gradient_the_layer_receives():
    layer = Linear(3, 2, seed=0).to(np.float64)
    x = np.random.default_rng(2).normal(size=(5, 3))
    layer.register_backward_pre_hook(lambda m, grad_out: -grad_out[0])
    layer.forward(x)
    grad_x = layer.backward(np.ones((5, 2)))
    np.testing.assert_allclose(grad_x, -np.ones((5, 2)) @ layer.weight.data, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, -np.ones((5, 2)).T @ x, rtol=1e-12)


def test_a_subclass_calling_its_parents_forward_fires_its_hooks_once():
    class Checked(Sequential):
        def forward(self, x):
            return super().forward(x)

        def backward(self, grad_out):
            return super().backward(grad_out)

    model = Checked(Linear(3, 2, seed=0))
    calls = []
    model.register_forward_hook(lambda *_: calls.append("forward"))
    model.register_backward_hook(lambda *_: calls.append("backward"))
    model.backward(model.forward(np.ones((1, 3))))
    assert calls == ["forward", "backward"]


def test_hooks_survive_a_state_dict_round_trip_and_are_not_saved_in_it():
    model = Sequential(Linear(3, 2, seed=0), ReLU())
    plain_keys = list(model.state_dict())
    calls = []
    model[0].register_forward_hook(lambda *_: calls.append("forward"))
    state = {name: array.copy() + 1 for name, array in model.state_dict().items()}
    assert list(state) == plain_keys
    model.load_state_dict(state)
    model.forward(np.ones((1, 3)))
    assert calls == ["forward"]
    np.testing.assert_array_equal(model[0].weight.data, state["0.weight"])


def test_a_hook_that_is_not_callable_is_refused_naming_the_kind():
    with pytest.raises(TypeError, match="Linear: a forward pre hook must be callable, got 3"):
        Linear(3, 2).register_forward_pre_hook(3)
