"""The Sequentials the gallery's architectures return: ``ImageClassifier`` and ``ImageToImage``.

Both are a plain ``Sequential`` (``ImageNetwork``) that also knows the image shape it was
built for, and checks it, so feeding 3x32x32 images to a model built for 1x28x28 fails at
once with a message that says so (instead of deep inside, at the first layer whose shapes
stop fitting). ``architecture`` records how to rebuild the model: checkpoints store it. They
differ only in what comes out: class logits, or an image of the input's height and width.

The first layer sees the images, which nothing differentiates, so it is built with
``needs_input_grad = False``: backward skips dL/dx there (for a 5x5 convolution of a
one-channel image, that is most of the layer's backward) and ``model.backward`` returns None.
Set it back to True to get dL/dx, e.g. for a saliency map.
"""

from __future__ import annotations

from typing import Any

from ..modules import Module, Sequential


class ImageNetwork(Sequential):
    """Layers applied in order to images (N, C, H, W), refusing images of another shape."""

    def __init__(self, name: str, input_shape: tuple[int, int, int], *layers: Module) -> None:
        super().__init__(*layers)
        if self.layers:
            self.layers[0].needs_input_grad = False
        self.name = name
        self.input_shape = tuple(input_shape)
        self.architecture: dict[str, Any] = {"name": name}

    def extra_repr(self) -> str:
        return f"{self.name}, input_shape={self.input_shape}"

    def forward(self, x: Any) -> Any:
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            c, h, w = self.input_shape
            raise ValueError(
                f"{self.name} was built for {c}x{h}x{w} images, got input of shape {tuple(x.shape)}; "
                f"build it with in_channels={x.shape[1] if x.ndim == 4 else '?'} and image_size matching the data"
            )
        return super().forward(x)

    def __repr__(self) -> str:
        kind = type(self).__name__
        return super().__repr__().replace(f"{kind}(", f"{kind}[{self.name}](", 1)


class ImageClassifier(ImageNetwork):
    """Images (N, C, H, W) -> logits (N, num_classes): the classifiers of the gallery."""


class ImageToImage(ImageNetwork):
    """Images (N, C, H, W) -> images (N, C_out, H, W): an autoencoder's reconstruction, a
    segmentation net's mask logits; one output pixel for every input pixel."""
