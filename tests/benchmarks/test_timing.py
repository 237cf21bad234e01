"""The shared timing helpers: turn order, warm-up, pauses, medians and thread limits (no real timing)."""

import pytest
from threadpoolctl import threadpool_info

from benchmarks.timing import Spread, limit_threads, rates, time_interleaved


class FakeClock:
    """A clock that advances only when a step runs, by a duration chosen per step."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def recording_steps(clock, durations, calls):
    def step(name):
        def run():
            calls.append(name)
            clock.now += durations[name]

        return run

    return {name: step(name) for name in durations}


def test_steps_take_turns_after_the_warmup_and_each_measurement_is_one_call():
    clock, calls, pauses = FakeClock(), [], []
    steps = recording_steps(clock, {"a": 2.0, "b": 3.0}, calls)
    times = time_interleaved(steps, rounds=3, warmup=2, pause=0.25, sleep=pauses.append, clock=clock)
    assert calls == ["a", "b"] * 5  # 2 warm-up rounds, then 3 timed rounds
    assert times == {"a": [2.0, 2.0, 2.0], "b": [3.0, 3.0, 3.0]}
    assert pauses == [0.25] * 6  # one pause before every timed call, none in the warm-up


def test_untimed_first_runs_each_step_once_more_before_its_timed_call():
    clock, calls = FakeClock(), []
    steps = recording_steps(clock, {"a": 1.0, "b": 4.0}, calls)
    times = time_interleaved(
        steps, rounds=2, warmup=0, pause=0.0, untimed_first=True, sleep=lambda _: None, clock=clock
    )
    assert calls == ["a", "a", "b", "b", "a", "a", "b", "b"]
    assert times == {"a": [1.0, 1.0], "b": [4.0, 4.0]}


@pytest.mark.parametrize(("rounds", "warmup"), [(0, 1), (2, -1)])
def test_time_interleaved_refuses_impossible_counts(rounds, warmup):
    with pytest.raises(ValueError, match=rf"need rounds >= 1 and warmup >= 0, got rounds={rounds}, warmup={warmup}"):
        time_interleaved({"a": lambda: None}, rounds=rounds, warmup=warmup)


def test_spread_is_median_min_max_in_the_reports_form():
    spread = Spread.of([3.0, 1.0, 10.0, 2.0])
    assert spread == Spread(2.5, 1.0, 10.0)
    assert spread.as_dict() == {"median": 2.5, "min": 1.0, "max": 10.0}
    assert rates([0.5, 2.0], items=100) == [200.0, 50.0]


def test_spread_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="Spread.of: no measurements"):
        Spread.of([])


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_limit_threads_caps_numpy_blas_and_torch_and_restores_blas(restore_torch_threads):
    import torch

    before = blas_threads()
    with limit_threads(1):
        assert blas_threads() == {1}
        assert torch.get_num_threads() == 1
    assert blas_threads() == before


def test_limit_threads_refuses_zero():
    with pytest.raises(ValueError, match="limit_threads: threads must be >= 1, got 0"):
        limit_threads(0)
