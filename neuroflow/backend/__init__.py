"""The array backend: NumPy, and its dtypes. Everything above imports arrays from here."""
import numpy as np

from neuroflow.backend import dtypes

xp = np

__all__ = ["xp", "dtypes"]
