"""Bad command-line values, each refused by the real ``nnscratch`` with one line that names the flag.

Every case runs the command in a child process on the bundled sample and checks: exit code 2,
one error line naming the argument, no traceback, and that no training began.
"""

import pytest

from .support import assert_no_training_started, assert_refused

TRAIN = ("train", "lenet", "--dataset", "sample", "--epochs", "1", "--quiet")
MLP = ("mlp", "--dataset", "sample", "--epochs", "1", "--hidden-sizes", "8", "--quiet")
SCALAR = ("scalar", "--dataset", "sample", "--epochs", "1", "--hidden-sizes", "4", "--limit-train", "100", "--quiet")

# (id, command, extra arguments, words the error line must contain)
CASES = [
    # seeds
    ("train-seed-negative", TRAIN, ["--seed", "-1"], ["--seed", "-1"]),
    ("train-seed-text", TRAIN, ["--seed", "abc"], ["--seed"]),
    ("train-seed-too-large", TRAIN, ["--seed", str(2**63)], ["--seed"]),
    ("mlp-seed-negative", MLP, ["--seed", "-5"], ["--seed"]),
    ("scalar-seed-negative", SCALAR, ["--seed", "-1"], ["--seed"]),
    # epochs and batches
    ("train-epochs-zero", TRAIN, ["--epochs", "0"], ["--epochs"]),
    ("train-epochs-negative", TRAIN, ["--epochs", "-3"], ["--epochs"]),
    ("train-epochs-fraction", TRAIN, ["--epochs", "1.5"], ["--epochs"]),
    ("train-batch-size-zero", TRAIN, ["--batch-size", "0"], ["--batch-size"]),
    ("mlp-batch-size-negative", MLP, ["--batch-size", "-5"], ["--batch-size"]),
    ("scalar-epochs-zero", SCALAR, ["--epochs", "0"], ["--epochs"]),
    ("scalar-limit-train-zero", SCALAR, ["--limit-train", "0"], ["--limit-train"]),
    # rates
    ("train-lr-nan", TRAIN, ["--lr", "nan"], ["--lr"]),
    ("train-lr-negative", TRAIN, ["--lr", "-0.1"], ["--lr"]),
    ("train-lr-infinite", TRAIN, ["--lr", "inf"], ["--lr"]),
    ("train-lr-zero", TRAIN, ["--lr", "0"], ["--lr"]),
    ("mlp-lr-nan", MLP, ["--lr", "nan"], ["--lr"]),
    ("scalar-lr-negative", SCALAR, ["--lr", "-1"], ["--lr"]),
    ("train-momentum-nan", TRAIN, ["--momentum", "nan"], ["--momentum"]),
    ("train-momentum-above-one", TRAIN, ["--momentum", "1.5"], ["--momentum"]),
    ("train-weight-decay-negative", TRAIN, ["--weight-decay", "-1"], ["--weight-decay"]),
    ("train-weight-decay-nan", TRAIN, ["--weight-decay", "nan"], ["--weight-decay"]),
    ("train-grad-clip-nan", TRAIN, ["--grad-clip", "nan"], ["--grad-clip"]),
    ("train-grad-clip-zero", TRAIN, ["--grad-clip", "0"], ["--grad-clip"]),
    ("mlp-batchnorm-with-batches-of-one", MLP, ["--batchnorm", "--batch-size", "1"], ["--batchnorm", "--batch-size"]),
    ("mlp-dropout-one", MLP, ["--dropout", "1"], ["--dropout"]),
    ("mlp-dropout-nan", MLP, ["--dropout", "nan"], ["--dropout"]),
    # validation
    ("train-val-split-one", TRAIN, ["--val-split", "1"], ["--val-split"]),
    ("train-val-split-nan", TRAIN, ["--val-split", "nan"], ["--val-split"]),
    ("train-val-split-negative", TRAIN, ["--val-split", "-0.5"], ["--val-split"]),
    ("train-val-split-no-validation-sample", TRAIN, ["--val-split", "0.0001"], ["--val-split", "no sample"]),
    ("mlp-val-split-nothing-left-to-train", MLP, ["--val-split", "0.999"], ["--val-split", "none is left"]),
    ("scalar-val-split-no-validation-sample", SCALAR, ["--val-split", "0.01"], ["--val-split", "no sample"]),
    ("train-early-stopping-without-validation", TRAIN, ["--early-stopping", "3", "--val-split", "0"], ["--val-split"]),
    ("mlp-early-stopping-zero", MLP, ["--early-stopping", "0"], ["--early-stopping"]),
    # watching
    ("train-watch-negative", TRAIN, ["--watch", "-2"], ["--watch", "-2"]),
    ("mlp-watch-text", MLP, ["--watch", "often"], ["--watch", "often"]),
    ("mlp-watch-fraction", MLP, ["--watch", "2.5"], ["--watch", "2.5"]),
    # schedules and optimizers
    ("train-warmup-negative", TRAIN, ["--schedule", "cosine", "--warmup-epochs", "-1"], ["--warmup-epochs"]),
    ("train-warmup-too-long", TRAIN, ["--schedule", "cosine", "--warmup-epochs", "5"], ["--warmup-epochs"]),
    ("mlp-warmup-without-cosine", MLP, ["--schedule", "step", "--warmup-epochs", "1", "--epochs", "3"], ["--warmup"]),
    ("train-nesterov-with-adam", TRAIN, ["--optimizer", "adam", "--nesterov"], ["--nesterov"]),
    ("scalar-nesterov-without-momentum", SCALAR, ["--nesterov", "--momentum", "0"], ["--nesterov"]),
    ("train-unknown-optimizer", TRAIN, ["--optimizer", "lion"], ["--optimizer"]),
    # losses
    ("train-unknown-loss", TRAIN, ["--loss", "hinge"], ["--loss"]),
    ("mlp-regression-loss", MLP, ["--loss", "mse"], ["--loss mse", "class labels"]),
    ("train-nll-with-cutmix", TRAIN, ["--loss", "nll", "--augment-cutmix", "1"], ["--augment-cutmix", "--loss nll"]),
    ("train-unknown-schedule", TRAIN, ["--schedule", "linear"], ["--schedule"]),
    ("train-unknown-device", TRAIN, ["--device", "tpu"], ["--device"]),
    ("train-unknown-dataset", TRAIN, ["--dataset", "imagenet"], ["--dataset"]),
    # augmentation
    ("train-cutmix-nan", TRAIN, ["--augment-cutmix", "nan"], ["--augment-cutmix"]),
    ("train-cutmix-negative", TRAIN, ["--augment-cutmix", "-1"], ["--augment-cutmix"]),
    ("train-noise-nan", TRAIN, ["--augment-noise", "nan"], ["--augment-noise"]),
    ("train-noise-negative", TRAIN, ["--augment-noise", "-0.5"], ["--augment-noise"]),
    ("train-rotate-nan", TRAIN, ["--augment-rotate", "nan"], ["--augment-rotate"]),
    ("train-rotate-negative", TRAIN, ["--augment-rotate", "-10"], ["--augment-rotate"]),
    ("train-rotate-above-180", TRAIN, ["--augment-rotate", "400"], ["--augment-rotate"]),
    ("train-magnitude-above-10", TRAIN, ["--augment-magnitude", "11"], ["--augment-magnitude"]),
    ("train-shift-negative", TRAIN, ["--augment-shift", "-1"], ["--augment-shift"]),
    ("train-shift-wider-than-the-image", TRAIN, ["--augment-shift", "30"], ["--augment-shift"]),
    ("train-cutout-negative", TRAIN, ["--augment-cutout", "-2"], ["--augment-cutout"]),
    ("train-cutout-larger-than-the-image", TRAIN, ["--augment-cutout", "40"], ["--augment-cutout"]),
    ("train-randaugment-negative", TRAIN, ["--augment-randaugment", "-1"], ["--augment-randaugment"]),
    ("train-no-augment-with-hflip", TRAIN, ["--no-augment", "--augment-hflip"], ["--no-augment", "--augment-hflip"]),
    ("train-no-augment-with-cutmix", TRAIN, ["--no-augment", "--augment-cutmix", "0.5"], ["--augment-cutmix"]),
    ("train-no-augment-with-shift", TRAIN, ["--no-augment", "--augment-shift", "1"], ["--augment-shift"]),
    ("mlp-shift-wider-than-the-image", MLP, ["--augment-shift", "28"], ["--augment-shift", "28x28"]),
    ("mlp-no-augment-with-rotate-p", MLP, ["--no-augment", "--augment-rotate-p", "0.5"], ["--augment-rotate-p"]),
    ("mlp-probability-above-1", MLP, ["--augment-noise", "0.1", "--augment-noise-p", "1.5"], ["--augment-noise-p"]),
    ("mlp-probability-nan", MLP, ["--augment-cutout", "4", "--augment-cutout-p", "nan"], ["--augment-cutout-p"]),
    ("mlp-probability-of-an-operation-that-is-off", MLP, ["--augment-rotate-p", "0.5"], ["has no effect"]),
    ("train-cutmix-p-without-cutmix", TRAIN, ["--augment-cutmix-p", "0.5"], ["--augment-cutmix is off"]),
    ("mlp-dataset-path-missing", MLP, ["--dataset", "nowhere.npz"], ["nowhere.npz", "no such file or folder"]),
    ("train-dataset-typo", TRAIN, ["--dataset", "fashion-mnst"], ["fashion-mnst", "no dataset of that name"]),
    # checkpoint flags
    ("train-save-every-without-save", TRAIN, ["--save-every", "2"], ["--save-every"]),
    ("mlp-save-every-zero", MLP, ["--save", "run.npz", "--save-every", "0"], ["--save-every"]),
    ("train-resume-missing", TRAIN, ["--resume", "missing.npz"], ["--resume", "missing.npz"]),
    ("scalar-resume-missing", SCALAR, ["--resume", "missing.npz"], ["--resume", "missing.npz"]),
    ("mlp-resume-a-folder", MLP, ["--resume", "."], ["--resume"]),
    # architecture options
    ("train-option-without-equals", TRAIN, ["--option", "width"], ["--option"]),
    ("train-option-without-key", TRAIN, ["--option", "=3"], ["--option"]),
    ("train-option-unknown", ("train", "baseline", "--dataset", "sample"), ["--option", "depth=3"], ["depth"]),
    ("train-option-negative-width", ("train", "baseline", "--dataset", "sample"), ["--option", "width=-3"], ["width"]),
    ("train-option-image-size", TRAIN, ["--option", "image_size=12"], ["--option image_size"]),
    ("train-option-bad-pool", TRAIN, ["--option", "pool=median"], ["pool"]),
    (
        "train-option-list-for-a-width",
        ("train", "baseline", "--dataset", "sample"),
        ["--option", "width=[1]"],
        ["width"],
    ),
    (
        "train-option-float-depths",
        ("train", "convnext_tiny", "--dataset", "sample"),
        ["--option", "depths=[1,1,1.5,1]"],
        ["depths"],
    ),
    ("summary-option-number-for-depths", ("summary", "convnext_tiny"), ["--option", "depths=5"], ["depths"]),
    ("summary-option-nan-width", ("summary", "efficientnet_lite0"), ["--option", "width=nan"], ["width"]),
    ("summary-option-number-for-a-switch", ("summary", "efficientnet_lite0"), ["--option", "use_se=1"], ["use_se"]),
    (
        "summary-option-too-large-for-memory",
        ("summary", "alexnet"),
        ["--option", "hidden=100000000000"],
        ["hidden", "GiB"],
    ),
    ("train-unknown-architecture", ("train", "resnet50", "--dataset", "sample"), [], ["resnet50"]),
    # layer sizes
    ("mlp-hidden-size-zero", MLP, ["--hidden-sizes", "0"], ["--hidden-sizes"]),
    ("mlp-hidden-sizes-not-numbers", MLP, ["--hidden-sizes", "256,x"], ["--hidden-sizes"]),
    ("mlp-hidden-sizes-empty", MLP, ["--hidden-sizes", ""], ["--hidden-sizes"]),
    ("mlp-too-many-activations", MLP, ["--hidden-sizes", "8,8", "--activations", "relu,tanh,gelu"], ["--activations"]),
    ("mlp-unknown-activation", MLP, ["--activations", "swish"], ["--activations", "swish"]),
    ("scalar-unknown-activation", SCALAR, ["--activations", "rleu"], ["rleu"]),
    ("scalar-hidden-size-negative", SCALAR, ["--hidden-sizes", "-4"], ["--hidden-sizes"]),
    # other commands
    ("no-command", (), [], ["COMMAND"]),
    ("unknown-command", ("fit",), [], ["fit"]),
    ("unknown-flag", MLP, ["--foo"], ["unrecognized", "--foo"]),
    ("summary-unknown-architecture", ("summary", "resnet50"), [], ["resnet50"]),
    (
        "summary-batch-too-large-for-memory",
        ("summary", "lenet"),
        ["--batch-size", "100000000"],
        ["--batch-size", "GiB"],
    ),
    ("summary-batch-size-zero", ("summary", "lenet"), ["--batch-size", "0"], ["--batch-size"]),
    ("summary-bad-option", ("summary", "lenet"), ["--option", "pool=median"], ["pool"]),
    ("summary-zero-width", ("summary", "baseline"), ["--option", "width=0"], ["width"]),
    ("evaluate-missing-checkpoint", ("evaluate", "missing.npz"), [], ["missing.npz"]),
    ("evaluate-a-folder", ("evaluate", "."), [], ["PATH"]),
    ("download-unknown-dataset", ("download", "imagenet"), [], ["imagenet"]),
]


@pytest.mark.parametrize(("command", "extra", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_bad_value_is_refused_with_one_line_naming_it(cli, command, extra, words):
    result = cli(*command, *extra)
    assert_refused(result, *words)
    assert_no_training_started(result)


# Models whose parameters alone could never fit: refused with the figure, before anything is allocated.
MEMORY_CASES = [
    ("mlp-huge-hidden-layers", ("mlp", "--dataset", "sample", "--hidden-sizes", "1000000,1000000")),
    ("scalar-huge-hidden-layer", ("scalar", "--dataset", "sample", "--hidden-sizes", "100000000")),
    ("train-huge-width", ("train", "baseline", "--dataset", "sample", "--option", "width=200000")),
    ("train-huge-resnet", ("train", "resnet18", "--dataset", "sample", "--option", "width=40000")),
]


@pytest.mark.parametrize("command", [case[1] for case in MEMORY_CASES], ids=[case[0] for case in MEMORY_CASES])
def test_a_model_too_large_for_the_memory_is_refused_with_the_figure(cli, command):
    line = assert_refused(cli(*command), "GiB")
    assert "available" in line
