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
# # Convolution: from im2col to LeNet-5
#
# A convolution slides a small kernel over an image and, at every position, takes the sum of
# the products of the kernel with the pixels under it. Written as loops, that is six nested
# `for`s. nnscratch's *reference* route does it differently: **im2col** copies every patch
# the kernel will see into the column of a matrix, and then the whole convolution is one
# matrix product. Its backward needs the opposite move, **col2im**, which adds each column
# back onto the pixels it came from.
#
# This notebook takes both apart on a 4 x 4 image you can read number by number, checks them
# against the plain loops and against finite differences, and then trains LeNet-5 with every
# convolution forced onto this reference route.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nnscratch.convolutional.modules import Conv2D, col2im, conv2d_naive, im2col
from nnscratch.testing import gradcheck_module


def show_matrix(axis, matrix, title):
    """Draw a 2-D array as grey squares with each value written in."""
    axis.imshow(matrix, cmap="Greys", alpha=0.6)
    for (row, col), value in np.ndenumerate(matrix):
        axis.text(col, row, f"{value:g}", ha="center", va="center", fontsize=9)
    axis.set_title(title, fontsize=10)
    axis.set_xticks([])
    axis.set_yticks([])


# %% [markdown]
# ## A tiny image and a kernel
#
# Arrays of images have the shape (N, C, H, W): samples, channels, height, width. Our batch
# holds one image of one channel, 4 x 4 pixels numbered 0 to 15, and one 3 x 3 kernel. A 3 x 3
# window fits at 2 x 2 positions of a 4 x 4 image (no padding, stride 1), so the output is 2 x 2.

# %%
image = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)  # (N, C, H, W)
kernel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]).reshape(1, 1, 3, 3)  # (F, C, kh, kw)
figure, axes = plt.subplots(1, 2, figsize=(6, 3))
show_matrix(axes[0], image[0, 0], "image (4 x 4)")
show_matrix(axes[1], kernel[0, 0], "kernel (3 x 3)")
plt.show()

# %% [markdown]
# ## im2col: every patch becomes a column
#
# `im2col` returns a matrix with one row per kernel entry (C x kh x kw = 9) and one column per
# output position (N x H' x W' = 4). Column 0 is the top-left patch (pixels 0, 1, 2, 4, 5, 6,
# 8, 9, 10), column 1 the patch one step to the right, and so on. Pixels in the middle of the
# image appear in several columns: the patches overlap.

# %%
cols = im2col(image, kernel_size=(3, 3), stride=(1, 1))
print("cols", cols.shape)
print(cols)

# %%
figure, axes = plt.subplots(1, 5, figsize=(12, 3), gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.3]})
for position, axis in enumerate(axes[:4]):
    show_matrix(axis, cols[:, position].reshape(3, 3), f"column {position} as a patch")
show_matrix(axes[4], cols, "cols (9 x 4)")
plt.show()

# %% [markdown]
# ## The convolution is one matrix product
#
# The kernel, flattened to a row of 9 numbers, times `cols` gives one number per column, i.e.
# per output position. Reshaped to (N, F, H', W') it is the convolution, and it agrees with
# `conv2d_naive`, the loop-by-loop definition every route of nnscratch is tested against.

# %%
product = kernel.reshape(1, -1) @ cols  # (F, C*kh*kw) @ (C*kh*kw, N*H'*W')
by_matrix = product.reshape(1, 1, 2, 2)
by_loops = conv2d_naive(image, kernel, None, stride=(1, 1), padding=(0, 0))
print("by the matrix product:\n", by_matrix[0, 0])
print("by loops:\n", by_loops[0, 0])
print("equal:", np.array_equal(by_matrix, by_loops))

# %% [markdown]
# This kernel is a Sobel filter: it subtracts the right column of a patch from the left one, so
# it responds to *vertical edges*. Our image brightens by 1 per step to the right, hence the same
# value, -8, everywhere. On a real image from the sample, a pair of trousers, the same kernel
# marks the left and right edges of each leg: one sign where the image turns bright from left to
# right, the other where it turns dark.

# %%
from nnscratch.common.datasets import load_dataset

data = load_dataset("sample")
trousers = int(np.flatnonzero(data.y_train == data.classes.index("Trouser"))[0])
garment = data.normalize(data.x_train[trousers : trousers + 1]).astype(np.float64)  # (1, 1, 28, 28)
layer = Conv2D(1, 1, 3, padding=1, bias=False, algorithm="im2col").to(np.float64)
layer.weight.data[...] = kernel
edges = layer.forward(garment)
figure, axes = plt.subplots(1, 2, figsize=(6, 3))
axes[0].imshow(garment[0, 0], cmap="gray")
axes[0].set_title(data.classes[data.y_train[trousers]])
strongest = np.abs(edges).max()  # a colour scale centred on 0: white where the kernel sees no edge
axes[1].imshow(edges[0, 0], cmap="RdBu", vmin=-strongest, vmax=strongest)
axes[1].set_title("after the vertical-edge kernel")
for axis in axes:
    axis.axis("off")
plt.show()

# %% [markdown]
# ## col2im: the way back
#
# The backward pass receives $\partial L/\partial y$ and must give $\partial L/\partial x$.
# With $y = W \cdot \mathrm{cols}$, the gradient of the columns is $W^T \, \partial L/\partial y$
# (shape 9 x 4), and each column then has to go back to the pixels its patch was copied from.
# A pixel that was copied into several columns receives the *sum* of their gradients. That is
# `col2im`.
#
# Feeding it a matrix of ones shows how many patches each pixel belongs to: the corners to
# one, the four middle pixels to all four.

