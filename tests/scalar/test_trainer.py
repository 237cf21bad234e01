import math

import numpy as np
import pytest

from nnscratch.common.datasets import load_dataset
from nnscratch.common.divergence import NonFiniteLossError
from nnscratch.scalar import SGD, Adam, Network, Trainer

ENTRY_KEYS = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_s"}


@pytest.fixture(scope="module")
def sample_slice():
    """300 images of the bundled sample (normalized, float32 NCHW) and their labels."""
    dataset = load_dataset("sample")
    return dataset.normalize(dataset.x_train[:300]), dataset.y_train[:300]


def make_trainer(dropout=0.0, seed=0, callbacks=()):
    network = Network(784, [16], 10, dropout=dropout, seed=seed)
    optimizer = SGD(network.parameters(), lr=0.02, momentum=0.9)
    return Trainer(network, optimizer, callbacks=callbacks, quiet=True, seed=seed)


def test_fit_trains_on_a_slice_of_the_sample_and_records_each_epoch(sample_slice):
    x, y = sample_slice
    seen = []
    trainer = make_trainer(callbacks=[lambda t, entry: seen.append((t, entry["epoch"]))])
    history = trainer.fit(x, y, epochs=3, batch_size=16, val_split=0.2)
    assert [entry["epoch"] for entry in history] == [1, 2, 3] and trainer.history == history
    assert seen == [(trainer, 1), (trainer, 2), (trainer, 3)]
    for entry in history:
        assert set(entry) == ENTRY_KEYS
        assert 0.0 <= entry["accuracy"] <= 1.0 and 0.0 <= entry["val_accuracy"] <= 1.0
        assert entry["lr"] == 0.02 and entry["seconds"] > 0 and entry["samples_per_s"] > 0
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.5, "300 images and 3 epochs are enough to learn something"


def test_training_is_reproducible_with_the_same_seeds(sample_slice):
    x, y = sample_slice
    runs = []
    for _ in range(2):
        trainer = make_trainer(dropout=0.2, seed=4)
        history = trainer.fit(x[:100], y[:100], epochs=2, batch_size=10, val_split=0.1)
        runs.append(([entry["loss"] for entry in history], [p.value for p in trainer.network.parameters()]))
    assert runs[0] == runs[1]


def test_one_epoch_is_a_step_per_batch_on_the_mean_gradient(sample_slice):
    # batch_size = all samples and no shuffling effect: one epoch is exactly one forward_backward + one step
    x, y = sample_slice[0][:20], sample_slice[1][:20]
    trainer = make_trainer()
    by_hand = Network(784, [16], 10, seed=0)
    optimizer = SGD(by_hand.parameters(), lr=0.02, momentum=0.9)
    trainer.fit(x, y, epochs=1, batch_size=20)
    by_hand.forward_backward(x.reshape(20, -1).tolist(), y.tolist())
    optimizer.step()
    ours, expected = [p.value for p in trainer.network.parameters()], [p.value for p in by_hand.parameters()]
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)


def test_evaluate_turns_dropout_off_and_restores_training_mode(sample_slice):
    x, y = sample_slice
    trainer = make_trainer(dropout=0.5)
    assert trainer.evaluate(x[:50], y[:50]) == trainer.evaluate(x[:50], y[:50])
    assert trainer.network.training
    loss, accuracy = trainer.evaluate(x[:50], y[:50])
    expected_loss, correct = trainer.network.eval().evaluate(x[:50].reshape(50, -1).tolist(), y[:50].tolist())
    assert (loss, accuracy) == pytest.approx((expected_loss, correct / 50))


def test_adam_trains_too(sample_slice):
    x, y = sample_slice
    network = Network(784, [8], 10, seed=1)
    trainer = Trainer(network, Adam(network.parameters(), lr=1e-3), quiet=True)
    history = trainer.fit(x[:100], y[:100], epochs=2, batch_size=10)
    assert history[-1]["loss"] < history[0]["loss"] and history[0]["val_loss"] is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"epochs": 0}, r"Trainer.fit: epochs must be a positive integer, got 0"),
        ({"batch_size": 0}, r"Trainer.fit: batch_size must be a positive integer, got 0"),
        ({"batch_size": 2.0}, r"Trainer.fit: batch_size must be a positive integer, got 2.0"),
        ({"y": np.zeros(3, dtype=np.int64)}, r"Trainer.fit: need as many labels as samples .*, got 5 and 3"),
        ({"val_split": 1.0}, r"train_val_split: val_fraction must be in \[0, 1\), got 1.0"),
    ],
)
def test_bad_fit_arguments_are_refused_before_training(arguments, message):
    trainer = make_trainer()
    before = [p.value for p in trainer.network.parameters()]
    call = {"x": np.zeros((5, 784)), "y": np.zeros(5, dtype=np.int64), "epochs": 1, "batch_size": 2} | arguments
    with pytest.raises(ValueError, match=message):
        trainer.fit(**call)
    assert [p.value for p in trainer.network.parameters()] == before and trainer.history == []


def test_evaluate_refuses_mismatched_samples_and_labels():
    with pytest.raises(ValueError, match=r"Trainer.evaluate: need as many labels as samples \(at least one\), got 0"):
        make_trainer().evaluate(np.zeros((0, 784)), np.zeros(0))


def test_a_non_finite_loss_stops_training_before_the_step_naming_the_epoch_and_batch(sample_slice):
    x, y = sample_slice
    trainer = make_trainer()
    trainer.network.parameters()[-1].value = math.inf  # a bias of the output layer, as a far too large step leaves it
    before = [p.value for p in trainer.network.parameters()]
    with pytest.raises(NonFiniteLossError) as error:
        trainer.fit(x, y, epochs=2, batch_size=100)
    assert str(error.value) == (
        "training diverged at epoch 1, batch 1 of 3: the loss became NaN or infinite (learning rate 0.02); "
        "try a lower learning rate"
    )
    assert [p.value for p in trainer.network.parameters()] == before and trainer.history == []
