"""Fused update rules: one stateful op per variable updates the variable and its slots in place.

Each rule takes the gradient and the per-step scalars (learning rate, Adam's beta powers) as
tensor inputs and the variables it writes as attributes, so the same op runs eagerly, inside
``nf.function`` and in TF1 graphs (``Session.run`` of the op). Kernels compute in the
variable's dtype and write with ``out=``. Like TensorFlow's resource update ops, the ops have
no outputs: nothing can alias a buffer that the next step overwrites.

The rules follow TensorFlow's training ops (``ResourceApplyAdam``, ...); Keras and
TF1 optimizers share them, differing only in attributes (Keras' momentum form, epsilons, slot
initial values).
"""
from __future__ import annotations

import threading

import numpy as np

from neuroflow.backend import jit, threads
from neuroflow.core import errors
from neuroflow.core.op import REGISTRY, OpDef, Spec, primitive
from neuroflow.core.tensor import shape_str
from neuroflow.ops import compiled


def _array(variable):
    """A variable's buffer, which every rule updates in place (never rebinds)."""
    value = variable._value
    if value is None:
        raise errors.FailedPreconditionError(
            f"Attempting to use uninitialized value {variable.name}: run its initializer "
            "(sess.run(nf.compat.v1.global_variables_initializer())) first.")
    return value


def _prepare(grad, lr, variable):
    """The variable's buffer, and the gradient and learning rate in the variable's dtype."""
    var = variable._value
    if var is None:
        _array(variable)
    if grad.shape != var.shape:
        raise ValueError(f"gradient of shape {shape_str(grad.shape)} does not match variable "
                         f"'{variable.name}' of shape {shape_str(var.shape)}")
    dtype = var.dtype
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    if getattr(lr, "dtype", None) != dtype:  # keep 0-d arrays: faster ufunc operands
        lr = np.asarray(lr, dtype)
    return var, grad, lr


_SMALL = 8192
_scratch = threading.local()


def _work(var, slot=0):
    """A scratch array shaped like ``var`` (``slot`` 0, 1: distinct ones). The buffers of
    large variables are kept and reused: a fresh temporary that size costs page faults on
    every step."""
    n = var.size
    if n < _SMALL:
        return np.empty_like(var)
    buffers = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    flat = buffers.get(var.dtype)
    end = n * (slot + 1)
    if flat is None or flat.size < end:
        flat = buffers[var.dtype] = np.empty(max(end, 2 * n), var.dtype)
    return flat[end - n:end].reshape(var.shape)


def _decay(var, weight_decay, lr, work):
    """Decoupled weight decay, as Keras: ``var -= var * weight_decay * lr``."""
    np.multiply(var, var.dtype.type(weight_decay), out=work)
    work *= lr
    var -= work


def _update_spec(grad, *scalars, variable, **attrs):
    if not grad.shape.is_compatible_with(variable.shape):
        raise ValueError(f"gradient of shape {shape_str(grad.shape)} does not match variable "
                         f"'{variable.name}' of shape {shape_str(variable.shape)}")
    for s in scalars:
        if s.shape.rank not in (None, 0):
            raise ValueError(f"learning rate and step scalars must be scalars, got shape "
                             f"{shape_str(s.shape)}")
    return []


def _rule(name):
    return primitive(name, shape=_update_spec, num_outputs=0, stateful=True,
                     same_dtype=False, differentiable=False)


@_rule("ResourceApplyGradientDescent")
def apply_gradient_descent(grad, lr, variable, weight_decay=0.0):
    """``var -= lr * grad``."""
    var, grad, lr = _prepare(grad, lr, variable)
    work = _work(var)
    if weight_decay:
        _decay(var, weight_decay, lr, work)
    np.multiply(grad, lr, out=work)
    var -= work
    return ()


