"""Exchange with other libraries, each imported only when used.

- ``torch.py``: the same model in PyTorch.
- ``onnx.py``: the model as an ONNX graph (``export_onnx``), for ONNX Runtime; no PyTorch involved.
"""
