"""Optimizers against torch.optim (float64, 20 steps, every option), Lookahead against the paper's rule,
RMSprop also against the values CS231n publishes.

Parity tables: ``RMSPROP_TABLE`` and ``ADAGRAD_TABLE`` name each option on its own and together;
a hypothesis test draws further combinations."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.vectorized.modules import Linear, Parameter
from nnscratch.vectorized.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Lookahead,
    Optimizer,
    RMSprop,
    clip_grad_norm,
    make_optimizer,
)
from tests.support import RTOL_MODULE, assert_close, seeds, to_torch

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 20


def starting_point(seed):
    """Parameters, a target they are pulled towards, and per-step gradient noise."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(shape) for shape in SHAPES]
    target = [rng.standard_normal(shape) for shape in SHAPES]
    noise = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(STEPS)]
    return start, target, noise


def gradient(weights, target, noise):
    # of the loss sum((w - target)^2) / 2 plus noise: depends on the weights, like a real gradient
    return weights - target + noise


def run_ours(make, seed, steps=STEPS, wrap=None):
    start, target, noise = starting_point(seed)
    params = [Parameter(array.copy()) for array in start]
    optimizer = make(params) if wrap is None else wrap(make(params))
    for step in range(steps):
        optimizer.zero_grad()
        for parameter, goal, jitter in zip(params, target, noise[step], strict=True):
            parameter.grad += gradient(parameter.data, goal, jitter)
        optimizer.step()
    return params, optimizer


def run_torch(make, seed, steps=STEPS, every_step=None):
    start, target, noise = starting_point(seed)
    params = [to_torch(array, requires_grad=True) for array in start]
    optimizer = make(params)
    for step in range(steps):
        optimizer.zero_grad()
        for parameter, goal, jitter in zip(params, target, noise[step], strict=True):
            parameter.grad = gradient(parameter.detach(), to_torch(goal), to_torch(jitter))
        optimizer.step()
        if every_step is not None:
            every_step(step + 1, params)
    return params


def assert_same_parameters(ours, theirs):
    for index, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        assert_close(mine.data, reference, RTOL_MODULE, name=f"parameter {index}")


learning_rates = st.floats(1e-3, 0.3)
decays = st.sampled_from([0.0, 1e-3, 0.1])


@given(seeds(), learning_rates, st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.0, 0.3]), st.booleans(), decays)
def test_sgd_matches_torch_with_every_option(seed, lr, momentum, dampening, nesterov, weight_decay):
    if nesterov and (momentum == 0 or dampening):
        nesterov = False  # torch refuses that combination too (tested below)
    options = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
    ours, _ = run_ours(lambda params: SGD(params, **options), seed)
    assert_same_parameters(ours, run_torch(lambda params: torch.optim.SGD(params, **options), seed))


adam_options = st.fixed_dictionaries(
    {
        "lr": learning_rates,
        "betas": st.sampled_from([(0.9, 0.999), (0.8, 0.99), (0.3, 0.5)]),
        "eps": st.sampled_from([1e-8, 1e-3]),
    }
)


@given(seeds(), adam_options, decays)
def test_adam_matches_torch_with_every_option(seed, options, weight_decay):
    ours, _ = run_ours(lambda params: Adam(params, weight_decay=weight_decay, **options), seed)
    theirs = run_torch(lambda params: torch.optim.Adam(params, weight_decay=weight_decay, **options), seed)
    assert_same_parameters(ours, theirs)


@given(seeds(), adam_options, decays)
def test_adamw_matches_torch_with_every_option(seed, options, weight_decay):
    ours, _ = run_ours(lambda params: AdamW(params, weight_decay=weight_decay, **options), seed)
    theirs = run_torch(lambda params: torch.optim.AdamW(params, weight_decay=weight_decay, **options), seed)
    assert_same_parameters(ours, theirs)


# ----------------------------------------------------------------------------- RMSprop and Adagrad

