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
# # An MLP from matrices
#
# The scalar tier computes a network one multiply at a time. Here the same network is written
# with matrices: a whole batch of images goes through a layer as **one** matrix product. We
# build a small multilayer perceptron from the vectorized tier's pieces (`Linear`, `ReLU`,
# the softmax cross-entropy), push one batch forward and backward by hand, check the
# gradients by finite differences, and train it for a few epochs on the Fashion-MNIST sample
# that ships with nnscratch.

# %%
import numpy as np

from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.common.datasets import load_dataset
from nnscratch.common.softmax import softmax
from nnscratch.testing import gradcheck_module
from nnscratch.vectorized.modules import Linear, ReLU, Sequential

data = load_dataset("sample")
print(f"training images {data.x_train.shape}, test images {data.x_test.shape}, dtype {data.x_train.dtype}")
print("classes:", ", ".join(data.classes))

# %% [markdown]
# ## Images become rows of a matrix
#
# An MLP does not know that pixels have neighbours: each 28 x 28 image is flattened into a
# row of 784 numbers, and a batch of N images is an (N, 784) matrix. The pixels are also
# normalised (minus the training mean, over the standard deviation) so that they sit around 0.

# %%
x_train = data.normalize(data.x_train).reshape(len(data.x_train), -1)
x_test = data.normalize(data.x_test).reshape(len(data.x_test), -1)
y_train, y_test = data.y_train, data.y_test
print(f"x_train {x_train.shape} {x_train.dtype}: mean {x_train.mean():+.3f}, std {x_train.std():.3f}")

# %% [markdown]
# ## One layer is one matrix product
#
# `Linear(784, 64)` holds a weight matrix W of shape (64, 784) and a bias b of shape (64,).
# For a batch X of shape (N, 784) its output is $Y = X W^T + b$, shape (N, 64): row n of Y
# is what one neuron per column computes for sample n. Below, the layer's output for a batch
# of 4 equals the product written out by hand.

# %%
layer = Linear(784, 64, seed=0)
batch = x_train[:4]
by_hand = batch @ layer.weight.data.T + layer.bias.data
print("weight", layer.weight.shape, "bias", layer.bias.shape, "->", layer.forward(batch).shape)
print("largest difference to X W^T + b:", float(np.abs(layer.forward(batch) - by_hand).max()))

# %% [markdown]
# ## The network
#
# Two hidden layers with ReLU between them, and a last `Linear` that gives one score (a
# *logit*) per class. There is no softmax layer at the end: the loss applies it, because
# softmax and cross-entropy together have a simple and numerically safe gradient.

# %%
model = Sequential(Linear(784, 128, seed=1), ReLU(), Linear(128, 64, seed=2), ReLU(), Linear(64, 10, seed=3))
print(model)
print(f"{sum(p.data.size for p in model.parameters()):,} parameters")

# %% [markdown]
# ## Forward: logits, probabilities, loss
#
# Before training, the weights are random, so the probabilities are nearly the same for every
# class (about 1/10) and the loss is close to $\ln 10 \approx 2.30$: the loss of guessing.

# %%
loss_fn = CrossEntropyLoss()
logits = model.forward(x_train[:8])
probabilities = softmax(logits, axis=1)
loss = loss_fn.forward(logits, y_train[:8])
print("logits", logits.shape, "row sums of the probabilities:", np.round(probabilities.sum(axis=1), 6))
print("probabilities of sample 0:", np.round(probabilities[0], 3))
print(f"loss {float(loss):.4f}   ln(10) = {np.log(10):.4f}")

# %% [markdown]
# ## Backward: the gradient flows back through the same matrices
#
# The gradient of the mean cross-entropy with respect to the logits is
# $(\mathrm{softmax}(z) - t) / N$, with t the one-hot target: every row is the predicted
# probabilities, minus 1 at the true class. Its rows sum to zero.
#
# Each `Linear` then turns the gradient of its output G (N, out) into
# $\partial L/\partial W = G^T X$, $\partial L/\partial b = \sum_n G_n$ and the gradient of its input
# $G W$, which the layer below receives. `Sequential.backward` just calls the layers in reverse.

# %%
grad_logits = loss_fn.backward()
onehot = np.eye(10, dtype=logits.dtype)[y_train[:8]]
print("softmax - onehot, over N, equals the loss's gradient:", np.allclose(grad_logits, (probabilities - onehot) / 8))
print(f"largest |row sum| of the gradient: {np.abs(grad_logits.sum(axis=1)).max():.1e}")
model.zero_grad()
model.backward(grad_logits)
for name, parameter in model.named_parameters():
    print(f"{name:9s} {str(parameter.shape):11s} gradient norm {np.linalg.norm(parameter.grad):.4f}")

# %% [markdown]
# ## Is the backward right? Ask central differences
#
# `gradcheck_module` nudges every input and every parameter by a tiny $\pm\varepsilon$, measures
# how the loss moves, and compares with what `backward` returned. It needs float64 (in float32
# the nudges drown in rounding) and a small network, since it runs the forward twice per
# number. No error means every gradient agreed.

# %%
small = Sequential(Linear(6, 5, seed=4), ReLU(), Linear(5, 3, seed=5)).to(np.float64)
inputs = np.random.default_rng(0).standard_normal((4, 6))
small[0].needs_input_grad = True
gradcheck_module(small, inputs)
print("gradcheck passed for the input and", len(small.parameters()), "parameter arrays")

# %% [markdown]
# ## Training
#
# Training repeats: take a batch, forward, loss, backward, and move every parameter a small step
# against its gradient (`SGD`). The `Trainer` runs that loop with shuffling, a held-out
# evaluation after each epoch and a history of the numbers. On 1,500 training images, five
# epochs take about a second.

# %%
from nnscratch.vectorized.optim import SGD
from nnscratch.vectorized.trainer import Trainer

optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9)
trainer = Trainer(model, optimizer, quiet=True, seed=0)
history = trainer.fit(x_train, y_train, epochs=5, batch_size=64, validation=(x_test, y_test))
for entry in history:
    print(
        f"epoch {entry['epoch']}: train loss {entry['loss']:.3f}, accuracy {entry['accuracy']:.1%}; "
        f"test loss {entry['val_loss']:.3f}, accuracy {entry['val_accuracy']:.1%}"
    )

# %% [markdown]
# The loss falls from the guessing level of 2.30, and the test accuracy climbs far above the 10% of
# chance. With only 1,500 training images the network soon fits the training set better than the
# test set: the gap between the two accuracies is overfitting, and the full 60,000-image
# Fashion-MNIST (`nnscratch download fashion-mnist`) closes much of it.
#
# ## What the trained network predicts
#
# The probabilities of the first test images, after training: most of the mass now sits on
# one class.

# %%
probabilities = softmax(model.forward(x_test[:5]), axis=1)
for row, label in zip(probabilities, y_test[:5], strict=True):
    guess = int(row.argmax())
    print(f"true {data.classes[label]:12s} predicted {data.classes[guess]:12s} with p = {row[guess]:.2f}")
