"""Adagrad: per-parameter learning rates shrinking with the sum of squared gradients."""
from __future__ import annotations

from neuroflow.optimizers import kernels
from neuroflow.optimizers.optimizer import Optimizer, fused_weight_decay


class Adagrad(Optimizer):
    """Adagrad (``nf.keras.optimizers.Adagrad``)::

        accumulator += g**2
        w -= learning_rate * g / sqrt(accumulator + epsilon)

    >>> opt = nf.keras.optimizers.Adagrad(learning_rate=0.1)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=float(self.initial_accumulator_value))

    @fused_weight_decay
    def update_step(self, gradient, variable, learning_rate):
        kernels.apply_adagrad(
            gradient, learning_rate, variable=variable,
            accum=self._accumulators[self._trainable_variables_indices[id(variable)]],
            epsilon=float(self.epsilon), weight_decay=self._weight_decay_for(variable))

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config
