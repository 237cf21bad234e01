"""The Trainer on a slice of the bundled Fashion-MNIST sample: it learns, reports, stops early, refuses bad input."""

import math

import numpy as np
import pytest

from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.vectorized import trainer as trainer_module
from nnscratch.vectorized.losses import make_loss
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.optim import SGD, Adam
from nnscratch.vectorized.schedules import ReduceLROnPlateau, StepLR
from nnscratch.vectorized.trainer import NonFiniteLossError, Trainer

HISTORY_FIELDS = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_s"}


@pytest.fixture(scope="module")
def sample():
    """600 training and 200 test images of the bundled sample, flattened and normalised."""
    dataset = load_dataset("sample")
    x_train, x_test = (
        dataset.normalize(images[:count]).reshape(count, -1)
        for images, count in ((dataset.x_train, 600), (dataset.x_test, 200))
    )
    return x_train, dataset.y_train[:600], x_test, dataset.y_test[:200]


def small_trainer(seed=0, hidden=(32,), lr=1e-2, batchnorm=False, **options):
    manual_seed(seed)
    model = build_mlp(784, list(hidden), 10, batchnorm=batchnorm)
    return Trainer(model, Adam(model.parameters(), lr=lr), quiet=True, seed=seed, **options)


def weights(model):
    return {name: array.copy() for name, array in model.state_dict().items()}


def test_training_lowers_the_loss_and_fills_the_history(sample):
    x, y, x_test, y_test = sample
    trainer = small_trainer()
    loss_before, _ = trainer.evaluate(x_test, y_test)
    history = trainer.fit(x, y, epochs=3, batch_size=32, val_split=0.2)
    assert [entry["epoch"] for entry in history] == [1, 2, 3] and trainer.history == history
    assert all(set(entry) == HISTORY_FIELDS for entry in history)
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.7 and history[-1]["val_accuracy"] > 0.6
    assert all(entry["lr"] == 1e-2 and entry["seconds"] > 0 and entry["samples_per_s"] > 0 for entry in history)
    assert all(isinstance(entry[key], float) for entry in history for key in ("loss", "accuracy", "val_loss"))
    loss_after, accuracy_after = trainer.evaluate(x_test, y_test)
    assert loss_after < loss_before and accuracy_after > 0.6


@pytest.mark.parametrize("name", ["nll", "multi-margin"])
def test_the_loss_is_pluggable_and_every_classification_loss_trains_and_evaluates_with_itself(sample, name):
    x, y, x_test, y_test = sample
    trainer = small_trainer(loss=make_loss(name))
    history = trainer.fit(x, y, epochs=2, batch_size=32)
    assert history[-1]["loss"] < history[0]["loss"] and history[-1]["accuracy"] > 0.6
    loss, _ = trainer.evaluate(x_test, y_test)
    assert math.isclose(loss, float(make_loss(name).forward(trainer.predict_logits(x_test), y_test)), rel_tol=1e-5)


def test_history_without_validation_has_no_val_values(sample):
    x, y, _, _ = sample
    (entry,) = small_trainer().fit(x[:100], y[:100], epochs=1, batch_size=64)
    assert entry["val_loss"] is None and entry["val_accuracy"] is None


def test_the_same_seed_gives_the_same_run(sample):
    x, y, _, _ = sample
    first, second = small_trainer(seed=3), small_trainer(seed=3)
    losses = [entry["loss"] for entry in first.fit(x[:200], y[:200], epochs=2, batch_size=50)]
    assert losses == [entry["loss"] for entry in second.fit(x[:200], y[:200], epochs=2, batch_size=50)]
    for name, array in weights(first.model).items():
        np.testing.assert_array_equal(array, second.model.state_dict()[name], err_msg=name)


def test_epoch_loss_and_accuracy_are_the_averages_over_the_samples(sample, monkeypatch):
    x, y, _, _ = sample
    trainer = small_trainer()
    seen = []
    train_batch = trainer._train_batch

    def spy(inputs, targets, batch, num_batches):
        loss, logits = train_batch(inputs, targets, batch, num_batches)
        seen.append((float(loss), int((logits.argmax(axis=1) == targets).sum()), len(targets)))
        return loss, logits

    monkeypatch.setattr(trainer, "_train_batch", spy)
    (entry,) = trainer.fit(x[:150], y[:150], epochs=1, batch_size=64)
    assert [size for _, _, size in seen] == [64, 64, 22]
    assert entry["loss"] == pytest.approx(sum(loss * size for loss, _, size in seen) / 150, rel=1e-6)
    assert entry["accuracy"] == sum(correct for _, correct, _ in seen) / 150


