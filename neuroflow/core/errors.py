"""TensorFlow's exception types (``nf.errors``)."""


class OpError(Exception):
    """An error raised while building or running an op."""


class InvalidArgumentError(OpError, ValueError):
    """An op received an argument of the wrong shape, dtype or value."""


class FailedPreconditionError(OpError):
    """The system is not in a state to run the op (an uninitialized variable, say)."""


class NotFoundError(OpError):
    pass


class UnimplementedError(OpError):
    pass


class InternalError(OpError):
    pass
