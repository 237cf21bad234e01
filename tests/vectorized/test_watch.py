"""Training health while training (``vectorized/watch.py``, ``health.py``): each statistic against a
direct computation on the same batch, the sampling interval, no host round-trip between sampled
steps, and the warnings on a dead layer, a too-large learning rate and vanishing gradients."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.vectorized import watch as watch_module
from nnscratch.vectorized.health import health_warnings
from nnscratch.vectorized.modules import Linear, ReLU, Sequential, Tanh
from nnscratch.vectorized.optim import SGD
from nnscratch.vectorized.trainer import NonFiniteLossError, Trainer
from nnscratch.vectorized.watch import DEFAULT_EVERY, watch
from tests.support import seeds

# the contract of issue 20: the keys of every record
RECORD_KEYS = set(
    "step epoch layer kind activation_mean activation_std zero_fraction grad_norm weight_norm update_ratio "
    "forward_seconds backward_seconds".split()
)


def small_mlp(widths: tuple[int, int, int], seed: int = 0) -> Sequential:
    inputs, hidden, classes = widths
    return Sequential(Linear(inputs, hidden, seed=seed), ReLU(), Linear(hidden, classes, seed=seed + 1)).to(np.float64)


def data(samples: int, inputs: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, inputs)), rng.integers(0, classes, samples)


def watched_fit(model, x, y, batch_size, every, epochs=1, lr=0.1):
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    watcher = watch(model, optimizer, every=every)
    Trainer(model, optimizer, watcher=watcher, quiet=True).fit(x, y, epochs=epochs, batch_size=batch_size)
    return watcher


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 12), st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(2, 4)), seeds())
def test_watched_statistics_equal_those_computed_directly_on_the_same_batch(samples, widths, seed):
    x, y = data(samples, widths[0], widths[2], seed)
    watcher = watched_fit(small_mlp(widths), x, y, batch_size=samples, every=1)

    # the same step by hand, on a twin (one batch of every sample: the shuffled order changes no statistic)
    twin = small_mlp(widths)
    hidden = twin[0].forward(x)
    active = twin[1].forward(hidden)
    logits = twin[2].forward(active)
    loss = CrossEntropyLoss()
    loss_value = loss.forward(logits, y)
    twin.backward(loss.backward())
    before = {name: [p.data.copy() for p in twin[int(name)].parameters()] for name in ("0", "2")}
    grads = {name: [p.grad for p in twin[int(name)].parameters()] for name in ("0", "2")}
    optimizer = SGD(twin.parameters(), lr=0.1, momentum=0.9)
    optimizer.step()

    def norm(arrays):
        return math.sqrt(sum(float((a**2).sum()) for a in arrays))

    expected = {
        "0": {"activation_mean": hidden.mean(), "activation_std": hidden.std(), "zero_fraction": None},
        "1": {"activation_mean": active.mean(), "activation_std": active.std(), "zero_fraction": (active == 0).mean()},
        "2": {"activation_mean": logits.mean(), "activation_std": logits.std(), "zero_fraction": None},
    }
    for name in ("0", "2"):
        after = [p.data for p in twin[int(name)].parameters()]
        expected[name].update(
            grad_norm=norm(grads[name]),
            weight_norm=norm(before[name]),
            update_ratio=norm([a - b for a, b in zip(after, before[name], strict=True)]) / norm(before[name]),
        )
    expected["1"].update(grad_norm=None, weight_norm=None, update_ratio=None)

    assert [record["layer"] for record in watcher.records] == ["0", "1", "2"]
    for record in watcher.records:
        assert set(record) == RECORD_KEYS
        assert (record["step"], record["epoch"]) == (0, 1)
        assert record["forward_seconds"] >= 0 and record["backward_seconds"] >= 0
        for key, value in expected[record["layer"]].items():
            if value is None:
                assert record[key] is None, (record["layer"], key)
            else:
                assert record[key] == pytest.approx(float(value), rel=1e-9, abs=1e-12), (record["layer"], key)
    assert watcher.losses == [{"step": 0, "epoch": 1, "loss": pytest.approx(float(loss_value), rel=1e-12)}]


def test_the_interval_is_honoured_across_epochs_and_histograms_come_from_each_epochs_first_sampled_step():
    x, y = data(40, 5, 3)
    watcher = watched_fit(small_mlp((5, 4, 3)), x, y, batch_size=10, every=3, epochs=2)  # 4 batches an epoch
    assert sorted({record["step"] for record in watcher.records}) == [0, 3, 6]
    assert {record["step"]: record["epoch"] for record in watcher.records} == {0: 1, 3: 1, 6: 2}
    assert [(loss["step"], loss["epoch"]) for loss in watcher.losses] == [(s, 1 + s // 4) for s in range(8)]
    assert [(h["epoch"], h["layer"]) for h in watcher.histograms] == [(e, n) for e in (1, 2) for n in ("0", "1", "2")]
    for histogram in watcher.histograms:
        assert len(histogram["counts"]) == 30 and len(histogram["edges"]) == 31
        assert sum(histogram["counts"]) == 10 * (4 if histogram["layer"] != "2" else 3)  # one batch's values


def test_batches_that_are_not_sampled_bring_nothing_back_to_the_host(monkeypatch):
    calls = []
    convert = watch_module._on_host
    x, y = data(70, 5, 3)
    model = small_mlp((5, 4, 3))
    optimizer = SGD(model.parameters(), lr=0.1)
    watcher = watch(model, optimizer, every=3)

    def counted(value):
        calls.append(watcher.step)
        return convert(value)

    monkeypatch.setattr(watch_module, "_on_host", counted)
    Trainer(model, optimizer, watcher=watcher, quiet=True).fit(x, y, epochs=1, batch_size=10)  # 7 batches
    assert calls, "sampled steps do read their statistics back"
    assert set(calls) == {0, 3, 6}


def test_a_relu_after_a_large_negative_bias_is_reported_dead_and_a_healthy_one_is_not():
    x, y = data(64, 6, 3)
    healthy = watched_fit(small_mlp((6, 16, 3)), x, y, batch_size=16, every=1, lr=0.01)
    assert not [text for text in healthy.warnings() if "dead" in text]
    assert healthy.health_table()[1]["warning"] == ""

    dead_model = small_mlp((6, 16, 3))
    dead_model[0].bias.data[:] = -100.0  # every pre-activation negative: the ReLU gives 0 everywhere
    dead = watched_fit(dead_model, x, y, batch_size=16, every=1, lr=0.01)
    message = "layer '1' (ReLU) is dead in epoch 1: 100% of its units gave exactly 0 for every sampled input"
    assert any(text.startswith(message) for text in dead.warnings())
    assert dead.health_table()[1]["warning"].startswith(message)
    assert dead.health_table()[1]["zero_fraction"] == 1.0


def test_a_learning_rate_far_too_high_is_named_by_the_update_ratio():
    x, y = data(64, 6, 3)
    watcher = watched_fit(small_mlp((6, 16, 3)), x, y, batch_size=16, every=1, lr=50.0)
    assert any("far from the usual ~1e-3: the learning rate looks too high" in text for text in watcher.warnings())


def test_gradients_that_shrink_a_thousandfold_towards_the_input_are_said_to_vanish():
    def record(layer, grad_norm):
        return {"layer": layer, "kind": "Linear", "grad_norm": grad_norm, "update_ratio": 1e-3}

    def flow(first, last):
        rows = [record("0", first), record("1", None), record("2", last)]
        return [text for _, text in health_warnings([{**_blank(), **row} for row in rows], {})]

    assert flow(1e-7, 1e-3)[0].startswith("gradients vanish towards the input: the first layer with parameters, '0'")
    assert flow(1.0, 1e-4)[0].startswith("gradients explode towards the input")
    assert flow(1e-3, 1e-1) == []


def _blank() -> dict:
    return dict.fromkeys(RECORD_KEYS)


def test_the_records_and_losses_are_written_as_json_lines_of_plain_values(tmp_path):
    x, y = data(30, 5, 3)
    model = Sequential(Linear(5, 4, seed=0), Tanh(), Linear(4, 3, seed=1))
    watcher = watched_fit(model, x, y, batch_size=10, every=2)
    path = watcher.write_jsonl(tmp_path / "health.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["layer"] * 6 + ["loss"] * 3 + ["histogram"] * 3
    assert {key for key in lines[0] if key != "type"} == RECORD_KEYS
    assert [line["step"] for line in lines if line["type"] == "loss"] == [0, 1, 2]
    assert [row["layer"] for row in watcher.health_table()] == ["0", "1", "2"]


def test_every_defaults_and_bad_intervals_are_refused():
    model = small_mlp((3, 2, 2))
    assert watch(model).every == DEFAULT_EVERY == watch(model, every=0).every
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="watch: every must be a positive number of batches"):
            watch(model, every=bad)


def test_removing_the_watcher_takes_its_hooks_off_and_keeps_what_it_recorded():
    x, y = data(20, 5, 3)
    model = small_mlp((5, 4, 3))
    watcher = watched_fit(model, x, y, batch_size=10, every=1)
    watcher.remove()
    assert all("_hooks" not in vars(module) for module in model.modules())
    assert len(watcher.records) == 6


def test_a_watched_run_that_diverges_still_fails_with_the_trainers_diagnosis():
    x, y = data(40, 5, 3)
    model = small_mlp((5, 4, 3))
    model[2].weight.data[:] = np.inf  # the logits are not finite from the first batch on
    optimizer = SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, optimizer, watcher=watch(model, optimizer, every=1), quiet=True)
    with pytest.raises(NonFiniteLossError, match="first non-finite: the parameters \\['weight'\\] of module '2'"):
        with np.errstate(all="ignore"):
            trainer.fit(x, y, epochs=1, batch_size=10)


def test_a_hand_written_loop_without_an_optimizer_gets_every_statistic_but_the_update_ratio():
    x, y = data(8, 5, 3)
    model = small_mlp((5, 4, 3))
    watcher = watch(model)
    loss = CrossEntropyLoss()
    watcher.start_batch(epoch=1)
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    watcher.after_backward()
    watcher.after_step(value)
    first = watcher.records[0]
    assert first["grad_norm"] > 0 and first["weight_norm"] > 0 and first["update_ratio"] is None
    assert watcher.losses == [{"step": 0, "epoch": 1, "loss": float(value)}]
