"""Every schedule gives torch.optim.lr_scheduler's learning rates over 100 epochs, and resumes from its state."""

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from nnscratch.vectorized.modules import Parameter
from nnscratch.vectorized.optim import SGD, Lookahead
from nnscratch.vectorized.schedules import (
    SCHEDULES,
    ConstantLR,
    CosineAnnealingLR,
    MultiStepLR,
    ReduceLROnPlateau,
    Schedule,
    StepLR,
    describe_schedule,
    make_schedule,
    multistep_milestones,
)

EPOCHS = 100
BASE_LR = 0.1


def plateau_metrics(mode):
    """A loss that improves, stalls with noise, improves again, and stalls (negated for mode "max")."""
    rng = np.random.default_rng(0)
    curve = np.concatenate([np.linspace(2.0, 1.0, 20), np.full(30, 1.0), np.linspace(1.0, 0.5, 20), np.full(30, 0.5)])
    metrics = curve + rng.normal(0.0, 1e-3, EPOCHS)
    return list(metrics if mode == "min" else -metrics)


def our_learning_rates(make, metrics=None, optimizer=None):
    optimizer = optimizer or SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    schedule = make(optimizer)
    rates = []
    for epoch in range(EPOCHS):
        rates.append(optimizer.lr)
        schedule.step() if metrics is None else schedule.step(metrics[epoch])
    return rates


def torch_learning_rates(make, metrics=None):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=BASE_LR)
    schedule = make(optimizer)
    rates = []
    for epoch in range(EPOCHS):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # torch warns when a schedule steps before the optimizer
        schedule.step() if metrics is None else schedule.step(metrics[epoch])
    return rates


def assert_same_rates(ours, theirs):
    # torch computes most schedules recursively (lr_e from lr_e-1): equal to round-off
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)


CASES = {
    "constant": (lambda o: ConstantLR(o), lambda o: lr_scheduler.ConstantLR(o, factor=1.0, total_iters=0)),
    "constant-factor": (
        lambda o: ConstantLR(o, factor=0.25, total_iters=7),
        lambda o: lr_scheduler.ConstantLR(o, factor=0.25, total_iters=7),
    ),
    "step": (lambda o: StepLR(o, 30), lambda o: lr_scheduler.StepLR(o, 30)),
    "step-gamma": (lambda o: StepLR(o, 7, gamma=0.5), lambda o: lr_scheduler.StepLR(o, 7, gamma=0.5)),
    "multistep": (lambda o: MultiStepLR(o, [50, 75]), lambda o: lr_scheduler.MultiStepLR(o, [50, 75])),
    "multistep-gamma": (
        lambda o: MultiStepLR(o, [1, 10, 11, 99], gamma=0.3),
        lambda o: lr_scheduler.MultiStepLR(o, [1, 10, 11, 99], gamma=0.3),
    ),
    "cosine": (lambda o: CosineAnnealingLR(o, 100), lambda o: lr_scheduler.CosineAnnealingLR(o, 100)),
    "cosine-eta-min": (
        lambda o: CosineAnnealingLR(o, 100, eta_min=1e-3),
        lambda o: lr_scheduler.CosineAnnealingLR(o, 100, eta_min=1e-3),
    ),
    "cosine-periodic": (
        lambda o: CosineAnnealingLR(o, 30, eta_min=0.01),
        lambda o: lr_scheduler.CosineAnnealingLR(o, 30, eta_min=0.01),
    ),
}


def warmup_then_cosine(optimizer, warmup, total, eta_min):
    """The torch composition that our CosineAnnealingLR(warmup_epochs=w) documents itself as."""
    return lr_scheduler.SequentialLR(
        optimizer,
        [
            lr_scheduler.LinearLR(optimizer, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup),
            lr_scheduler.CosineAnnealingLR(optimizer, total - warmup, eta_min=eta_min),
        ],
        milestones=[warmup],
    )


for _warmup, _total, _eta_min in [(1, 100, 0.0), (5, 100, 0.0), (10, 60, 1e-3)]:
    CASES[f"cosine-warmup-{_warmup}-{_total}"] = (
        lambda o, w=_warmup, t=_total, e=_eta_min: CosineAnnealingLR(o, t, eta_min=e, warmup_epochs=w),
        lambda o, w=_warmup, t=_total, e=_eta_min: warmup_then_cosine(o, w, t, e),
    )