@_rule("ResourceApplyMomentum")
def apply_momentum(grad, lr, variable, accum, momentum, nesterov=False, keras=True,
                   weight_decay=0.0):
    """Momentum SGD. Keras form: ``m = momentum * m - lr * g; var += m`` (Nesterov:
    ``var += momentum * m - lr * g``). TF1 form (``keras=False``): ``a = momentum * a + g;
    var -= lr * a`` (Nesterov: ``var -= lr * g + lr * momentum * a``)."""
    var, grad, lr = _prepare(grad, lr, variable)
    mu = var.dtype.type(momentum)
    m = _array(accum)
    work, step = _work(var), _work(var, 1)
    if weight_decay:
        _decay(var, weight_decay, lr, work)
    np.multiply(grad, lr, out=step)
    if keras:
        m *= mu
        m -= step
        if nesterov:
            np.multiply(m, mu, out=work)
            work -= step
            var += work
        else:
            var += m
    else:
        m *= mu
        m += grad
        if nesterov:
            np.multiply(m, mu, out=work)
            work *= lr
            step += work
            var -= step
        else:
            np.multiply(m, lr, out=work)
            var -= work
    return ()


@_rule("ResourceApplyRMSProp")
def apply_rmsprop(grad, lr, variable, ms, mg=None, mom=None, rho=0.9, momentum=0.0,
                  epsilon=1e-7, weight_decay=0.0):
    """RMSprop, epsilon inside the root (Keras 3 and TF1 alike)::

        ms = rho * ms + (1 - rho) * g**2
        mg = rho * mg + (1 - rho) * g                  (centered only)
        increment = lr * g / sqrt(ms - mg**2 + eps)    (mg = 0 when not centered)
        mom = momentum * mom + increment; var -= mom   (var -= increment without mom)
    """
    var, grad, lr = _prepare(grad, lr, variable)
    dtype = var.dtype
    rho_t, one_minus_rho = dtype.type(rho), dtype.type(1.0 - rho)
    denom, increment = _work(var), _work(var, 1)
    if weight_decay:
        _decay(var, weight_decay, lr, denom)
    ms_v = _array(ms)
    ms_v *= rho_t
    np.multiply(grad, grad, out=denom)
    denom *= one_minus_rho
    ms_v += denom
    if mg is not None:
        mg_v = _array(mg)
        mg_v *= rho_t
        np.multiply(grad, one_minus_rho, out=denom)
        mg_v += denom
        np.multiply(mg_v, mg_v, out=denom)
        np.subtract(ms_v, denom, out=denom)
        denom += dtype.type(epsilon)
    else:
        np.add(ms_v, dtype.type(epsilon), out=denom)
    np.sqrt(denom, out=denom)
    np.multiply(grad, lr, out=increment)
    increment /= denom
    if mom is not None:
        mom_v = _array(mom)
        mom_v *= dtype.type(momentum)
        mom_v += increment
        var -= mom_v
    else:
        var -= increment
    return ()


@_rule("ResourceApplyAdagrad")
def apply_adagrad(grad, lr, variable, accum, epsilon=1e-7, weight_decay=0.0):
    """``accum += g**2; var -= lr * g / sqrt(accum + eps)`` (TF1: eps = 0)."""
    var, grad, lr = _prepare(grad, lr, variable)
    denom, step = _work(var), _work(var, 1)
    if weight_decay:
        _decay(var, weight_decay, lr, denom)
    acc = _array(accum)
    np.multiply(grad, grad, out=denom)
    acc += denom
    np.add(acc, var.dtype.type(epsilon), out=denom)
    np.sqrt(denom, out=denom)
    np.multiply(grad, lr, out=step)
    step /= denom
    var -= step
    return ()