def batch_sizes_of_one_epoch(trainer, x, y, batch_size, monkeypatch):
    """The size of every batch ``fit`` trains on in one epoch."""
    sizes = []
    train_batch = trainer._train_batch

    def spy(inputs, targets, batch, num_batches):
        sizes.append(len(targets))
        return train_batch(inputs, targets, batch, num_batches)

    monkeypatch.setattr(trainer, "_train_batch", spy)
    trainer.fit(x, y, epochs=trainer.epoch + 1, batch_size=batch_size)
    return sizes


@pytest.mark.parametrize("full_batches", [1, 3])
def test_a_batchnorm_model_trains_a_last_single_sample_within_the_batch_before(sample, monkeypatch, full_batches):
    x, y, _, _ = sample
    count = full_batches * 16 + 1
    trainer = small_trainer(hidden=(8,), batchnorm=True)
    for _ in range(2):  # every epoch, not only the first
        sizes = batch_sizes_of_one_epoch(trainer, x[:count], y[:count], 16, monkeypatch)
        assert sizes == [16] * (full_batches - 1) + [17], "the single sample joins the last full batch"
    assert all(math.isfinite(entry["loss"]) for entry in trainer.history)
    assert int(trainer.model[1].num_batches_tracked) == 2 * full_batches


def test_a_model_without_batchnorm_keeps_its_last_single_sample_batch(sample, monkeypatch):
    x, y, _, _ = sample
    assert batch_sizes_of_one_epoch(small_trainer(hidden=(8,)), x[:33], y[:33], 16, monkeypatch) == [16, 16, 1]


def test_a_batchnorm_model_with_batches_of_one_sample_is_refused_at_its_first_batch(sample):
    x, y, _, _ = sample
    trainer = small_trainer(hidden=(8,), batchnorm=True)
    before = weights(trainer.model)
    with pytest.raises(
        ValueError,
        match=r"BatchNorm1D needs more than 1 value per channel in training mode, got input of shape \(1, 8\)",
    ):
        trainer.fit(x[:4], y[:4], epochs=1, batch_size=1)
    for name, array in trainer.model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_explicit_validation_data_is_evaluated_every_epoch(sample):
    x, y, x_test, y_test = sample
    trainer = small_trainer()
    history = trainer.fit(x, y, epochs=2, batch_size=64, validation=(x_test, y_test))
    assert history[-1]["val_loss"] == pytest.approx(trainer.evaluate(x_test, y_test)[0])


def test_early_stopping_stops_after_patience_and_restores_the_best_weights(sample, monkeypatch):
    x, y, _, _ = sample
    trainer = small_trainer()
    scripted = iter([1.0, 0.5, 0.7, 0.8, 0.9, 0.1])  # the best epoch is 2, then 2 worse ones
    monkeypatch.setattr(trainer, "evaluate", lambda *args, **kwargs: (next(scripted), 0.5))
    snapshots = {}
    trainer.callbacks.append(lambda t, entry: snapshots.setdefault(entry["epoch"], weights(t.model)))
    history = trainer.fit(x[:200], y[:200], epochs=6, batch_size=50, val_split=0.1, early_stopping=2)
    assert [entry["epoch"] for entry in history] == [1, 2, 3, 4]
    assert trainer.stopped_early and trainer.best_epoch == 2
    for name, array in trainer.model.state_dict().items():
        np.testing.assert_array_equal(array, snapshots[2][name], err_msg=name)
    assert not np.array_equal(snapshots[4]["0.weight"], snapshots[2]["0.weight"])


def test_early_stopping_that_never_triggers_still_ends_on_the_best_weights(sample, monkeypatch):
    x, y, _, _ = sample
    trainer = small_trainer()
    scripted = iter([1.0, 0.4, 0.6])
    monkeypatch.setattr(trainer, "evaluate", lambda *args, **kwargs: (next(scripted), 0.5))
    snapshots = {}
    trainer.callbacks.append(lambda t, entry: snapshots.setdefault(entry["epoch"], weights(t.model)))
    trainer.fit(x[:200], y[:200], epochs=3, batch_size=50, val_split=0.1, early_stopping=5)
    assert not trainer.stopped_early and trainer.best_epoch == 2
    np.testing.assert_array_equal(trainer.model.state_dict()["2.weight"], snapshots[2]["2.weight"])