RMSPROP_TABLE = {
    "defaults": {},
    "lr": {"lr": 0.05},
    "alpha": {"alpha": 0.9},
    "eps": {"eps": 1e-3},
    "weight_decay": {"weight_decay": 0.1},
    "momentum": {"momentum": 0.9},
    "centered": {"centered": True},
    "centered+momentum": {"centered": True, "momentum": 0.5},
    "all": {"lr": 0.02, "alpha": 0.8, "eps": 1e-4, "weight_decay": 1e-2, "momentum": 0.7, "centered": True},
}
ADAGRAD_TABLE = {
    "defaults": {},
    "lr": {"lr": 0.3},
    "lr_decay": {"lr_decay": 0.1},
    "weight_decay": {"weight_decay": 0.1},
    "initial_accumulator_value": {"initial_accumulator_value": 0.5},
    "eps": {"eps": 1e-2},
    "all": {"lr": 0.2, "lr_decay": 0.05, "weight_decay": 1e-2, "initial_accumulator_value": 0.1, "eps": 1e-6},
}


@pytest.mark.parametrize("options", RMSPROP_TABLE.values(), ids=RMSPROP_TABLE)
def test_rmsprop_matches_torch_for_each_option(options):
    ours, _ = run_ours(lambda params: RMSprop(params, **options), 0)
    assert_same_parameters(ours, run_torch(lambda params: torch.optim.RMSprop(params, **options), 0))


@pytest.mark.parametrize("options", ADAGRAD_TABLE.values(), ids=ADAGRAD_TABLE)
def test_adagrad_matches_torch_for_each_option(options):
    ours, _ = run_ours(lambda params: Adagrad(params, **options), 0)
    assert_same_parameters(ours, run_torch(lambda params: torch.optim.Adagrad(params, **options), 0))


rmsprop_options = st.fixed_dictionaries(
    {
        "lr": learning_rates,
        "alpha": st.sampled_from([0.99, 0.9, 0.5]),
        "eps": st.sampled_from([1e-8, 1e-3]),
        "weight_decay": decays,
        "momentum": st.sampled_from([0.0, 0.5, 0.9]),
        "centered": st.booleans(),
    }
)
adagrad_options = st.fixed_dictionaries(
    {
        "lr": learning_rates,
        "lr_decay": st.sampled_from([0.0, 0.01, 0.5]),
        "weight_decay": decays,
        "initial_accumulator_value": st.sampled_from([0.0, 0.1, 2.0]),
        "eps": st.sampled_from([1e-10, 1e-3]),
    }
)


@given(seeds(), rmsprop_options)
def test_rmsprop_matches_torch_with_every_option(seed, options):
    ours, _ = run_ours(lambda params: RMSprop(params, **options), seed)
    assert_same_parameters(ours, run_torch(lambda params: torch.optim.RMSprop(params, **options), seed))


@given(seeds(), adagrad_options)
def test_adagrad_matches_torch_with_every_option(seed, options):
    ours, _ = run_ours(lambda params: Adagrad(params, **options), seed)
    assert_same_parameters(ours, run_torch(lambda params: torch.optim.Adagrad(params, **options), seed))


