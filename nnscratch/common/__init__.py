"""What every tier shares: the NumPy/CuPy backend, softmax, cross-entropy, data, progress bars."""
