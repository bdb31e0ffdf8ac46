"""``keras.Model``: functional (``Model(inputs, outputs)``) or subclassed (override
``call``), with the training loop of ``trainer.Trainer``."""
from __future__ import annotations

from neuroflow.keras.layers.layer import Layer
from neuroflow.keras.models import functional
from neuroflow.keras.models.trainer import Trainer
from neuroflow.util import nest


class Model(Trainer, Layer):
    """A layer with a training loop.

    >>> inputs = keras.Input(shape=(784,))
    >>> outputs = keras.layers.Dense(10)(keras.layers.Dense(64, activation="relu")(inputs))
    >>> model = keras.Model(inputs, outputs)
    """

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._functional_inputs = None
        self._functional_outputs = None
        self._nodes = None
        self.compiled = False
        self.history = None
        self.run_eagerly = False
        self._train_function = self._test_function = self._predict_function = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("A functional Model needs both `inputs` and `outputs`.")
            self._init_functional(inputs, outputs)

    def _init_functional(self, inputs, outputs):
        self._functional_inputs = inputs
        self._functional_outputs = outputs
        self._nodes = functional.build_graph(inputs, outputs)
        layers = [t._keras_history[0] for t in nest.flatten(inputs)]
        for node in self._nodes:
            if node.layer not in layers:
                layers.append(node.layer)
        self._layers = layers
        self.built = True

    @property
    def inputs(self):
        return None if self._functional_inputs is None else nest.flatten(self._functional_inputs)

    @property
    def outputs(self):
        return None if self._functional_outputs is None else \
            nest.flatten(self._functional_outputs)

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self.inputs or []]

    @property
    def layers(self):
        if self._nodes is not None:
            return list(self._layers)
        return [layer for layer in self._sublayers_and_variables()[0]]

    def get_layer(self, name=None, index=None):
        """A layer of the model by name or by index."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but the model "
                                 f"only has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in layers]}.")

    def call(self, inputs, training=None, mask=None):
        if self._nodes is None:
            raise NotImplementedError(f"Model '{self.name}' has no call(): subclass Model and "
                                      "implement call(), or build it with Model(inputs, "
                                      "outputs).")
        structure = self._functional_inputs
        if isinstance(inputs, dict) and not isinstance(structure, dict):
            names = self.input_names
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Missing data for input(s) {missing} of model "
                                 f"'{self.name}'; got keys {sorted(inputs)}")
            values = [inputs[n] for n in names]
        else:
            values = nest.flatten(inputs)
        expected = len(nest.flatten(structure))
        if len(values) != expected:
            raise ValueError(f"Model '{self.name}' expects {expected} input(s), but it "
                             f"received {len(values)} input tensors.")
        return functional.run_graph(self._nodes, structure, self._functional_outputs, values,
                                    training)

    def build(self, input_shape=None):
        if self.built:
            return
        # built first: the trace below calls this model again, which would build again
        self.built = True
        self._build_input_shape = input_shape  # saving rebuilds a subclassed model with it
        if input_shape is not None:
            try:
                functional.infer_output_shape(self, input_shape)
            except Exception:
                self.built = False
                raise

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras's table: layers, output shapes, parameter counts and the totals."""
        from neuroflow.keras.models.summary import print_summary
        print_summary(self, line_length, print_fn, show_trainable, positions=positions,
                      expand_nested=expand_nested, layer_range=layer_range)

    def get_config(self):
        from neuroflow.keras.saving.model_config import model_config
        return model_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from neuroflow.keras.saving.model_config import model_from_config
        return model_from_config(config, custom_objects, cls)

    def save(self, filepath, overwrite=True, **kwargs):
        from neuroflow.keras.saving import save_model
        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        from neuroflow.keras.saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        from neuroflow.keras.saving import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch)


Functional = Model
