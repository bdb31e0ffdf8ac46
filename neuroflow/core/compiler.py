"""The graph compiler: fetches + feeds of a graph become an execution ``Plan``.

A plan holds only the operations the fetches need, in a topological order (creation order,
which also keeps the program order of stateful ops), with constant subgraphs folded, common
subexpressions merged, and values kept in slots that are reused once a value is dead, so
intermediate arrays are released as soon as their last consumer has run.
"""
from __future__ import annotations

import functools

import numpy as np

from neuroflow.backend import threads
from neuroflow.core import debugging, errors, fusion
from neuroflow.core.debugging import STATE as numerics
from neuroflow.core.op import CONST, PLACEHOLDER
from neuroflow.core.tensor import shape_str
from neuroflow.core.variable import READ_VARIABLE
from neuroflow.core.variable import _read_kernel as read_variable_kernel


def _is_pure(op_def) -> bool:
    return not op_def.stateful and op_def is not READ_VARIABLE and op_def is not PLACEHOLDER


def _freeze(value):
    """A hashable stand-in for an attribute value, or raise TypeError."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple((k, _freeze(v)) for k, v in sorted(value.items()))
    if isinstance(value, np.ndarray):
        if value.size > 64:
            raise TypeError("large array attribute")
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    hash(value)
    return (type(value).__name__, value)


def needed_ops(fetch_ops, fed):
    """The operations the fetch ops depend on, not looking past fed tensors."""
    needed = set()
    stack = list(fetch_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op.inputs:
            if t not in fed:
                stack.append(t.op)
        stack.extend(op.control_inputs)
    return sorted(needed, key=lambda op: op.index)


class Plan:
    """An executable schedule for ``fetches`` given values for ``feeds``."""

    def __init__(self, fetches, feeds, targets=()):
        self.fetches = list(fetches)
        self.feeds = list(feeds)
        fed = set(self.feeds)
        ops = needed_ops([t.op for t in self.fetches] + list(targets), fed)
        for op in ops:
            if op.op_def is PLACEHOLDER and op.outputs[0] not in fed:
                raise errors.InvalidArgumentError(_missing_feed_message(op, self.fetches))
        alias = {}        # tensor -> canonical tensor (CSE)
        constants = {}    # canonical tensor -> folded value
        seen = {}         # CSE key -> op
        schedule = []
        variable_reads = []
        for op in ops:
            if op.op_def is PLACEHOLDER:
                continue
            if any(o in fed for o in op.outputs):
                continue
            inputs = tuple(alias.get(t, t) for t in op.inputs)
            if op.op_def is CONST:
                key = ("Const", _freeze_or_none(op.attrs))
            elif _is_pure(op.op_def):
                key = (op.op_def.name, inputs, _freeze_or_none(op.attrs))
            else:
                key = None
            if key is not None and key[-1] is not None and key in seen:
                for mine, theirs in zip(op.outputs, seen[key].outputs):
                    alias[mine] = alias.get(theirs, theirs)
                continue
            if key is not None and key[-1] is not None:
                seen[key] = op
            if op.op_def is CONST:
                constants[op.outputs[0]] = op.attrs["value"]
                continue
            if op.op_def is READ_VARIABLE:
                variable_reads.append(op)
                continue
            if _is_pure(op.op_def) and inputs and fusion.OPTIONS["constant_folding"] \
                    and _foldable(op.op_def, inputs, constants):
                values = (constants[t] if t in constants else np.zeros(t.shape, t.dtype.np_dtype)
                          for t in inputs)
                with np.errstate(all="ignore"):
                    out = op.op_def.kernel(*values, **op.attrs)
                outs = (out,) if op.op_def.num_outputs == 1 else tuple(out)
                for t, v in zip(op.outputs, outs):
                    constants[t] = v
                continue
            schedule.append((op, inputs))
        schedule = fusion.fuse(schedule, [alias.get(t, t) for t in self.fetches])
        self.num_ops = len(schedule)
        self.owned = any(threads.splits(op.type, op.outputs[0].shape.num_elements())
                         for op, _ in schedule if op.outputs)
        self._allocate(schedule, constants, alias, fed, variable_reads)

    def _allocate(self, schedule, constants, alias, fed, variable_reads):
        fetch_canon = [alias.get(t, t) for t in self.fetches]
        last_use = {}
        for position, (_op, inputs) in enumerate(schedule):
            for t in inputs:
                last_use[t] = position
        end = len(schedule)
        for t in fetch_canon:
            last_use[t] = end
        slots = {}
        free = []
        count = [0]

        def new_slot():
            if free:
                return free.pop()
            count[0] += 1
            return count[0] - 1

        template_values = {}
        for t in self.feeds:
            slots[t] = new_slot()
        used_constants = {t for op, inputs in schedule for t in inputs if t in constants}
        used_constants.update(t for t in fetch_canon if t in constants)
        for t in used_constants:
            slots[t] = new_slot()
            template_values[slots[t]] = constants[t]
        # variable reads cost nothing per step: their buffers are placed in slots at start
        self.variable_slots = []
        for op in variable_reads:
            t = op.outputs[0]
            slots[t] = new_slot()
            self.variable_slots.append((slots[t], op.attrs["variable"]))
        steps = []
        names = []
        for position, (op, inputs) in enumerate(schedule):
            in_slots = tuple(slots[t] for t in inputs)
            # inputs dying here free their slots before outputs are placed: an op's output
            # may take its input's slot (the input array stays alive until the call returns)
            dying = set()
            for t in set(inputs):
                if last_use.get(t) == position and t not in fed:
                    free.append(slots[t])
                    if _worth_releasing(t):
                        dying.add(slots[t])
            out_slots = []
            for t in op.outputs:
                slots[t] = new_slot()
                out_slots.append(slots[t])
                if t not in last_use:  # never read: the slot is free again right away
                    free.append(slots[t])
            kernel = op.op_def.kernel
            fn = functools.partial(kernel, **op.attrs) if op.attrs else kernel
            out = out_slots[0] if op.op_def.num_outputs == 1 else tuple(out_slots)
            # big values nothing reads any more are let go right after this step, not when
            # their slot is next written: the memory comes back for the ops after it
            release = tuple(sorted(dying.difference(out_slots))) or None
            steps.append((fn, in_slots, out, len(in_slots), release))
            names.append(op)
        self._raw_steps = steps
        self._step_ops = names
        self._checking = None
        self._wrap_steps()
        self.num_slots = count[0]
        template = [None] * self.num_slots
        for s, v in template_values.items():
            template[s] = v
        self.template = template
        self.feed_slots = [slots[t] for t in self.feeds]
        self.fetch_slots = [slots[t] for t in fetch_canon]
        self.fetch_copy = [_aliases_state(t, constants) for t in fetch_canon]

    def _wrap_steps(self):
        """The steps to run: with a NaN/Inf check after each op while check_numerics is on."""
        self._checking = numerics.check_numerics
        if not self._checking:
            self.steps = list(self._raw_steps)
            return
        self.steps = [(debugging.checked(step[0], op),) + step[1:]
                      for step, op in zip(self._raw_steps, self._step_ops)]

    def run(self, feed_values):
        """Runs the plan on arrays for the feeds; returns arrays for the fetches."""
        if self._checking is not numerics.check_numerics:
            self._wrap_steps()
        vals = self.template.copy()
        for s, v in zip(self.feed_slots, feed_values):
            vals[s] = v
        for s, variable in self.variable_slots:
            value = variable._value
            vals[s] = value if value is not None else read_variable_kernel(variable)
        step = None
        owned = threads.owned() if self.owned else None
        if owned is not None:
            owned.__enter__()
        try:
            for step in self.steps:
                fn, ins, out, n, release = step
                if n == 2:
                    r = fn(vals[ins[0]], vals[ins[1]])
                elif n == 1:
                    r = fn(vals[ins[0]])
                elif n == 0:
                    r = fn()
                else:
                    r = fn(*[vals[i] for i in ins])
                if type(out) is int:
                    vals[out] = r
                else:
                    for s, v in zip(out, r):
                        vals[s] = v
                if release is not None:
                    for s in release:
                        vals[s] = None
        except (ValueError, IndexError, FloatingPointError) as err:
            # an error that already names its op (a nested plan's, check_numerics') stays as
            # it is; one a kernel raised gets the op's name, as in eager mode
            if step is None or (isinstance(err, errors.OpError) and " op '" in str(err)):
                raise
            op = self._step_ops[self.steps.index(step)]
            raise errors.InvalidArgumentError(
                f"{op.type} op '{op.name}': {err} (input shapes: "
                f"{', '.join(shape_str(np.shape(vals[i])) for i in step[1])})") from err
        finally:
            if owned is not None:
                owned.__exit__()
        return [np.array(vals[s]) if copy else vals[s]
                for s, copy in zip(self.fetch_slots, self.fetch_copy)]


# Values of at least this many elements (or of unknown size) are released as soon as they
# are dead; small ones wait for their slot's next write (no per-step cost for them).
RELEASE_ELEMENTS = 1 << 16


def _worth_releasing(tensor) -> bool:
    size = tensor.shape.num_elements()
    return size is None or size >= RELEASE_ELEMENTS


def _foldable(op_def, inputs, constants) -> bool:
    """All inputs are constants, or only their (known) shapes matter."""
    shape_inputs = op_def.shape_inputs
    for position, t in enumerate(inputs):
        if t in constants:
            continue
        if (shape_inputs is True or position in shape_inputs) and t.shape.is_fully_defined():
            continue
        return False
    return True


def _freeze_or_none(attrs):
    try:
        return _freeze(attrs)
    except TypeError:
        return None


def _aliases_state(tensor, constants) -> bool:
    """True when a fetched value may share memory with a variable or a folded constant."""
    if tensor in constants:
        return True
    op = tensor.op
    while op.op_def.view:
        if op.op_def is READ_VARIABLE or op.op_def.stateful:
            return True
        if not op.inputs:
            return False
        op = op.inputs[0].op
    return op.op_def is CONST


def _missing_feed_message(placeholder_op, fetches) -> str:
    t = placeholder_op.outputs[0]
    names = ", ".join(f"'{f.name}'" for f in fetches[:3])
    return (f"You must feed a value for placeholder '{placeholder_op.name}' "
            f"(dtype {t.dtype.name}, shape {shape_str(t.shape)}): it is needed to compute "
            f"{names}. Pass it in feed_dict={{{placeholder_op.name}: ...}}.")