def test_rmsprop_reproduces_the_values_cs231n_publishes():
    """CS231n (Stanford) assignment 2, ``FullyConnectedNets.ipynb``, the cell "Test RMSProp implementation"
    (the 2017 starter notebook, e.g. in the GitHub repository Burton2000/CS231n-2017 at
    assignment2/FullyConnectedNets.ipynb): one step of its ``rmsprop(w, dw, config)`` from a given
    ``cache``, printed to 8 decimals. CS231n's rule is torch's without momentum or centering, with
    decay_rate 0.99 (torch's alpha) and epsilon 1e-8 added outside the square root; its ``cache`` is
    torch's ``square_avg``, so it is loaded into the state before the step."""
    n, d = 4, 5
    weights = np.linspace(-0.4, 0.6, num=n * d).reshape(n, d)
    grad = np.linspace(-0.6, 0.4, num=n * d).reshape(n, d)
    cache = np.linspace(0.6, 0.9, num=n * d).reshape(n, d)
    expected_next_w = np.asarray(
        [
            [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
            [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
            [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
            [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619],
        ]
    )
    expected_cache = np.asarray(
        [
            [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
            [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
            [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
            [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926],
        ]
    )
    parameter = Parameter(weights.copy())
    parameter.grad[...] = grad
    optimizer = RMSprop([parameter], lr=1e-2, alpha=0.99, eps=1e-8)
    optimizer.load_state_dict({"type": "RMSprop", "lr": 1e-2, "step": 0, "state": [{"square_avg": cache}]})
    optimizer.step()
    # to the published precision: 8 decimals, i.e. within half a unit of the last printed digit
    np.testing.assert_allclose(parameter.data, expected_next_w, rtol=0, atol=5e-9)
    np.testing.assert_allclose(optimizer.state[0]["square_avg"], expected_cache, rtol=0, atol=5e-9)


def test_rmsprop_keeps_only_the_state_its_options_need():
    for options, keys in [
        ({}, {"square_avg"}),
        ({"momentum": 0.9}, {"square_avg", "momentum_buffer"}),
        ({"centered": True}, {"square_avg", "grad_avg"}),
        ({"momentum": 0.9, "centered": True}, {"square_avg", "momentum_buffer", "grad_avg"}),
    ]:
        _, optimizer = run_ours(lambda params, options=options: RMSprop(params, **options), 0, steps=1)
        assert all(set(state) == keys for state in optimizer.state)
    _, adagrad = run_ours(lambda params: Adagrad(params), 0, steps=1)
    assert all(set(state) == {"sum"} for state in adagrad.state)


def test_defaults_are_torch_defaults():
    params = [Parameter(np.zeros(2))]
    adam, adamw = Adam(params), AdamW(params)
    reference = torch.optim.AdamW([torch.zeros(2, requires_grad=True)]).defaults
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    assert (adamw.lr, adamw.betas, adamw.eps, adamw.weight_decay) == (
        reference["lr"],
        reference["betas"],
        reference["eps"],
        reference["weight_decay"],
    )
    sgd = SGD(params, lr=0.1)
    assert (sgd.momentum, sgd.dampening, sgd.nesterov, sgd.weight_decay) == (0.0, 0.0, False, 0.0)
    rmsprop = torch.optim.RMSprop([torch.zeros(2, requires_grad=True)]).defaults
    ours = RMSprop(params)
    for name in ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"):
        assert getattr(ours, name) == rmsprop[name], name
    adagrad = torch.optim.Adagrad([torch.zeros(2, requires_grad=True)]).defaults
    ours = Adagrad(params)
    for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
        assert getattr(ours, name) == adagrad[name], name


@pytest.mark.parametrize(
    "base, torch_base",
    [
        (lambda p: SGD(p, 0.05, momentum=0.9), lambda p: torch.optim.SGD(p, 0.05, momentum=0.9)),
        (lambda p: Adam(p, 0.02), lambda p: torch.optim.Adam(p, 0.02)),
    ],
    ids=["sgd-momentum", "adam"],
)
@pytest.mark.parametrize("k, alpha", [(5, 0.5), (3, 0.8)])
def test_lookahead_matches_the_papers_rule_applied_by_hand_on_top_of_torch(base, torch_base, k, alpha):
    start, _, _ = starting_point(0)
    slow = [to_torch(array) for array in start]

    def lookahead_by_hand(step, params):
        # Zhang et al. 2019: every k steps, slow += alpha * (fast - slow), then fast = slow
        if step % k == 0:
            with torch.no_grad():
                for fast, slow_weights in zip(params, slow, strict=True):
                    slow_weights += alpha * (fast - slow_weights)
                    fast.copy_(slow_weights)

    ours, _ = run_ours(base, 0, wrap=lambda optimizer: Lookahead(optimizer, k=k, alpha=alpha))
    assert_same_parameters(ours, run_torch(torch_base, 0, every_step=lookahead_by_hand))


def test_lookahead_forwards_the_learning_rate_to_its_base():
    base = SGD([Parameter(np.zeros(2))], lr=0.1)
    wrapped = Lookahead(base)
    assert wrapped.lr == 0.1
    wrapped.lr = 0.01
    assert base.lr == 0.01 and wrapped.params is base.params


def test_updates_are_in_place_and_keep_float32():
    params = [Parameter(np.ones((3, 2), dtype=np.float32)), Parameter(np.ones(2, dtype=np.float32))]
    arrays = [parameter.data for parameter in params]
    for optimizer in (SGD(params, 0.1, momentum=0.9, weight_decay=0.1), AdamW(params), Lookahead(Adam(params), k=1)):
        for parameter in params:
            parameter.grad[...] = 0.5
        optimizer.step()
        assert all(parameter.data is array for parameter, array in zip(params, arrays, strict=True))
        assert all(parameter.data.dtype == np.float32 for parameter in params)
    state = AdamW(params)
    state.step()
    assert all(array.dtype == np.float32 for moments in state.state for array in moments.values())


def test_zero_grad_clears_the_gradients_and_the_step_leaves_them_alone():
    parameter = Parameter(np.ones(3))
    parameter.grad[...] = 2.0
    SGD([parameter], 0.1, weight_decay=0.5, momentum=0.9).step()
    np.testing.assert_array_equal(parameter.grad, 2.0)  # weight decay is not written into .grad
    Adam([parameter]).zero_grad()
    assert not parameter.grad.any()


# ----------------------------------------------------------------------------- clipping


@given(seeds(), st.sampled_from([0.01, 1.0, 100.0]))
def test_clip_grad_norm_matches_torch(seed, max_norm):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(shape) for shape in SHAPES]
    params = [Parameter(np.zeros(shape)) for shape in SHAPES]
    for parameter, grad in zip(params, grads, strict=True):
        parameter.grad[...] = grad
    reference = [to_torch(np.zeros(shape), requires_grad=True) for shape in SHAPES]
    for tensor, grad in zip(reference, grads, strict=True):
        tensor.grad = to_torch(grad)
    norm = clip_grad_norm(params, max_norm)
    assert_close(norm, torch.nn.utils.clip_grad_norm_(reference, max_norm), RTOL_MODULE, name="norm")
    for parameter, tensor in zip(params, reference, strict=True):
        assert_close(parameter.grad, tensor.grad, RTOL_MODULE, name="clipped gradient")


def test_clip_grad_norm_keeps_float32_and_leaves_small_gradients_alone():
    parameter = Parameter(np.zeros(4, dtype=np.float32))
    parameter.grad[...] = [0.1, 0.2, 0.0, 0.2]
    norm = clip_grad_norm([parameter], 1.0)
    assert norm.dtype == np.float32 and abs(float(norm) - 0.3) < 1e-6
    np.testing.assert_array_equal(parameter.grad, np.array([0.1, 0.2, 0.0, 0.2], dtype=np.float32))


@pytest.mark.parametrize("max_norm", [0.0, -1.0, float("inf"), float("nan")])
def test_clip_grad_norm_refuses_a_max_norm_that_is_not_positive_and_finite(max_norm):
    with pytest.raises(ValueError, match=r"clip_grad_norm: max_norm must be"):
        clip_grad_norm([Parameter(np.zeros(2))], max_norm)


# ----------------------------------------------------------------------------- state


def plain(value):
    """True when value is made of dicts, lists, strings, numbers and arrays only (savable without pickle)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(plain(item) for item in value)
    return isinstance(value, (str, int, float, np.ndarray))


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, 0.05, momentum=0.9, nesterov=True),
        lambda p: Adam(p, 0.01),
        lambda p: AdamW(p, 0.01),
        lambda p: Lookahead(Adam(p, 0.01), k=3),
        lambda p: RMSprop(p, 0.01, momentum=0.9, centered=True),
        lambda p: Adagrad(p, 0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    ],
    ids=["sgd", "adam", "adamw", "lookahead", "rmsprop", "adagrad"],
)
def test_state_dict_round_trip_continues_exactly_where_it_left_off(make):
    straight, _ = run_ours(make, 1, steps=STEPS)
    first_half, optimizer = run_ours(make, 1, steps=7)
    state = optimizer.state_dict()
    assert plain(state)
    # a new optimizer on copies of the parameters, loaded from the state, does the other 13 steps
    resumed = [Parameter(parameter.data.copy()) for parameter in first_half]
    fresh = make(resumed)
    fresh.load_state_dict(state)
    _, target, noise = starting_point(1)
    for step in range(7, STEPS):
        fresh.zero_grad()
        for parameter, goal, jitter in zip(resumed, target, noise[step], strict=True):
            parameter.grad += gradient(parameter.data, goal, jitter)
        fresh.step()
    for mine, reference in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(mine.data, reference.data)


def test_load_state_dict_refuses_another_optimizer_or_other_parameters():
    params = [Parameter(np.zeros((2, 2))), Parameter(np.zeros(2))]
    adam = Adam(params)
    adam.step()
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: the state is for 'Adam', not 'SGD'"):
        SGD(params, 0.1).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match=r"the state has 2 parameters, this optimizer has 1"):
        Adam(params[:1]).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match=r"state\[0\]\['exp_avg'\] has shape \(2, 2\), its parameter has shape \(3,\)"):
        Adam([Parameter(np.zeros(3)), Parameter(np.zeros(2))]).load_state_dict(adam.state_dict())
    broken = adam.state_dict()
    broken["state"] = [{"exp_avg": array} for array in (np.zeros((2, 2)), np.zeros(2))]
    with pytest.raises(ValueError, match=r"state\[0\] holds \['exp_avg'\], expected \['exp_avg', 'exp_avg_sq'\]"):
        Adam(params).load_state_dict(broken)
    with pytest.raises(ValueError, match=r"Lookahead.load_state_dict: the state is for 'Adam'"):
        Lookahead(Adam(params)).load_state_dict(adam.state_dict())


# ----------------------------------------------------------------------------- bad arguments and factory


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: SGD(p, lr=-0.1), r"SGD: lr must be a number in \[0.0, inf\], got -0.1"),
        (lambda p: SGD(p, lr=0.1, momentum=-1), r"SGD: momentum must be"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), r"SGD: nesterov=True needs momentum > 0 and dampening = 0"),
        (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), r"needs momentum > 0 and dampening"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), r"Adam: betas\[1\] must be a number in \[0.0, 1.0\), got 1.0"),
        (lambda p: Adam(p, betas=(0.9,)), r"Adam: betas must be a pair"),
        (lambda p: AdamW(p, eps=-1e-8), r"AdamW: eps must be"),
        (lambda p: AdamW(p, weight_decay=float("nan")), r"AdamW: weight_decay must be"),
        (lambda p: Adam(p, lr="fast"), r"Adam: lr must be a number"),
        (lambda p: RMSprop(p, alpha=1.5), r"RMSprop: alpha must be a number in \[0.0, 1.0\], got 1.5"),
        (lambda p: RMSprop(p, momentum=-0.1), r"RMSprop: momentum must be"),
        (lambda p: RMSprop(p, eps=float("nan")), r"RMSprop: eps must be"),
        (lambda p: Adagrad(p, lr_decay=-1), r"Adagrad: lr_decay must be a number in \[0.0, inf\], got -1"),
        (lambda p: Adagrad(p, initial_accumulator_value=-0.1), r"Adagrad: initial_accumulator_value must be"),
        (lambda p: Lookahead(SGD(p, 0.1), k=0), r"Lookahead: k must be a positive integer, got 0"),
        (lambda p: Lookahead(SGD(p, 0.1), alpha=1.5), r"Lookahead: alpha must be a number in \[0.0, 1.0\]"),
    ],
)
def test_bad_hyperparameters_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make([Parameter(np.zeros(2))])


def test_bad_parameter_lists_are_refused():
    with pytest.raises(ValueError, match=r"SGD: got an empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"Adam: pass model.parameters\(\), not the model itself"):
        Adam(Linear(2, 2))
    with pytest.raises(TypeError, match=r"Adam: item 1 of params is a ndarray, not a Parameter"):
        Adam([Parameter(np.zeros(2)), np.zeros(2)])
    with pytest.raises(TypeError, match=r"Lookahead: base must be an optimizer"):
        Lookahead("sgd")


def test_the_base_class_has_no_update_rule():
    with pytest.raises(NotImplementedError):
        Optimizer([Parameter(np.zeros(2))], lr=0.1).step()


def test_make_optimizer_builds_by_name_and_refuses_unknown_names_and_nesterov_outside_sgd():
    params = [Parameter(np.zeros(2))]
    sgd = make_optimizer("sgd", params, 0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    assert isinstance(sgd, SGD) and sgd.nesterov and sgd.momentum == 0.9 and sgd.weight_decay == 0.01
    assert type(make_optimizer("adam", params, 0.1)) is Adam
    adamw = make_optimizer("adamw", params, 0.1, weight_decay=0.05)
    assert isinstance(adamw, AdamW) and adamw.weight_decay == 0.05
    wrapped = make_optimizer("adam", params, 0.1, lookahead=True)
    assert isinstance(wrapped, Lookahead) and (wrapped.k, wrapped.alpha) == (5, 0.5)
    rmsprop = make_optimizer("rmsprop", params, 0.1, weight_decay=0.05)
    assert type(rmsprop) is RMSprop and rmsprop.weight_decay == 0.05 and rmsprop.momentum == 0
    assert type(make_optimizer("adagrad", params, 0.1)) is Adagrad
    with pytest.raises(
        ValueError, match=r"unknown optimizer 'lion'; choose one of: sgd, adam, adamw, rmsprop, adagrad$"
    ):
        make_optimizer("lion", params, 0.1)
    with pytest.raises(ValueError, match=r"nesterov momentum applies to SGD only, not to 'adam'"):
        make_optimizer("adam", params, 0.1, nesterov=True)
