"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from __future__ import annotations

from neuroflow.optimizers import kernels
from neuroflow.optimizers.optimizer import Optimizer, fused_weight_decay


class SGD(Optimizer):
    """Gradient descent with momentum (``nf.keras.optimizers.SGD``)::

        velocity = momentum * velocity - learning_rate * g
        w = w + velocity                                  (Nesterov: w + momentum * velocity
                                                            - learning_rate * g)

    >>> opt = nf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> opt.minimize(lambda: w * w, [w])
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    @fused_weight_decay
    def update_step(self, gradient, variable, learning_rate):
        decay = self._weight_decay_for(variable) if self.weight_decay is not None else 0.0
        if self.momentum != 0:
            kernels.apply_momentum(
                gradient, learning_rate, variable=variable,
                accum=self.momentums[self._trainable_variables_indices[id(variable)]],
                momentum=float(self.momentum), nesterov=bool(self.nesterov), keras=True,
                weight_decay=decay)
        else:
            kernels.apply_gradient_descent(gradient, learning_rate, variable=variable,
                                           weight_decay=decay)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
