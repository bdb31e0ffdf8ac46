"""Controlling gradients: ``stop_gradient`` and user-defined gradients (``custom_gradient``)."""
from __future__ import annotations

import functools

from neuroflow.core.context import ctx
from neuroflow.core.op import Spec, primitive
from neuroflow.util import nest


@primitive("StopGradient", shape=lambda x: Spec(x.shape, x.dtype), differentiable=False,
           view=True)
def _stop_gradient(x):
    return x


def stop_gradient(input, name=None):
    """The input, as a constant for differentiation: no gradient flows through it.

    >>> x = nf.Variable(2.0)
    >>> with nf.GradientTape() as t: y = x * nf.stop_gradient(x)
    >>> t.gradient(y, x).numpy()   # d(x * c)/dx with c = x held constant
    2.0
    """
    return _stop_gradient(input, name=name)


@primitive("CustomGradient", same_dtype=False,
           shape=lambda *xs, grad_fn: Spec(xs[-1].shape, xs[-1].dtype), view=True)
def _custom_gradient(*inputs, grad_fn):
    return inputs[-1]


@_custom_gradient.defgrad
def _custom_gradient_grad(op, dy):
    grads = op.attrs["grad_fn"](dy)
    grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
    n = len(op.inputs) - 1
    if len(grads) != n:
        raise ValueError(f"custom_gradient: the gradient function returned {len(grads)} "
                         f"gradients for {n} inputs")
    return grads + [None]


def custom_gradient(f):
    """Decorator: ``f(*x)`` returns ``(y, grad_fn)`` where ``grad_fn(dy)`` gives d/dx.

    >>> @nf.custom_gradient
    ... def clip_grad(x):
    ...     return nf.identity(x), lambda dy: nf.clip_by_value(dy, -1.0, 1.0)
    """
    @functools.wraps(f)
    def wrapped(*args):
        saved = ctx.tapes
        ctx.tapes = []
        try:
            y, grad_fn = f(*args)
        finally:
            ctx.tapes = saved
        if nest.is_nested(y):
            raise TypeError("custom_gradient supports functions returning one tensor")
        return _custom_gradient(*args, y, grad_fn=grad_fn)
    return wrapped


__all__ = ["stop_gradient", "custom_gradient"]
