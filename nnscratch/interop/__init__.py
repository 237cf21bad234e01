"""Exchange with other libraries, whose packages are imported only when a function here runs.

- ``safetensors.py``: weights as safetensors files, with PyTorch's names (``save_weights``, ``load_weights``);
- ``torch.py``: the same model as a PyTorch module (``to_torch``) and back (``from_torch``, whose
  table of conversions is ``from_torch.py``);
- ``onnx.py``: the model as an ONNX graph (``export_onnx``), for ONNX Runtime; no PyTorch involved.
"""