def test_the_schedule_steps_once_per_epoch_and_plateau_gets_the_validation_loss(sample, monkeypatch):
    x, y, _, _ = sample
    trainer = small_trainer(lr=0.1)
    trainer.schedule = StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    history = trainer.fit(x[:100], y[:100], epochs=3, batch_size=50)
    assert [entry["lr"] for entry in history] == [0.1, 0.05, 0.025]

    trainer = small_trainer()
    trainer.schedule = ReduceLROnPlateau(trainer.optimizer)
    metrics = []
    monkeypatch.setattr(trainer.schedule, "step", metrics.append)
    history = trainer.fit(x[:200], y[:200], epochs=2, batch_size=50, val_split=0.2)
    assert metrics == [entry["val_loss"] for entry in history]
    trainer.fit(x[:100], y[:100], epochs=3, batch_size=50)  # a third epoch, without validation: the training loss
    assert metrics[-1] == trainer.history[-1]["loss"]


def test_gradient_clipping_runs_on_every_batch(sample, monkeypatch):
    x, y, _, _ = sample
    calls = []
    clip = trainer_module.clip_grad_norm
    monkeypatch.setattr(
        trainer_module, "clip_grad_norm", lambda params, max_norm: calls.append(max_norm) or clip(params, max_norm)
    )
    small_trainer(grad_clip=0.5).fit(x[:100], y[:100], epochs=1, batch_size=25)
    assert calls == [0.5] * 4


def test_callbacks_get_the_trainer_and_each_entry(sample):
    x, y, _, _ = sample
    received = []
    trainer = small_trainer(callbacks=[lambda t, entry: received.append((t, entry["epoch"]))])
    trainer.fit(x[:64], y[:64], epochs=2, batch_size=32)
    assert received == [(trainer, 1), (trainer, 2)]


def test_augment_batch_is_the_hook_a_subclass_overrides(sample):
    x, y, _, _ = sample

    class Flipping(Trainer):
        def _augment_batch(self, images):
            self.augmented = getattr(self, "augmented", 0) + len(images)
            return -images

    manual_seed(0)
    model = build_mlp(784, [8], 10)
    trainer = Flipping(model, SGD(model.parameters(), lr=0.1), quiet=True)
    trainer.fit(x[:100], y[:100], epochs=2, batch_size=30)
    assert trainer.augmented == 200


def test_evaluate_and_predict_run_in_eval_mode_keep_nothing_and_restore_the_mode(sample):
    x, y, x_test, y_test = sample
    manual_seed(0)
    trainer = Trainer(build_mlp(784, [16], 10, dropout=0.5, batchnorm=True), None, quiet=True)
    trainer.model.train()
    logits = trainer.predict_logits(x_test, batch_size=64)
    assert logits.shape == (200, 10) and logits.dtype == np.float32
    np.testing.assert_array_equal(trainer.predict(x_test), logits.argmax(axis=1))
    np.testing.assert_allclose(trainer.predict_logits(x_test, batch_size=7), logits, rtol=1e-5, atol=1e-6)
    loss, accuracy = trainer.evaluate(x_test, y_test, batch_size=64)
    log_probs = logits - logits.max(axis=1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-log_probs[np.arange(200), y_test].mean(), rel=1e-5)
    assert accuracy == (logits.argmax(axis=1) == y_test).mean()
    assert trainer.model.training and int(trainer.model[1].num_batches_tracked) == 0
    with pytest.raises(RuntimeError, match=r"called before forward\(\)"):
        trainer.model.backward(np.ones((200, 10), dtype=np.float32))


def test_divergence_is_an_error_naming_the_epoch_and_batch(sample):
    x, y, _, _ = sample
    trainer = small_trainer()
    trainer.model[0].weight.data[0, 0] = np.nan
    with pytest.raises(NonFiniteLossError, match=r"training diverged at epoch 1, batch 1 of 4: the network's outputs"):
        trainer.fit(x[:100], y[:100], epochs=2, batch_size=25)