# %%
coverage = col2im(np.ones_like(cols), (1, 1, 4, 4), kernel_size=(3, 3), stride=(1, 1))
figure, axis = plt.subplots(figsize=(3, 3))
show_matrix(axis, coverage[0, 0], "patches per pixel")
plt.show()

# %% [markdown]
# Why adding is right: `im2col` is a linear map, and col2im is its *adjoint* (its transpose).
# For any image x and any matrix c of the shape of the columns,
# $\langle \mathrm{im2col}(x), c\rangle = \langle x, \mathrm{col2im}(c)\rangle$: summing over the
# copies of a pixel on one side is the same as adding the copies back onto it on the other.

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 6, 5))
c = rng.standard_normal(im2col(x, (3, 2), (1, 2)).shape)
left = float((im2col(x, (3, 2), (1, 2)) * c).sum())
right = float((x * col2im(c, x.shape, (3, 2), (1, 2))).sum())
print(f"<im2col(x), c> = {left:.10f}\n<x, col2im(c)> = {right:.10f}")

# %% [markdown]
# ## Checking Conv2D's backward
#
# `Conv2D(..., algorithm="im2col")` runs the route we just built by hand: forward by im2col and
# one product, backward by the transposed product and col2im. Two checks:
#
# 1. its forward agrees with `conv2d_naive` (here with padding 1 and stride 2);
# 2. its backward agrees with central differences, for the input, the weight and the bias
#    (`gradcheck_module`, in float64; no error means every element agreed).

# %%
conv = Conv2D(3, 4, kernel_size=3, stride=2, padding=1, seed=0, algorithm="im2col").to(np.float64)
conv.needs_input_grad = True
x = rng.standard_normal((2, 3, 7, 7))
difference = np.abs(conv.forward(x) - conv2d_naive(x, conv.weight.data, conv.bias.data, conv.stride, conv.padding))
print(f"output {conv.forward(x).shape}; largest difference to the loops: {difference.max():.1e}")
gradcheck_module(conv, x)
print(f"gradcheck passed; the route taken: {conv.last_algorithm!r}")

# %% [markdown]
# ## LeNet-5 on the reference route
#
# LeNet-5 (LeCun et al. 1998) has two convolutions, each followed by ReLU and max pooling, and
# three fully connected layers. When nnscratch picks for itself (`algorithm="auto"`), its
# convolutions take a faster route than im2col, with the same numbers. The block
# `use_algorithm("im2col")` forces every convolution inside it onto the reference instead; each
# layer's `last_algorithm` says which route it took.

# %%
from nnscratch.convolutional.algorithms import use_algorithm
from nnscratch.convolutional.architectures import build

model = build("lenet", in_channels=1, num_classes=10, image_size=28)
convolutions = [layer for layer in model.modules() if isinstance(layer, Conv2D)]
images = data.normalize(data.x_test[:16])
logits_auto = model.forward(images)
routes_auto = [layer.last_algorithm for layer in convolutions]
with use_algorithm("im2col"):
    logits_reference = model.forward(images)
routes_reference = [layer.last_algorithm for layer in convolutions]
print("routes chosen by auto:", routes_auto)
print("routes under use_algorithm('im2col'):", routes_reference)
gap = np.abs(logits_auto - logits_reference).max()
print(f"largest difference between the logits: {gap:.1e} (the same up to float32 rounding)")

# %% [markdown]
# Now train it, every step on the reference route, for three epochs on the 1,500 images of the
# sample (a few seconds). A run this short keeps its learning rate throughout: `ConvTrainer`'s
# default schedule divides it by 10 only in runs of 4 epochs or more.

# %%
from nnscratch.convolutional.trainer import ConvTrainer
from nnscratch.vectorized.optim import SGD

trainer = ConvTrainer(model, SGD(model.parameters(), lr=0.05, momentum=0.9), quiet=True, seed=0)
x_train, x_test = data.normalize(data.x_train), data.normalize(data.x_test)
with use_algorithm("im2col"):
    history = trainer.fit(x_train, data.y_train, epochs=3, batch_size=64, validation=(x_test, data.y_test))
for entry in history:
    print(f"epoch {entry['epoch']}: train loss {entry['loss']:.3f}, test accuracy {entry['val_accuracy']:.1%}")
print("routes taken while training:", [layer.last_algorithm for layer in convolutions])

# %% [markdown]
# ## What the first layer learned to look for
#
# The six 5 x 5 kernels of the first convolution, and what each of them makes of one test
# image (its six *feature maps*, after ReLU). Some respond to edges of one orientation, some to
# bright or dark areas. A frame around a map comes from the padding: the first convolution pads
# the image with zeros, which is brighter than the normalised black background (about -0.8),
# so the border of the image reads as an edge.

# %%
with use_algorithm("im2col"):
    feature_maps = model[1].forward(model[0].forward(images[:1]))  # conv, then ReLU: (1, 6, 28, 28)
figure, axes = plt.subplots(2, 7, figsize=(12, 3.6))
axes[0, 0].imshow(images[0, 0], cmap="gray")
axes[0, 0].set_title(data.classes[data.y_test[0]], fontsize=9)
axes[1, 0].axis("off")
for index in range(6):
    axes[0, index + 1].imshow(model[0].weight.data[index, 0], cmap="RdBu")
    axes[0, index + 1].set_title(f"kernel {index}", fontsize=9)
    axes[1, index + 1].imshow(feature_maps[0, index], cmap="magma")
for axis in axes.ravel():
    axis.set_xticks([])
    axis.set_yticks([])
plt.show()
