"""``nf.models``: the model zoo (Perceptron, and the MLP/CNN builders of ``neuroflow train``)."""
from neuroflow.models.builders import build_cnn, build_mlp  # noqa: F401
from neuroflow.models.perceptron import Perceptron  # noqa: F401