@_rule("ResourceApplyAdam")
def apply_adam(grad, lr, beta_1_power, beta_2_power, variable, m, v, vhat=None, beta_1=0.9,
               beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
    """Adam with "epsilon hat" (Keras 3 and TF1 alike), AMSGrad when ``vhat`` is given::

        alpha = lr * sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
        vhat = max(vhat, v)                          (AMSGrad)
        var -= m / (sqrt(v or vhat) + eps) * alpha
    """
    var, grad, lr = _prepare(grad, lr, variable)
    dtype = var.dtype
    one = dtype.type(1)
    alpha = lr * np.sqrt(one - dtype.type(beta_2_power)) / (one - dtype.type(beta_1_power))
    arrays = [var, grad, _array(m), _array(v)] + ([] if vhat is None else [_array(vhat)])
    consts = (dtype.type(1.0 - beta_1), dtype.type(1.0 - beta_2), dtype.type(epsilon))

    def update(var, grad, m_v, v_v, vhat_v=None):
        work = _work(var)
        if weight_decay:
            _decay(var, weight_decay, lr, work)
        np.subtract(grad, m_v, out=work)
        work *= consts[0]
        m_v += work
        np.multiply(grad, grad, out=work)
        work -= v_v
        work *= consts[1]
        v_v += work
        if vhat_v is not None:
            v_v = np.maximum(vhat_v, v_v, out=vhat_v)
        np.sqrt(v_v, out=work)
        work += consts[2]
        np.divide(m_v, work, out=work)
        work *= alpha
        var -= work

    fast = None
    if vhat is None and not weight_decay and dtype.kind == "f" and jit.available():
        scalars = consts + (dtype.type(alpha),)
        fast = lambda var, grad, m_v, v_v: compiled.adam(var, grad, m_v, v_v, *scalars)
    _split_update(update, arrays, fast)
    return ()


# A big variable is updated this many elements at a time, so that the rule's dozen passes
# run over arrays that stay in the cache (measured on a 3136 x 128 Adam update, one
# thread: 1.18 -> 0.93 ms; smaller pieces gained nothing more).
CHUNK = 1 << 17


def _split_update(update, arrays, compiled_update=None):
    """``update(*arrays)``, an elementwise in-place rule. A big contiguous variable goes
    CHUNK elements at a time, in flat parts split over the threads inside a splitting
    plan (``threads.owned``); each thread has its own scratch buffers.
    ``compiled_update``, when given, is the same rule as one compiled loop over flat
    arrays (``backend.jit``): it takes each part whole."""
    contiguous = all(a.flags.c_contiguous for a in arrays)
    if compiled_update is not None and contiguous:
        flats = [a.reshape(-1) for a in arrays]
        threads.run(lambda a, b: compiled_update(*[f[a:b] for f in flats]),
                    threads.split(flats[0].size, threads.MIN_SPLIT))
        return
    if arrays[0].size < 2 * CHUNK or not contiguous:
        update(*arrays)
        return
    flats = [a.reshape(-1) for a in arrays]

    def part(start, stop):
        for a in range(start, stop, CHUNK):
            b = min(a + CHUNK, stop)
            update(*[f[a:b] for f in flats])

    threads.run(part, threads.split(flats[0].size, threads.MIN_SPLIT))


def _beta_powers_spec(step, beta_1, beta_2, dtype):
    return [Spec((), dtype), Spec((), dtype)]


@primitive("AdamBetaPowers", shape=_beta_powers_spec, num_outputs=2, same_dtype=False,
           differentiable=False)
def adam_beta_powers(step, beta_1, beta_2, dtype):
    """``beta_1 ** (step + 1)`` and ``beta_2 ** (step + 1)`` in ``dtype`` (Keras' local step)."""
    t = dtype.np_dtype.type(step + 1)
    return (np.power(dtype.np_dtype.type(beta_1), t), np.power(dtype.np_dtype.type(beta_2), t))


@primitive("ResourceApplyEMA", shape=lambda step, **attrs: [], num_outputs=0, stateful=True,
           same_dtype=False, differentiable=False)
def apply_ema(step, variable, average, momentum, overwrite_frequency=None):
    """Keras' weight EMA: ``average = m * average + (1 - m) * var`` with ``m = 0`` on step 0,
    and ``var = average`` every ``overwrite_frequency`` steps."""
    var, avg = _array(variable), _array(average)
    dtype = var.dtype
    mu = dtype.type(momentum) if int(step) != 0 else dtype.type(0)
    work = _work(var)
    avg *= mu
    np.multiply(var, dtype.type(1) - mu, out=work)
    avg += work
    if overwrite_frequency and (int(step) + 1) % overwrite_frequency == 0:
        np.copyto(var, avg)
    return ()


def no_op_def() -> OpDef:
    """The ``NoOp`` that groups update ops for ``Session.run`` (shared with compat.v1)."""
    op_def = REGISTRY.get("NoOp")
    if op_def is None:
        op_def = OpDef("NoOp", _no_op, lambda *xs: [], num_outputs=0, differentiable=False)
    return op_def


def _no_op():
    return ()
