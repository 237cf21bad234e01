"""Resuming the vectorized Trainer: its state, Dropout's mask streams, fit's epoch count, and a bit-exact
resume in a new process."""

import numpy as np
import pytest

from nnscratch.common.autosave import Autosave
from nnscratch.common.checkpoint import CheckpointError, read_checkpoint
from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.vectorized import modules as modules_module
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.modules import Dropout, Linear, ReLU, Sequential
from nnscratch.vectorized.optim import Adam, make_optimizer
from nnscratch.vectorized.schedules import StepLR, make_schedule
from nnscratch.vectorized.trainer import Trainer
from tests.checkpoint_support import assert_same_state, run_python

EPOCHS = 4
CONFIGS = {
    "dropout-batchnorm-adam-lookahead-cosine-warmup-early-stopping": dict(
        batchnorm=True, dropout=0.3, optimizer="adam", lr=1e-2, lookahead=True, schedule="cosine", warmup_epochs=1,
        early_stopping=3,
    ),
    "dropout-sgd-nesterov-multistep-lookahead-clipping": dict(
        batchnorm=False, dropout=0.2, optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4,
        lookahead=True, schedule="multistep", grad_clip=1.0,
    ),
}  # fmt: skip


def sample_data():
    """300 images of the bundled sample, flattened: 240 train and 60 validation, 8 batches of 32 per epoch."""
    dataset = load_dataset("sample")
    return dataset.normalize(dataset.x_train[:300]).reshape(300, -1), dataset.y_train[:300]


def make_trainer(config, seed=7):
    manual_seed(seed)
    model = build_mlp(784, [16], 10, dropout=config["dropout"], batchnorm=config["batchnorm"])
    optimizer = make_optimizer(
        config["optimizer"],
        model.parameters(),
        config["lr"],
        config.get("momentum", 0.0),
        config.get("nesterov", False),
        config.get("weight_decay", 0.0),
        config["lookahead"],
    )
    schedule = make_schedule(config["schedule"], optimizer, EPOCHS, config.get("warmup_epochs", 0))
    return Trainer(model, optimizer, schedule=schedule, grad_clip=config.get("grad_clip"), quiet=True, seed=seed)


def train(trainer, config, epochs):
    x, y = sample_data()
    return trainer.fit(x, y, epochs, 32, val_split=0.2, early_stopping=config.get("early_stopping"))


# Another process, another seed for everything it builds: all that matters must come from the file.
RESUME_SCRIPT = """
import sys
from tests.vectorized.test_resume import CONFIGS, EPOCHS, make_trainer, train
config = CONFIGS[sys.argv[1]]
trainer = make_trainer(config, seed=99)
trainer.load_checkpoint(sys.argv[2])
train(trainer, config, EPOCHS)
trainer.save_checkpoint(sys.argv[3])
"""


def interrupt_after_epoch_2(trainer, entry):
    if entry["epoch"] == 2:
        raise KeyboardInterrupt


@pytest.mark.parametrize("name", CONFIGS)
def test_two_epochs_saved_then_resumed_in_a_new_process_equal_four_epochs_in_one_run(name, tmp_path):
    config = CONFIGS[name]
    whole = make_trainer(config)
    train(whole, config, EPOCHS)
    whole.save_checkpoint(tmp_path / "whole.npz")
    half = make_trainer(config)
    if config.get("early_stopping"):
        # A fit of 2 epochs would end its run on the best weights; cut a 4-epoch fit after epoch 2 instead,
        # with the checkpoint written by Autosave, as `nnscratch mlp --save-every 2` and Ctrl-C do.
        half.callbacks += [Autosave(tmp_path / "half.npz", every=2), interrupt_after_epoch_2]
        with pytest.raises(KeyboardInterrupt):
            train(half, config, EPOCHS)
    else:
        assert [entry["epoch"] for entry in train(half, config, 2)] == [1, 2]
        half.save_checkpoint(tmp_path / "half.npz")
    assert read_checkpoint(tmp_path / "half.npz").epoch == 2

    run_python("-c", RESUME_SCRIPT, name, str(tmp_path / "half.npz"), str(tmp_path / "resumed.npz"))
    expected, resumed = read_checkpoint(tmp_path / "whole.npz").state, read_checkpoint(tmp_path / "resumed.npz").state
    for part in ("model", "model_extra", "optimizer", "schedule"):
        assert_same_state(resumed[part], expected[part], part)
    trainer_state, expected_trainer = resumed["trainer"], expected["trainer"]
    assert trainer_state["epoch"] == EPOCHS and trainer_state["seed"] == 7
    assert_same_state(trainer_state["generators"], expected_trainer["generators"], "generators")
    assert_same_state(trainer_state["early_stopping"], expected_trainer["early_stopping"], "early_stopping")
    for field in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert [e[field] for e in trainer_state["history"]] == [e[field] for e in expected_trainer["history"]], field


def test_a_reloaded_model_predicts_exactly_what_it_predicted_before_saving(tmp_path):
    config = CONFIGS["dropout-batchnorm-adam-lookahead-cosine-warmup-early-stopping"]
    trainer = make_trainer(config)
    train(trainer, config, 2)
    dataset = load_dataset("sample")
    x_test = dataset.normalize(dataset.x_test).reshape(len(dataset.x_test), -1)
    logits = trainer.predict_logits(x_test)
    trainer.save_checkpoint(tmp_path / "run.npz")
    reloaded = make_trainer(config, seed=3)
    reloaded.load_checkpoint(tmp_path / "run.npz")
    np.testing.assert_array_equal(reloaded.predict_logits(x_test), logits)


