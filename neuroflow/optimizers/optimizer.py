"""The Keras 3 ``Optimizer`` base: variables, learning rate, clipping, weight decay, EMA.

Built-in optimizers update each variable with one fused op (``kernels.py``); custom
subclasses implement ``build(var_list)`` and ``update_step(gradient, variable, learning_rate)``
with ops and ``self.assign*``, as in Keras. The same code runs eagerly, while ``nf.function``
traces (slot variables are then created eagerly, once) and in TF1 graphs, where
``apply_gradients`` returns an op for ``Session.run``.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from neuroflow.backend import dtypes
from neuroflow.core.context import ctx, name_scope
from neuroflow.core.tensor import SymbolicTensor
from neuroflow.core.variable import Variable
from neuroflow.optimizers import clipping, kernels
from neuroflow.optimizers.saving import OptimizerSaving
from neuroflow.optimizers.schedules import LearningRateSchedule
from neuroflow.optimizers.util import auto_name, group, initial_value, tf1_graph

_ONE = np.array(1, np.int64)


def fused_weight_decay(update_step):
    """Marks a built-in ``update_step`` whose fused op applies the weight decay itself."""
    update_step.fuses_weight_decay = True
    return update_step


class Optimizer(OptimizerSaving):
    """Base class of Keras optimizers (``nf.keras.optimizers.Optimizer``).

    >>> opt = nf.keras.optimizers.SGD(learning_rate=0.1)
    >>> opt.apply_gradients([(nf.constant(1.0), w)])   # w -= 0.1 * 1.0
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps:
            if not gradient_accumulation_steps >= 2:
                raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. "
                                 f"Received: gradient_accumulation_steps="
                                 f"{gradient_accumulation_steps}")
            raise NotImplementedError("gradient_accumulation_steps is not supported by "
                                      "neuroflow optimizers yet.")
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                                 f"Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                            or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._decay_cache = {}
        with name_scope(self.name):
            self._iterations = Variable(np.int64(0), name="iteration", dtype=dtypes.int64,
                                        trainable=False)
        self._variables.append(self._iterations)
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, (float, np.floating)):
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance of "
                    "LearningRateSchedule, or a callable (that takes in the current iteration "
                    f"value and returns the corresponding learning rate value). Received "
                    f"instead: learning_rate={learning_rate}")
            with name_scope(self.name):
                self._learning_rate = Variable(np.float32(learning_rate), name="learning_rate",
                                               dtype=dtypes.float32, trainable=False)
            self._variables.append(self._learning_rate)

    # -- state ----------------------------------------------------------------------------
    @property
    def iterations(self):
        return self._iterations

    @property
    def variables(self):
        return self._variables[:]

    @property
    def learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr(self._iterations)
        if callable(lr) and not isinstance(lr, Variable):
            return lr()
        return lr

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        previous = self._learning_rate if isinstance(self._learning_rate, Variable) else None
        if isinstance(learning_rate, LearningRateSchedule) or (
                callable(learning_rate) and not isinstance(learning_rate, Variable)):
            self._learning_rate = learning_rate
        else:
            if isinstance(self._learning_rate, LearningRateSchedule):
                raise TypeError(
                    "This optimizer was created with a `LearningRateSchedule` object as its "
                    "`learning_rate` constructor argument, hence its learning rate is not "
                    "settable. If you need the learning rate to be settable, you should "
                    "instantiate the optimizer with a float `learning_rate` argument.")
            if previous is None:
                raise TypeError("This optimizer's learning rate is a callable; assign a "
                                "schedule or a callable instead of a value.")
            previous.assign(learning_rate)
            return
        if previous is not None:
            self._variables = [v for v in self._variables if v is not previous]

    def _var_key(self, variable):
        return id(variable)

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    def build(self, variables):
        """Creates the optimizer's per-variable state; called once, on the first apply."""
        if self.use_ema:
            self._model_variables_moving_average = []
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[id(variable)] = i
            if self.use_ema:
                self._model_variables_moving_average.append(
                    self.add_variable_from_reference(variable, name="average"))
        self._trainable_variables = list(variables)
        self.built = True

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="mean",
                     name=None):
        """A non-trainable optimizer variable, tracked in ``variables``."""
        dtype = dtypes.as_dtype(dtype or dtypes.float32)
        value = initial_value(initializer, tuple(shape), dtype)
        with name_scope(self.name):
            variable = Variable(value, trainable=False, name=name, dtype=dtype)
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A variable shaped and typed like ``reference_variable`` (a slot)."""
        base = getattr(reference_variable, "path", None) or str(reference_variable.name)
        base = re.sub(r":\d+$", "", base).replace("/", "_").replace(":", "_")
        return self.add_variable(reference_variable.shape, initializer,
                                 reference_variable.dtype, name=f"{base}_{name or 'var'}")

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per variable for ``name`` (a list), or for each name of a list (a tuple
        of lists)."""
        names = [name] if isinstance(name, str) else list(name)
        slots = tuple([self.add_variable_from_reference(v, n, initializer)
                       for v in trainable_variables] for n in names)
        return slots[0] if isinstance(name, str) else slots

    def _check_variables_are_known(self, variables):
        for v in variables:
            if id(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {v}. This optimizer can only be called for the "
                    "variables it was originally built with. When working with a new set of "
                    "variables, you should recreate a new optimizer instance.")

    def assign(self, variable, value):
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign_add(value)

    def assign_sub(self, variable, value):
        variable.assign_sub(value)

    # -- applying gradients -----------------------------------------------------------------
    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError(f"{type(self).__name__} must implement update_step()")

    def apply_gradients(self, grads_and_vars):
        """Applies ``(gradient, variable)`` pairs; returns ``iterations`` (in a TF1 graph, the
        op to run).

        >>> opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
        ...                         model.trainable_variables))
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, trainable_variables = zip(*pairs)
        op = self.apply(grads, trainable_variables)
        return op if op is not None else self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates ``trainable_variables`` (default: those the optimizer was built with)."""
        grads = list(grads)
        if not grads:
            return None
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first.")
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    f"match `optimizer.variables` one-to-one. Received a list of {len(grads)} "
                    f"gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                with name_scope(self.name):
                    self.build(trainable_variables)
                self.built = True
            self._check_variables_are_known(trainable_variables)
        graph = tf1_graph()
        if ctx.graph is None:
            self._apply(grads, trainable_variables)
            return None
        first = len(ctx.graph.operations)
        with name_scope(self.name):
            self._apply(grads, trainable_variables)
        if graph is None:
            return None
        updates = [op for op in graph.operations[first:] if op.op_def.stateful]
        return group(updates, self.name)

    def _apply(self, grads, trainable_variables):
        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        scale = self.loss_scale_factor
        if scale is not None:
            from neuroflow.ops.math import divide
            grads = [divide(g, scale) for g in grads]
        self._backend_apply_gradients(grads, trainable_variables)
        for variable in trainable_variables:
            constraint = getattr(variable, "constraint", None)
            if constraint is not None:
                variable.assign(constraint(variable))

    def _backend_apply_gradients(self, grads, trainable_variables):
        grads = self._clip_gradients(grads)
        if not getattr(type(self).update_step, "fuses_weight_decay", False):
            self._apply_weight_decay(trainable_variables)
        self._backend_update_step(grads, trainable_variables, self.learning_rate)
        if self.use_ema:
            for variable, average in zip(self._trainable_variables,
                                         self._model_variables_moving_average):
                kernels.apply_ema(self._iterations, variable=variable, average=average,
                                  momentum=float(self.ema_momentum),
                                  overwrite_frequency=self.ema_overwrite_frequency)
        self._iterations.assign_add(_ONE)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        for grad, variable in zip(grads, trainable_variables):
            self.update_step(grad, variable, learning_rate)

    def _filter_empty_gradients(self, grads, variables):
        if all(g is not None for g in grads):
            return grads, variables
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        missing = [v.name for g, v in zip(grads, variables) if g is None]
        warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                      "loss. If using `model.compile()`, did you forget to provide a `loss` "
                      "argument?", stacklevel=3)
        return [g for g, _ in kept], [v for _, v in kept]

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return clipping.clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clipping.clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return clipping.clip_by_value(grads, self.clipvalue)
        return grads

    # -- weight decay ----------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables (or those whose name contains one of ``var_names``) from
        weight decay; call before the optimizer is built."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or ())}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None
        self._decay_cache = {}

    def _use_weight_decay(self, variable) -> bool:
        key = id(variable)
        use = self._decay_cache.get(key)
        if use is None:
            use = not (getattr(variable, "use_weight_decay", True) is False
                       or key in self._exclude_ids
                       or (self._exclude_pattern is not None
                           and self._exclude_pattern.search(variable.name) is not None))
            self._decay_cache[key] = use
        return use

    def _weight_decay_for(self, variable) -> float:
        """The weight decay a fused rule applies to ``variable`` (0.0: none)."""
        if self.weight_decay is None or not self._use_weight_decay(variable):
            return 0.0
        return float(self.weight_decay)

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        from neuroflow.ops.math import cast, multiply, subtract
        for variable in variables:
            if self._use_weight_decay(variable):
                lr = cast(self.learning_rate, variable.dtype)
                decay = multiply(multiply(variable, float(self.weight_decay)), lr)
                variable.assign(subtract(variable, decay))

    # -- helpers ---------------------------------------------------------------------------
    def minimize(self, loss, var_list, tape=None):
        """Computes gradients of ``loss`` (a callable, or a tensor with its ``tape``) and
        applies them.

        >>> opt.minimize(lambda: (w - 3.0) ** 2, [w])
        """
        return self.apply_gradients(self.compute_gradients(loss, var_list, tape))

    def compute_gradients(self, loss, var_list, tape=None):
        """``[(gradient, variable)]`` for ``loss``: a callable, or a tensor recorded by
        ``tape`` (in a graph, a tensor alone: graph gradients)."""
        from neuroflow.core.tape import GradientTape, gradients
        if not callable(loss) and tape is None:
            if isinstance(loss, SymbolicTensor):
                variables = list(var_list() if callable(var_list) else var_list)
                return list(zip(gradients(loss, variables), variables))
            raise ValueError("`tape` is required when a `Tensor` loss is passed. Received: "
                             f"loss={loss}, tape={tape}.")
        if tape is None:
            tape = GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(list(var_list))
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        variables = list(var_list() if callable(var_list) else var_list)
        return list(zip(tape.gradient(loss, variables), variables))

    def scale_loss(self, loss):
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, overwrites the model variables with their moving averages."""
        if self.use_ema:
            for variable, average in zip(var_list, self._model_variables_moving_average):
                variable.assign(average)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"