def test_a_non_finite_loss_is_caught_at_the_end_of_the_epoch_with_its_batch(sample):
    x, y, _, _ = sample

    class ExplodingLoss(trainer_module.CrossEntropyLoss):
        calls = 0

        def forward(self, logits, targets):
            self.calls += 1
            loss = super().forward(logits, targets)
            return loss * math.inf if self.calls == 3 else loss

    trainer = small_trainer(loss=ExplodingLoss())
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1, batch 3 of 4: the loss became NaN or infinite"):
        trainer.fit(x[:100], y[:100], epochs=1, batch_size=25)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(x=np.zeros((10, 100), np.float32)), r"Linear\(in_features=784\) got input of shape \(1, 100\): expected"),
        (dict(y=np.full(10, 12)), r"labels range from 12 to 12, but the model has 10 outputs \(classes 0..9\)"),
        (dict(y=np.arange(1, 11)), r"labels range from 1 to 10, but the model has 10 outputs \(classes 0..9\)"),
        (dict(y=np.arange(-1, 9)), r"labels range from -1 to 8, but the model has 10 outputs"),
        (
            dict(validation=(np.zeros((2, 784), np.float32), np.array([0, 10]))),
            r"validation labels range from 0 to 10, but the model has 10 outputs",
        ),
        (dict(validation=(np.zeros((2, 78), np.float32), np.zeros(2, np.int64))), r"got input of shape \(1, 78\)"),
        (dict(y=np.zeros(10)), r"labels must be integer class indices, got dtype float64"),
        (dict(y=np.zeros(9, np.int64)), r"y must hold one class index per sample of x: x has shape \(10, 784\), y has"),
        (dict(x=np.zeros((0, 784), np.float32), y=np.zeros(0, np.int64)), r"Trainer.fit: x is empty"),
        (dict(epochs=0), r"Trainer.fit: epochs must be a positive integer, got 0"),
        (dict(batch_size=2.5), r"Trainer.fit: batch_size must be a positive integer, got 2.5"),
        (dict(val_split=1.0), r"Trainer.fit: val_split must be a number in \[0.0, 1.0\), got 1.0"),
        (dict(early_stopping=3), r"early_stopping needs validation data: val_split > 0 or validation="),
        (dict(early_stopping=0, val_split=0.5), r"early_stopping \(a patience in epochs\) must be a positive integer"),
        (dict(val_split=0.2, validation=(np.zeros((2, 784)), np.zeros(2, np.int64))), r"not both"),
    ],
)
def test_fit_refuses_bad_arguments_before_any_update(arguments, message):
    trainer = small_trainer()
    before = weights(trainer.model)
    call = dict(x=np.zeros((10, 784), np.float32), y=np.zeros(10, np.int64), epochs=1, batch_size=5)
    call.update(arguments)
    with pytest.raises(ValueError, match=message):
        trainer.fit(**call)
    assert trainer.epoch == 0 and trainer.history == []
    for name, array in trainer.model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_labels_up_to_one_less_than_the_number_of_outputs_are_accepted():
    trainer = small_trainer(hidden=(8,))
    labels = np.arange(10)  # every class, 0 .. 9, for a model with 10 outputs
    (entry,) = trainer.fit(
        np.zeros((10, 784), np.float32),
        labels,
        epochs=1,
        batch_size=5,
        validation=(np.zeros((10, 784), np.float32), labels),
    )
    assert math.isfinite(entry["loss"]) and math.isfinite(entry["val_loss"])


def test_the_trainer_refuses_a_summed_loss_and_a_bad_clip():
    model = build_mlp(784, [8], 10)
    with pytest.raises(ValueError, match=r"the loss must return the batch mean, got reduction='sum'"):
        Trainer(model, None, loss=trainer_module.CrossEntropyLoss(reduction="sum"))
    with pytest.raises(ValueError, match=r"grad_clip must be a finite number > 0"):
        Trainer(model, None, grad_clip=0.0)
    with pytest.raises(ValueError, match=r"Trainer: batch_size must be a positive integer, got 0"):
        Trainer(model, None).predict(np.zeros((2, 784), np.float32), batch_size=0)


def test_off_the_host_divergence_is_caught_once_per_epoch_with_its_batch_and_module(sample, monkeypatch):
    from nnscratch.common import cross_entropy

    # as on a GPU: the loss reads no value back at each batch, so the epoch's end finds the NaN
    monkeypatch.setattr(cross_entropy, "on_cpu", lambda array: False)
    x, y, _, _ = sample
    trainer = small_trainer()
    trainer.model[0].weight.data[0, 0] = np.nan
    with pytest.raises(NonFiniteLossError) as error:
        trainer.fit(x[:100], y[:100], epochs=2, batch_size=25)
    message = str(error.value)
    assert message.startswith("training diverged at epoch 1, batch 1 of 4: the loss became NaN or infinite")
    # the rest of the epoch trained on: by its end the NaN has spread to the bias
    assert "first non-finite: the parameters ['weight', 'bias'] of module '0'" in message
