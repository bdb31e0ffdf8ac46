"""Adam and AdamW (Adam with decoupled weight decay)."""
from __future__ import annotations

from neuroflow.optimizers import kernels
from neuroflow.optimizers.optimizer import Optimizer, fused_weight_decay


class Adam(Optimizer):
    """Adam (``nf.keras.optimizers.Adam``), epsilon "hat" as in Keras::

        m = beta_1 * m + (1 - beta_1) * g;  v = beta_2 * v + (1 - beta_2) * g**2
        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w -= alpha * m / (sqrt(v) + epsilon)          (AMSGrad: sqrt(max of v so far))

    >>> opt = nf.keras.optimizers.Adam(learning_rate=1e-3)
    >>> opt.apply_gradients(zip(grads, model.trainable_variables))
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self._step_powers = None

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        # beta_1 ** t and beta_2 ** t are computed once per step, not once per variable
        self._step_powers = {}
        try:
            super()._backend_update_step(grads, trainable_variables, learning_rate)
        finally:
            self._step_powers = None

    def _powers(self, dtype):
        cache = self._step_powers
        powers = cache.get(dtype) if cache is not None else None
        if powers is None:
            powers = kernels.adam_beta_powers(self._iterations, beta_1=float(self.beta_1),
                                              beta_2=float(self.beta_2), dtype=dtype)
            if cache is not None:
                cache[dtype] = powers
        return powers

    @fused_weight_decay
    def update_step(self, gradient, variable, learning_rate):
        i = self._trainable_variables_indices[id(variable)]
        beta_1_power, beta_2_power = self._powers(variable.dtype)
        kernels.apply_adam(
            gradient, learning_rate, beta_1_power, beta_2_power, variable=variable,
            m=self._momentums[i], v=self._velocities[i],
            vhat=self._velocity_hats[i] if self.amsgrad else None, beta_1=float(self.beta_1),
            beta_2=float(self.beta_2), epsilon=float(self.epsilon),
            weight_decay=self._weight_decay_for(variable))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (``nf.keras.optimizers.AdamW``): before each update,
    ``w -= learning_rate * weight_decay * w``.

    >>> opt = nf.keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.004)
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adamw", **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
