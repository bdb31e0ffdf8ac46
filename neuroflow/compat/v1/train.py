"""TensorFlow 1 optimizers and training helpers (``tf.compat.v1.train``).

Thin wrappers over the fused update ops the Keras optimizers use, with TF1's semantics:
slot variables named ``<var>/<Optimizer>`` (initialised by ``global_variables_initializer``),
Momentum accumulating raw gradients, RMSProp's ``rms`` slot starting at one, Adagrad without
epsilon, Adam's ``beta1_power``/``beta2_power`` variables.

>>> train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
>>> sess.run(train_op, feed_dict={x: xb, y: yb})
"""
from __future__ import annotations

import re

import numpy as np

from neuroflow.core.context import ctx, name_scope
from neuroflow.core.op import convert_to_tensor
from neuroflow.core.tensor import SymbolicTensor, Tensor
from neuroflow.core.variable import ASSIGN_ADD, Variable
from neuroflow.optimizers import kernels
from neuroflow.optimizers.training_util import (  # noqa: F401  (tf.train's names)
    GLOBAL_STEP,
    cosine_decay,
    create_global_step,
    exponential_decay,
    get_global_step,
    get_or_create_global_step,
    global_step,
    inverse_time_decay,
    piecewise_constant,
    polynomial_decay,
)
from neuroflow.optimizers.util import group, root_name_scope, tf1_graph
from neuroflow.util import nest

TRAIN_OP = "train_op"


def _op_name(variable) -> str:
    return re.sub(r":\d+$", "", variable.name)


class Optimizer:
    """Base of the TF1 optimizers: ``compute_gradients`` + ``apply_gradients`` =
    ``minimize``. Subclasses create slots and apply one fused op per variable."""

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}       # slot name -> {id(variable): slot variable}
        self._non_slots = {}   # (graph or None, name) -> variable

    def get_name(self) -> str:
        return self._name

    # -- the public API ---------------------------------------------------------------------
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """Adds the ops that compute the gradients of ``loss`` and apply them; returns the
        training op (in eager mode, with a callable ``loss``, applies at once)."""
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        if not any(g is not None for g, _ in grads_and_vars):
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                f"support gradients, between variables {[v.name for _, v in grads_and_vars]} "
                f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """``[(gradient, variable)]``, gradient None where ``loss`` does not depend on the
        variable; ``var_list`` defaults to the graph's trainable variables."""
        from neuroflow.core.tape import GradientTape, gradients
        if callable(loss):
            with GradientTape() as tape:
                if var_list is not None:
                    tape.watch(nest.flatten(var_list))
                loss_value = loss()
            variables = (list(tape.watched_variables()) if var_list is None
                         else nest.flatten(var_list))
            grads = tape.gradient(loss_value, variables, output_gradients=grad_loss)
            return list(zip(grads, variables))
        if not isinstance(loss, SymbolicTensor):
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a "
                               "function when eager execution is enabled.")
        if var_list is None:
            variables = loss.graph.get_collection("trainable_variables")
        else:
            variables = nest.flatten(var_list)
        if not variables:
            raise ValueError("No variables to optimize.")
        grad_ys = None if grad_loss is None else [grad_loss]
        grads = gradients(loss, variables, grad_ys=grad_ys)
        return list(zip(grads, variables))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Applies the gradients; increments ``global_step`` afterwards when given. Returns
        the op to run in a graph (None in eager mode)."""
        pairs = tuple(grads_and_vars)
        if not pairs:
            raise ValueError("No variables provided.")
        var_list = [v for g, v in pairs if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[v.name for _, v in pairs]}.")
        with root_name_scope():
            self._create_slots(var_list)
        graph = tf1_graph()
        if ctx.graph is None or graph is None:
            self._prepare()
            for g, v in pairs:
                if g is not None:
                    self._apply_dense(g, v)
            self._finish()
            if global_step is not None:
                global_step.assign_add(np.array(1, global_step.dtype.np_dtype))
            return None
        first = len(graph.operations)
        scope = name or self._name
        with name_scope(scope):
            self._prepare()
            for g, v in pairs:
                if g is not None:
                    self._apply_dense(g, v)
            self._finish()
        updates = [op for op in graph.operations[first:] if op.op_def.stateful]
        if global_step is None:
            train_op = group(updates, scope)
        else:
            done = group(updates, "update")
            one = convert_to_tensor(np.array(1, global_step.dtype.np_dtype))
            train_op = graph.create_op(ASSIGN_ADD, (one,), {"variable": global_step}, scope,
                                       [(global_step.shape, global_step.dtype)],
                                       control_inputs=[done])
        graph.add_to_collection(TRAIN_OP, train_op)
        return train_op

    def get_slot(self, var, name):
        """The slot variable ``name`` ("m", "momentum", ...) kept for ``var``, or None."""
        return self._slots.get(name, {}).get(id(var))

    def get_slot_names(self):
        return sorted(self._slots)

    def variables(self):
        """The slot and non-slot variables this optimizer created (for the current graph)."""
        graph = tf1_graph()
        found = [v for (g, _), v in self._non_slots.items() if g is graph]
        for slots in self._slots.values():
            found.extend(v for v in slots.values() if v.graph is graph)
        return sorted(found, key=lambda v: v.name)

    # -- hooks for subclasses -----------------------------------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError

    def _finish(self):
        pass

    # -- helpers ------------------------------------------------------------------------------
    def _make_slot(self, var, slot_name, fill=0.0):
        slots = self._slots.setdefault(slot_name, {})
        slot = slots.get(id(var))
        if slot is None:
            value = np.full(tuple(var.shape), fill, var.dtype.np_dtype)
            slot = Variable(value, trainable=False, name=f"{_op_name(var)}/{self._name}")
            slots[id(var)] = slot
        return slot

    def _non_slot(self, name, initial_value, var_list):
        key = (tf1_graph(), name)
        variable = self._non_slots.get(key)
        if variable is None:
            # TF1 gives it the dtype of the first variable by name
            dtype = min(var_list, key=lambda v: v.name).dtype
            with root_name_scope():
                variable = Variable(np.asarray(initial_value, dtype.np_dtype), name=name,
                                    trainable=False)
            self._non_slots[key] = variable
        return variable

    @staticmethod
    def _scalar(value):
        """A hyperparameter as an op input: tensors and variables as they are, numbers as a
        float32 scalar (one constant per graph)."""
        if callable(value) and not isinstance(value, Variable):
            value = value()
        if isinstance(value, Tensor) or isinstance(value, Variable):
            return value
        if ctx.graph is not None:
            return convert_to_tensor(np.float32(value))
        return np.asarray(value, np.float32)


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad`` (``tf.compat.v1.train.GradientDescentOptimizer``)."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self):
        self._lr_t = self._scalar(self._learning_rate)

    def _apply_dense(self, grad, var):
        return kernels.apply_gradient_descent(grad, self._lr_t, variable=var)


class MomentumOptimizer(Optimizer):
    """``accumulation = momentum * accumulation + grad; var -= learning_rate * accumulation``
    (Nesterov: ``var -= learning_rate * (grad + momentum * accumulation)``)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._make_slot(v, "momentum")

    def _prepare(self):
        self._lr_t = self._scalar(self._learning_rate)
        momentum = self._momentum() if callable(self._momentum) else self._momentum
        self._momentum_value = float(momentum)

    def _apply_dense(self, grad, var):
        return kernels.apply_momentum(grad, self._lr_t, variable=var,
                                      accum=self.get_slot(var, "momentum"),
                                      momentum=self._momentum_value,
                                      nesterov=bool(self._use_nesterov), keras=False)


