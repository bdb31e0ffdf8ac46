"""``neuroflow bench``: neuroflow vs PyTorch on the same workloads (see harness.py)."""
