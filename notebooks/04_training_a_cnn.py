# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training a CNN and reading its plots
#
# A training run ends with a number, the test accuracy, but the plots say *how* the model got
# there and *where* it still fails. This notebook trains LeNet-5 with `ConvTrainer` on the
# Fashion-MNIST sample that ships with nnscratch, then draws the three plots that
# `nnscratch train --plots` writes (with the same functions, from `nnscratch.common.plots`)
# and reads each of them.

# %%
from pathlib import Path

from IPython.display import Image

from nnscratch.common import plots
from nnscratch.common.datasets import load_dataset
from nnscratch.common.metrics import confusion_matrix, per_class_accuracy
from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.trainer import ConvTrainer
from nnscratch.vectorized.optim import SGD

data = load_dataset("sample")
out = Path("plots")  # the notebook's working folder; the PNG files land here
print(f"{len(data.x_train)} training and {len(data.x_test)} test images {data.image_shape}, {data.num_classes} classes")

# %% [markdown]
# ## The data first
#
# Always look at a few images with their labels before training: it catches wrong labels,
# upside-down images and bad normalisation before they cost a run.

# %%
Image(plots.plot_samples(data.x_train, data.y_train, data.classes, out / "samples.png", limit=16))

# %% [markdown]
# ## Training
#
# 20% of the training images are held out as a *validation* set (`val_split=0.2`, stratified
# and seeded): the model never trains on them, so their loss tells whether it generalises.
# `ConvTrainer` shifts each training image by up to 2 pixels at random (augmentation) and,
# with no schedule given, divides the learning rate by 10 halfway and again at three quarters of
# the run. Ten epochs take a few seconds.

# %%
model = build("lenet", in_channels=1, num_classes=10, image_size=28)
trainer = ConvTrainer(model, SGD(model.parameters(), lr=0.02, momentum=0.9), quiet=True, seed=0)
x_train, x_test = data.normalize(data.x_train), data.normalize(data.x_test)
history = trainer.fit(x_train, data.y_train, epochs=10, batch_size=32, val_split=0.2)
for entry in history:
    print(
        f"epoch {entry['epoch']:2d}  lr {entry['lr']:.4f}  train loss {entry['loss']:.3f}  "
        f"validation loss {entry['val_loss']:.3f}  validation accuracy {entry['val_accuracy']:.1%}"
    )

# %% [markdown]
# ## Reading the curves
#
# Left, the loss per epoch for the training batches and for the validation set; the dashed
# line is the learning rate (right axis). Right, the accuracy.
#
# - Both losses falling together: the model is still learning things that hold beyond the
#   training set.
# - The training loss still falling while the validation loss stalls or rises: overfitting.
#   With 1,200 training images this comes early; more data (the full Fashion-MNIST) or more
#   regularisation pushes it back.
# - A step down in the loss when the learning rate drops: smaller steps let SGD settle into
#   the valley it was bouncing across.
# - The training accuracy is measured on shifted images while the weights still change during
#   the epoch, so early on it can sit *below* the validation accuracy.

# %%
Image(plots.plot_history(history, out / "curves.png", title="LeNet-5 on the sample"))

# %% [markdown]
# ## Test accuracy
#
# The test images were used neither for training nor for choosing anything, so their accuracy
# is the honest estimate of how the model does on new images.

# %%
predicted = trainer.predict(x_test)
test_loss, test_accuracy = trainer.evaluate(x_test, data.y_test)
correct = round(test_accuracy * len(x_test))
print(f"test loss {test_loss:.3f}, test accuracy {test_accuracy:.1%} ({correct} of {len(x_test)})")
for name, value in zip(data.classes, per_class_accuracy(predicted, data.y_test, data.num_classes), strict=True):
    print(f"  {name:12s} {value:6.1%}")

# %% [markdown]
# ## Reading the confusion matrix
#
# Row = the true class, column = the predicted class; the diagonal holds the correct answers.
# Off the diagonal, look for the large numbers: they name the pairs of classes the model mixes
# up. On Fashion-MNIST these are usually shirt, T-shirt, pullover and coat among each other
# (similar shapes at 28 x 28 pixels), while trousers, bags and footwear are seldom confused.

# %%
matrix = confusion_matrix(predicted, data.y_test, data.num_classes)
pairs = [(matrix[t, p], data.classes[t], data.classes[p]) for t in range(10) for p in range(10) if t != p]
for count, true, guess in sorted(pairs, reverse=True)[:3]:
    print(f"{count} test images of {true} taken for {guess}")
Image(plots.plot_confusion_matrix(matrix, data.classes, out / "confusion_matrix.png"))

# %% [markdown]
# ## Reading the misclassified images
#
# The errors themselves, captioned "true -> predicted". Some are plain mistakes; others are
# images a person would hesitate over too (a shirt without visible buttons, a dark blurry
# sandal), which says that part of the remaining error is in the data, not the model.

# %%
Image(plots.plot_misclassified(data.x_test, data.y_test, predicted, data.classes, out / "misclassified.png", limit=16))

# %% [markdown]
# ## How sure was it?
#
# The softmax probability of the predicted class, split by right and wrong answers. A useful
# model is more confident when it is right; the wrong answers with high confidence are the ones
# to look at first.

# %%
from nnscratch.common.softmax import softmax

confidence = softmax(trainer.predict_logits(x_test), axis=1).max(axis=1)
right = predicted == data.y_test
print(f"mean confidence when right: {confidence[right].mean():.2f}, when wrong: {confidence[~right].mean():.2f}")
print(f"wrong answers given with p > 0.9: {int((confidence[~right] > 0.9).sum())} of {int((~right).sum())}")
print("files written:", sorted(path.name for path in out.iterdir()))
