"""Compatibility namespaces: ``nf.compat.v1`` holds TensorFlow 1's names."""
from neuroflow.compat import v1  # noqa: F401