@pytest.mark.parametrize("name", CASES)
def test_schedule_gives_torchs_learning_rates_over_100_epochs(name):
    ours, theirs = CASES[name]
    assert_same_rates(our_learning_rates(ours), torch_learning_rates(theirs))


PLATEAU_OPTIONS = [
    dict(mode="min", patience=10),
    dict(mode="min", factor=0.5, patience=3, threshold=1e-2, cooldown=2),
    dict(mode="min", factor=0.5, patience=0, threshold=0.1, threshold_mode="abs", min_lr=0.01),
    dict(mode="max", factor=0.2, patience=4, threshold=1e-3),
    dict(mode="max", factor=0.5, patience=2, threshold=5e-3, threshold_mode="abs", cooldown=3, min_lr=1e-3),
]


@pytest.mark.parametrize("options", PLATEAU_OPTIONS, ids=lambda options: "-".join(map(str, options.values())))
def test_reduce_on_plateau_gives_torchs_learning_rates_over_100_epochs(options):
    metrics = plateau_metrics(options["mode"])
    ours = our_learning_rates(lambda o: ReduceLROnPlateau(o, **options), metrics)
    theirs = torch_learning_rates(lambda o: lr_scheduler.ReduceLROnPlateau(o, **options), metrics)
    assert_same_rates(ours, theirs)
    assert min(ours) < BASE_LR  # the case did reduce


def test_warmup_starts_at_base_over_warmup_and_reaches_the_cosine_top_at_epoch_w():
    rates = our_learning_rates(lambda o: CosineAnnealingLR(o, 20, warmup_epochs=4))
    np.testing.assert_allclose(rates[:5], [0.025, 0.04375, 0.0625, 0.08125, 0.1])
    assert rates[20] == 0.0


def test_schedules_work_through_lookahead():
    optimizer = Lookahead(SGD([Parameter(np.zeros(1))], lr=BASE_LR))
    rates = our_learning_rates(lambda o: StepLR(o, 30), optimizer=optimizer)
    assert rates[29:31] == [BASE_LR, pytest.approx(BASE_LR * 0.1)]
    assert optimizer.base.lr == pytest.approx(BASE_LR * 0.001)


@pytest.mark.parametrize(
    "make, metrics",
    [(CASES["cosine-warmup-5-100"][0], None), (CASES["multistep"][0], None)]
    + [(lambda o: ReduceLROnPlateau(o, **PLATEAU_OPTIONS[1]), plateau_metrics("min"))],
    ids=["cosine-warmup", "multistep", "plateau"],
)
def test_state_dict_resumes_the_same_sequence(make, metrics):
    straight = our_learning_rates(make, metrics)
    optimizer = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    schedule = make(optimizer)
    for epoch in range(37):
        schedule.step() if metrics is None else schedule.step(metrics[epoch])
    state = schedule.state_dict()
    assert all(isinstance(value, (str, int, float)) for value in state.values())
    # a new optimizer (at some other learning rate) and schedule pick up from epoch 37
    resumed_optimizer = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    resumed = make(resumed_optimizer)
    resumed.load_state_dict(state)
    resumed_optimizer.lr = optimizer.lr  # the optimizer's own state_dict carries its current lr
    rates = []
    for epoch in range(37, EPOCHS):
        rates.append(resumed_optimizer.lr)
        resumed.step() if metrics is None else resumed.step(metrics[epoch])
    assert rates == straight[37:]


