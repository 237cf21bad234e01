"""Resuming the scalar tier: network, optimizers, dropout streams and trainer as plain values, and a bit-exact
resume in a new process."""

import random

import pytest

from nnscratch.common.checkpoint import CheckpointError, read_checkpoint
from nnscratch.common.datasets import load_dataset
from nnscratch.scalar import SGD, Adam, Dropout, Network, Trainer
from nnscratch.scalar.rng_state import random_state, restored_random
from tests.checkpoint_support import assert_same_state, run_python

EPOCHS = 4
CONFIGS = {
    "dropout-sgd-nesterov": dict(optimizer="sgd", dropout=0.2),
    "dropout-adam": dict(optimizer="adam", dropout=0.3),
}


def make_trainer(config, seed=1):
    network = Network(784, [8], 10, dropout=config["dropout"], seed=seed)
    if config["optimizer"] == "sgd":
        optimizer = SGD(network.parameters(), lr=0.02, momentum=0.9, nesterov=True, weight_decay=1e-4)
    else:
        optimizer = Adam(network.parameters(), lr=1e-3)
    return Trainer(network, optimizer, quiet=True, seed=seed)


def train(trainer, epochs):
    dataset = load_dataset("sample")
    return trainer.fit(dataset.normalize(dataset.x_train[:120]), dataset.y_train[:120], epochs, 16, val_split=0.1)


RESUME_SCRIPT = """
import sys
from tests.scalar.test_resume import CONFIGS, EPOCHS, make_trainer, train
trainer = make_trainer(CONFIGS[sys.argv[1]], seed=42)
trainer.load_checkpoint(sys.argv[2])
train(trainer, EPOCHS)
trainer.save_checkpoint(sys.argv[3])
"""


@pytest.mark.parametrize("name", CONFIGS)
def test_two_epochs_saved_then_resumed_in_a_new_process_equal_four_epochs_in_one_run(name, tmp_path):
    whole = make_trainer(CONFIGS[name])
    train(whole, EPOCHS)
    whole.save_checkpoint(tmp_path / "whole.npz")
    half = make_trainer(CONFIGS[name])
    assert [entry["epoch"] for entry in train(half, 2)] == [1, 2]
    half.save_checkpoint(tmp_path / "half.npz")

    run_python("-c", RESUME_SCRIPT, name, str(tmp_path / "half.npz"), str(tmp_path / "resumed.npz"))
    expected, resumed = read_checkpoint(tmp_path / "whole.npz").state, read_checkpoint(tmp_path / "resumed.npz").state
    for part in ("model", "model_extra", "optimizer"):
        assert_same_state(resumed[part], expected[part], part)
    assert (
        resumed["trainer"]["epoch"] == EPOCHS and resumed["trainer"]["generators"] == expected["trainer"]["generators"]
    )
    losses = [[entry["loss"] for entry in state["trainer"]["history"]] for state in (resumed, expected)]
    assert losses[0] == losses[1]


def test_a_reloaded_network_predicts_what_it_predicted_before_saving(tmp_path):
    trainer = make_trainer(CONFIGS["dropout-adam"])
    train(trainer, 1)
    dataset = load_dataset("sample")
    x_test = dataset.normalize(dataset.x_test[:100])
    predictions = trainer.predict(x_test)
    trainer.save_checkpoint(tmp_path / "run.npz")
    reloaded = make_trainer(CONFIGS["dropout-adam"], seed=7)
    reloaded.load_checkpoint(tmp_path / "run.npz")
    assert reloaded.predict(x_test) == predictions and reloaded.epoch == 1
    assert [p.value for p in reloaded.network.parameters()] == [p.value for p in trainer.network.parameters()]


def test_fit_trains_up_to_its_epochs_argument():
    trainer = make_trainer(CONFIGS["dropout-sgd-nesterov"])
    assert [entry["epoch"] for entry in train(trainer, 1)] == [1]
    assert [entry["epoch"] for entry in train(trainer, 2)] == [2]
    assert train(trainer, 2) == [] and trainer.epoch == 2


def test_network_state_uses_the_vectorized_names_and_refuses_other_shapes_without_a_change():
    network = Network(4, [3], 2, dropout=0.5, seed=0)  # Layer, Dropout, Layer
    state = network.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(state["0.weight"]) == 3 and len(state["0.weight"][0]) == 4 and state["0.bias"] == [0.0] * 3
    before = [p.value for p in network.parameters()]
    wrong = {**state, "0.weight": [[0.0] * 5] * 3, "9.bias": [1.0]}
    message = r"Network.load_state_dict: unexpected keys: \['9.bias'\] \| mis-shaped: 0.weight: expected \(3, 4\), got "
    with pytest.raises(ValueError, match=message + r"\(3, 5\)"):
        network.load_state_dict(wrong)
    with pytest.raises(ValueError, match=r"could not convert string to float"):
        network.load_state_dict({**state, "2.bias": [1.0, "x"]})
    assert [p.value for p in network.parameters()] == before


def test_optimizer_states_round_trip_and_refuse_other_optimizers_and_lengths():
    network = Network(4, [3], 2, seed=0)
    sgd = SGD(network.parameters(), lr=0.1, momentum=0.9)
    network.forward_backward([[1.0, 2.0, 3.0, 4.0]], [1])
    sgd.step()
    copy = SGD(network.parameters(), lr=0.5, momentum=0.9)
    copy.load_state_dict(sgd.state_dict())
    assert copy.momentum_buffers == sgd.momentum_buffers and copy.lr == 0.1
    adam = Adam(network.parameters())
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: the state is for 'SGD', not 'Adam'"):
        adam.load_state_dict(sgd.state_dict())
    state = {"type": "Adam", "lr": 0.1, "steps": 3, "m": [0.0] * 5, "v": [0.0] * 23}
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: m must hold 23 values \(one per parameter\), got 5"):
        adam.load_state_dict(state)
    assert adam.steps == 0 and adam.lr == 1e-3


def test_random_states_travel_as_lists_and_malformed_ones_are_refused():
    rng = random.Random(3)
    rng.gauss(0.0, 1.0)  # a cached Gaussian is part of the state too
    copy = restored_random(random_state(rng))
    assert [copy.random() for _ in range(3)] == [rng.random() for _ in range(3)]
    with pytest.raises(ValueError, match=r"not the state of a random.Random"):
        restored_random([3, [1, 2], None])
    dropout = Dropout(0.5, seed=4)
    with pytest.raises(ValueError, match=r"Dropout\(p=0.5\).load_extra_state: not the state of a random.Random"):
        dropout.load_extra_state({"seed": 1, "generator": "abc"})
    assert dropout.seed == 4


def test_a_checkpoint_of_another_network_is_refused_by_name(tmp_path):
    trainer = make_trainer(CONFIGS["dropout-adam"])
    trainer.save_checkpoint(tmp_path / "run.npz")
    other = Network(784, [8], 10, seed=1)  # no dropout: its last layer is at position 1, not 2
    message = r"run\.npz: cannot load its model state: Network.load_state_dict: missing keys: \['1.weight', '1.bias'\] "
    with pytest.raises(CheckpointError, match=message + r"\| unexpected keys: \['2.weight', '2.bias'\]"):
        Trainer(other, Adam(other.parameters()), quiet=True).load_checkpoint(tmp_path / "run.npz")
