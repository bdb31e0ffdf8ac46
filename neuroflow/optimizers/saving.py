"""An optimizer's config (``get_config``/``from_config``) and weights (set, save, load)."""
from __future__ import annotations

import warnings

import numpy as np

from neuroflow.core.variable import Variable
from neuroflow.optimizers.schedules import LearningRateSchedule
from neuroflow.optimizers.schedules import deserialize as deserialize_schedule
from neuroflow.optimizers.schedules import serialize as serialize_schedule


class OptimizerSaving:
    """Config and weight I/O, mixed into ``Optimizer``."""

    def get_config(self) -> dict:
        """The constructor arguments, JSON-compatible (a schedule as its serialized dict).

        >>> nf.optimizers.SGD.from_config(nf.optimizers.SGD(0.1).get_config())
        """
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            learning_rate = serialize_schedule(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.numpy())
        else:
            learning_rate = lr
        return {"name": self.name, "learning_rate": learning_rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"],
                                                           custom_objects)
        return cls(**config)

    def set_weights(self, weights):
        """Assigns arrays to ``variables``, in order."""
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet "
                             "been built. Please call `optimizer.build(trainable_variables)` "
                             "to create the optimizer weights before calling `set_weights()`.")
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(f"Optimizer variable {variable.name} has shape "
                                 f"{tuple(variable.shape)} not compatible with provided "
                                 f"weight shape {tuple(np.shape(weight))}.")
            variable.assign(weight)

    def save_own_variables(self, store):
        """Writes each variable's value to ``store["0"]``, ``store["1"]``, ..."""
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        if len(store.keys()) != len(self._variables):
            warnings.warn(f"Skipping variable loading for optimizer '{self.name}', because it "
                          f"has {len(self._variables)} variables whereas the saved optimizer "
                          f"has {len(store.keys())} variables.", stacklevel=2)
            return
        for i, variable in enumerate(self._variables):
            variable.assign(store[str(i)])