class AdamOptimizer(Optimizer):
    """Adam with TF1's bias correction folded into the step size and epsilon "hat":
    ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); var -= lr_t * m / (sqrt(v) + eps)``."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _create_slots(self, var_list):
        self._non_slot("beta1_power", self._beta1, var_list)
        self._non_slot("beta2_power", self._beta2, var_list)
        for v in var_list:
            self._make_slot(v, "m")
            self._make_slot(v, "v")

    def _get_beta_accumulators(self):
        graph = tf1_graph()
        return self._non_slots[(graph, "beta1_power")], self._non_slots[(graph, "beta2_power")]

    def _prepare(self):
        self._lr_t = self._scalar(self._lr)

    def _apply_dense(self, grad, var):
        beta1_power, beta2_power = self._get_beta_accumulators()
        return kernels.apply_adam(grad, self._lr_t, beta1_power, beta2_power, variable=var,
                                  m=self.get_slot(var, "m"), v=self.get_slot(var, "v"),
                                  beta_1=float(self._beta1), beta_2=float(self._beta2),
                                  epsilon=float(self._epsilon))

    def _finish(self):
        beta1_power, beta2_power = self._get_beta_accumulators()
        dtype = beta1_power.dtype.np_dtype
        beta1_power.assign(beta1_power * np.asarray(self._beta1, dtype))
        beta2_power.assign(beta2_power * np.asarray(self._beta2, dtype))


class RMSPropOptimizer(Optimizer):
    """RMSProp with TF1's defaults (epsilon 1e-10 inside the root, ``rms`` starting at one,
    a ``momentum`` slot always kept)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._make_slot(v, "rms", fill=1.0)
            if self._centered:
                self._make_slot(v, "mg")
            self._make_slot(v, "momentum")

    def _prepare(self):
        self._lr_t = self._scalar(self._learning_rate)

    def _apply_dense(self, grad, var):
        return kernels.apply_rmsprop(
            grad, self._lr_t, variable=var, ms=self.get_slot(var, "rms"),
            mg=self.get_slot(var, "mg") if self._centered else None,
            mom=self.get_slot(var, "momentum"), rho=float(self._decay),
            momentum=float(self._momentum), epsilon=float(self._epsilon))


class AdagradOptimizer(Optimizer):
    """``accumulator += grad**2; var -= learning_rate * grad / sqrt(accumulator)``."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._make_slot(v, "accumulator", fill=self._initial_accumulator_value)

    def _prepare(self):
        self._lr_t = self._scalar(self._learning_rate)

    def _apply_dense(self, grad, var):
        return kernels.apply_adagrad(grad, self._lr_t, variable=var,
                                     accum=self.get_slot(var, "accumulator"), epsilon=0.0)


__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer",
           "RMSPropOptimizer", "AdagradOptimizer", "get_global_step", "create_global_step",
           "get_or_create_global_step", "global_step", "exponential_decay",
           "inverse_time_decay", "polynomial_decay", "cosine_decay", "piecewise_constant"]
