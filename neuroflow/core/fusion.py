"""Op fusion ("remapping", as TensorFlow's graph optimizer calls it): the compiler replaces
a chain of ops whose intermediate values nothing else reads by one kernel that computes
the chain's result in one go, e.g. Conv2D + BiasAdd + Relu, whose bias and ReLU are applied
to each piece of the convolution's output while it is still in the cache.

Op modules register rules (``RULES``); a rule looks at the last op of a candidate chain
and returns a ``Fused`` entry, or None. The chain's ops compute the same values either way:
a fused kernel performs the same floating-point operations in the same order.
``nf.config.optimizer.set_experimental_options({"remapping": False})`` turns fusion off for
plans built afterwards.
"""
from __future__ import annotations

OPTIONS = {"remapping": True, "constant_folding": True}

# rule(op, inputs, chain) -> Fused | None. ``chain(tensor, type)`` is the (op, inputs) of
# the scheduled op of that type producing ``tensor`` when nothing but the candidate reads
# it, else None; ``chain(tensor, type, shared=True)`` also when other ops read it (for
# rules that only read the producer's inputs and remove nothing).
RULES = []


class FusedDef:
    """What the compiler needs of an op definition: the kernel and its number of outputs."""

    __slots__ = ("name", "kernel", "num_outputs")

    def __init__(self, name, kernel, num_outputs=1):
        self.name, self.kernel, self.num_outputs = name, kernel, num_outputs


class Fused:
    """A schedule entry standing for ``ops`` (in order): it reads ``inputs`` and writes the
    last op's outputs. It carries that op's name and layer, for error messages."""

    __slots__ = ("op_def", "inputs", "attrs", "ops", "outputs", "name", "layer")

    def __init__(self, op_def, inputs, attrs, ops):
        self.op_def, self.inputs, self.attrs, self.ops = op_def, tuple(inputs), attrs, ops
        last = ops[-1]
        self.outputs, self.name = last.outputs, last.name
        self.layer = getattr(last, "layer", None)

    @property
    def type(self):
        return self.op_def.name


def fuse(schedule, fetches):
    """``schedule`` ([(op, inputs)]) with the chains that a rule matches replaced by fused
    entries, placed where the chain's last op was. ``fetches`` are read from outside."""
    if not OPTIONS["remapping"] or not RULES:
        return schedule
    producer, uses = {}, {}
    for op, inputs in schedule:
        for t in op.outputs:
            producer[t] = (op, inputs)
        for t in inputs:
            uses[t] = uses.get(t, 0) + 1
    for t in fetches:
        uses[t] = uses.get(t, 0) + 2  # never an intermediate

    def chain(tensor, op_type, shared=False):
        entry = producer.get(tensor)
        if entry is None or entry[0].type != op_type or len(entry[0].outputs) != 1 \
                or (uses.get(tensor) != 1 and not shared):
            return None
        return entry

    gone, fused = set(), {}
    for index in range(len(schedule) - 1, -1, -1):  # last ops first: the longest chains
        op, inputs = schedule[index]
        if op in gone:
            continue
        for rule in RULES:
            entry = rule(op, inputs, chain)
            if entry is not None and not any(o in gone for o in entry.ops):
                gone.update(entry.ops[:-1])
                fused[index] = entry
                break
    if not fused:
        return schedule
    return [(fused[i], fused[i].inputs) if i in fused else (op, inputs)
            for i, (op, inputs) in enumerate(schedule) if op not in gone]


__all__ = []