def test_load_state_dict_refuses_the_state_of_another_schedule():
    optimizer = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: the state is for 'MultiStepLR', not 'StepLR'"):
        StepLR(optimizer, 3).load_state_dict(MultiStepLR(optimizer, [3]).state_dict())


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: StepLR(o, 0), r"StepLR: step_size must be a positive integer, got 0"),
        (lambda o: StepLR(o, 3, gamma=-0.1), r"StepLR: gamma must be a number in \[0.0, inf\]"),
        (lambda o: MultiStepLR(o, [5, 3]), r"MultiStepLR: milestones must be strictly increasing, got \[5, 3\]"),
        (lambda o: MultiStepLR(o, [0, 3]), r"MultiStepLR: each milestone must be a positive integer, got 0"),
        (lambda o: CosineAnnealingLR(o, 0), r"CosineAnnealingLR: T_max must be a positive integer, got 0"),
        (lambda o: CosineAnnealingLR(o, 10, warmup_epochs=10), r"warmup_epochs \(10\) must be smaller than T_max"),
        (lambda o: ConstantLR(o, factor=2.0), r"ConstantLR: factor must be a number in \[0.0, 1.0\]"),
        (lambda o: ReduceLROnPlateau(o, mode="lowest"), r"mode must be 'min' or 'max', got 'lowest'"),
        (lambda o: ReduceLROnPlateau(o, threshold_mode="pct"), r"threshold_mode must be 'rel' or 'abs'"),
        (lambda o: ReduceLROnPlateau(o, factor=1.0), r"factor must be a number in \[0.0, 1.0\), got 1.0"),
        (lambda o: ReduceLROnPlateau(o, patience=-1), r"patience must be an integer >= 0"),
        (lambda o: StepLR("adam", 3), r"StepLR: expected an optimizer with an lr, got str"),
    ],
)
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(SGD([Parameter(np.zeros(1))], lr=BASE_LR))


def test_plateau_needs_a_metric_and_the_others_do_not():
    optimizer = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    assert ReduceLROnPlateau(optimizer).needs_metric and not StepLR(optimizer, 2).needs_metric
    with pytest.raises(TypeError):
        ReduceLROnPlateau(optimizer).step()
    with pytest.raises(NotImplementedError):
        Schedule(optimizer)


def test_multistep_milestones_fall_at_half_and_three_quarters_inside_the_run():
    assert multistep_milestones(20) == [10, 15]
    assert multistep_milestones(15) == [7, 11]
    assert multistep_milestones(5) == [2, 3]
    assert multistep_milestones(4) == [2, 3]


@pytest.mark.parametrize("epochs", [1, 2, 3])
def test_multistep_keeps_the_rate_of_a_run_shorter_than_four_epochs_as_torch_does_without_milestones(epochs):
    optimizer = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    ours = make_schedule("multistep", optimizer, epochs)
    assert multistep_milestones(epochs) == [] and ours.milestones == []
    weight = torch.zeros(1, requires_grad=True)
    theirs_optimizer = torch.optim.SGD([weight], lr=BASE_LR)
    theirs = lr_scheduler.MultiStepLR(theirs_optimizer, [])
    rates = []
    for _ in range(epochs + 2):
        rates.append((optimizer.lr, theirs_optimizer.param_groups[0]["lr"]))
        ours.step()
        theirs_optimizer.step()
        theirs.step()
    assert rates == [(BASE_LR, BASE_LR)] * (epochs + 2)


def test_describe_schedule_says_when_multistep_keeps_its_rate():
    assert describe_schedule("multistep", 3) == "multistep schedule (constant: fewer than 4 epochs)"
    assert describe_schedule("multistep", 15) == "multistep schedule (x0.1 after epochs 7 and 11)"
    assert describe_schedule("cosine", 3) == "cosine schedule"


def test_make_schedule_builds_every_name_for_a_run():
    optimizer = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    built = {name: make_schedule(name, optimizer, 12) for name in SCHEDULES}
    assert isinstance(built["none"], ConstantLR) and built["none"].lr_at(11) == BASE_LR
    assert isinstance(built["step"], StepLR) and built["step"].step_size == 4
    assert isinstance(built["multistep"], MultiStepLR) and built["multistep"].milestones == [6, 9]
    assert isinstance(built["cosine"], CosineAnnealingLR) and built["cosine"].T_max == 12
    assert isinstance(built["plateau"], ReduceLROnPlateau)
    assert make_schedule("cosine", optimizer, 12, warmup_epochs=3).warmup_epochs == 3


def test_make_schedule_refuses_unknown_names_and_warmup_without_cosine():
    optimizer = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    with pytest.raises(ValueError, match=r"unknown schedule 'linear'; choose one of: none, step, multistep"):
        make_schedule("linear", optimizer, 10)
    with pytest.raises(ValueError, match=r"warmup_epochs=2 needs the cosine schedule, got schedule 'step'"):
        make_schedule("step", optimizer, 10, warmup_epochs=2)
    with pytest.raises(ValueError, match=r"make_schedule: epochs must be a positive integer, got 0"):
        make_schedule("none", optimizer, 0)
