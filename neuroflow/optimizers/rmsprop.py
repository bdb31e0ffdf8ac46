"""RMSprop: gradients divided by a moving root mean square (optionally centered)."""
from __future__ import annotations

from neuroflow.optimizers import kernels
from neuroflow.optimizers.optimizer import Optimizer, fused_weight_decay


class RMSprop(Optimizer):
    """RMSprop (``nf.keras.optimizers.RMSprop``), epsilon inside the square root::

        v = rho * v + (1 - rho) * g**2
        w -= learning_rate * g / sqrt(v + epsilon)     (centered: v - mean(g)**2 + epsilon)

    >>> opt = nf.keras.optimizers.RMSprop(learning_rate=0.1)
    >>> opt.minimize(lambda: w ** 2 / 2.0, [w])
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    @fused_weight_decay
    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        kernels.apply_rmsprop(
            gradient, learning_rate, variable=variable, ms=self._velocities[i],
            mg=self._average_gradients[i] if self.centered else None,
            mom=self._momentums[i] if self.momentum > 0 else None, rho=float(self.rho),
            momentum=float(self.momentum), epsilon=float(self.epsilon),
            weight_decay=self._weight_decay_for(variable))

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
