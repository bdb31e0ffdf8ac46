"""Compatibility namespaces: ``nf.compat.v1`` holds TensorFlow 1's names."""
