"""Exchange with other libraries. ``torch.py``: the same model in PyTorch (torch imported only when used)."""