def test_fit_trains_up_to_its_epochs_argument_and_a_finished_or_stopped_run_trains_no_more():
    config = CONFIGS["dropout-sgd-nesterov-multistep-lookahead-clipping"]
    trainer = make_trainer(config)
    assert [entry["epoch"] for entry in train(trainer, config, 1)] == [1]
    assert [entry["epoch"] for entry in train(trainer, config, 3)] == [2, 3]
    assert train(trainer, config, 3) == [] and train(trainer, config, 2) == [] and trainer.epoch == 3
    trainer.stopped_early = True
    assert train(trainer, config, 4) == [] and len(trainer.history) == 3


def test_trainer_state_round_trips_and_bad_states_are_refused_without_any_change():
    config = CONFIGS["dropout-batchnorm-adam-lookahead-cosine-warmup-early-stopping"]
    trainer = make_trainer(config)
    train(trainer, config, 2)
    state = trainer.state_dict()
    assert set(state) == {"epoch", "seed", "history", "generators", "early_stopping"}
    assert set(state["generators"]) == {"rng"} and state["early_stopping"]["best_epoch"] in (1, 2)

    fresh = make_trainer(config, seed=1)
    before = fresh.state_dict()
    broken = {**state, "generators": {"rng": {**state["generators"]["rng"], "bit_generator": "MT19937"}}}
    with pytest.raises(ValueError, match=r"Trainer.load_state_dict: generator 'rng': state must be for a PCG64"):
        fresh.load_state_dict(broken)
    misshaped = {**state, "early_stopping": {**state["early_stopping"], "best_state": {"0.weight": np.zeros(3)}}}
    with pytest.raises(ValueError, match=r"best_state missing keys: \['0.bias'.*best_state mis-shaped: 0.weight: "):
        fresh.load_state_dict(misshaped)
    with pytest.raises(ValueError, match=r"generators: unexpected keys: \['augment_rng'\]"):
        fresh.load_state_dict({**state, "generators": {**state["generators"], "augment_rng": {}}})
    assert_same_state(fresh.state_dict(), before)

    fresh.load_state_dict(state)
    assert fresh.epoch == 2 and fresh.seed == 7 and fresh.history == trainer.history
    assert fresh.rng.bit_generator.state == trainer.rng.bit_generator.state


def test_a_subclass_generator_is_found_by_walking_the_attributes():
    class Augmenting(Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.augment_rng = np.random.default_rng([self.seed, 1])

    model = build_mlp(4, [3], 2)
    first = Augmenting(model, Adam(model.parameters()), quiet=True)
    first.augment_rng.random(5)
    second = Augmenting(model, Adam(model.parameters()), quiet=True)
    assert set(first.named_generators()) == {"rng", "augment_rng"}
    second.load_state_dict(first.state_dict())
    assert second.augment_rng.random() == first.augment_rng.random()


def test_load_checkpoint_refuses_a_trainer_without_the_saved_schedule(tmp_path):
    model = build_mlp(4, [3], 2)
    optimizer = Adam(model.parameters())
    path = Trainer(model, optimizer, schedule=StepLR(optimizer, 2)).save_checkpoint(tmp_path / "run.npz")
    message = r"run\.npz: holds the state of a StepLR schedule, and this trainer has no schedule: create the same"
    with pytest.raises(CheckpointError, match=message):
        Trainer(model, optimizer).load_checkpoint(path)


# ----------------------------------------------------------------------------- Module extra state: dropout streams


def test_a_dropout_stream_restored_from_extra_state_draws_the_masks_the_original_draws_next():
    manual_seed(0)
    model = Sequential(Linear(6, 6), Dropout(0.5), ReLU(), Dropout(0.3))
    x = np.ones((4, 6), np.float32)
    model.forward(x)  # the streams are under way
    states = model.extra_state_dict()
    assert set(states) == {"1", "3"} and states["1"]["generator"]["bit_generator"] == "PCG64"
    manual_seed(5)
    copy = Sequential(Linear(6, 6), Dropout(0.5), ReLU(), Dropout(0.3))
    copy.load_state_dict(model.state_dict())
    copy.load_extra_state_dict(states)
    for _ in range(3):
        np.testing.assert_array_equal(copy.forward(x), model.forward(x))


def test_extra_state_for_other_modules_is_refused_and_nothing_changes():
    manual_seed(0)
    model = Sequential(Linear(6, 6), Dropout(0.5))
    before = model.extra_state_dict()
    with pytest.raises(ValueError, match=r"Sequential.load_extra_state_dict: missing keys: \['1'\] \| unexpected keys"):
        model.load_extra_state_dict({"2": before["1"]})
    with pytest.raises(ValueError, match=r"Dropout.load_extra_state: seed must be an integer, got 'x'"):
        model.load_extra_state_dict({"1": {"seed": "x", "generator": None}})
    with pytest.raises(ValueError, match=r"Linear keeps no extra state"):
        model[0].load_extra_state({"seed": 1})
    assert model.extra_state_dict() == before


def test_a_dropout_stream_on_the_gpu_cannot_be_saved_and_says_so(monkeypatch):
    monkeypatch.setattr(modules_module, "current_device", lambda: "gpu")
    message = r"Dropout: the mask generator of a model on the GPU is CuPy's, whose state cannot be saved, so a"
    with pytest.raises(RuntimeError, match=message + r" checkpoint could not resume with the same masks"):
        Sequential(Linear(2, 2), Dropout(0.5)).extra_state_dict()
