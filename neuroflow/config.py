"""``nf.config``: process settings, TensorFlow's spellings (``tf.config.threading``)."""
from __future__ import annotations

from neuroflow.backend import threads as _threads


class threading:  # noqa: N801 - TensorFlow's name for the namespace
    """How many threads one op may split its work over (``backend.threads``)."""

    @staticmethod
    def set_intra_op_parallelism_threads(num_threads: int) -> None:
        """Threads per op from now on; 0 (the default) follows the BLAS's thread count,
        which is the machine's cores unless OPENBLAS_NUM_THREADS or threadpoolctl limit it."""
        _threads.set_intra_op_threads(num_threads)

    @staticmethod
    def get_intra_op_parallelism_threads() -> int:
        """The number set; 0 when it follows the default."""
        return _threads.get_intra_op_threads()


__all__ = ["threading"]
