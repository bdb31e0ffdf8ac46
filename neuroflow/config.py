"""``nf.config``: process settings, TensorFlow's spellings (``tf.config.threading``,
``tf.config.optimizer``)."""
from __future__ import annotations

from neuroflow.backend import threads as _threads
from neuroflow.core import fusion as _fusion


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


class optimizer:  # noqa: N801 - TensorFlow's name for the namespace
    """The graph compiler's optional passes, by TensorFlow's option names: "remapping"
    (fusing Conv2D + BiasAdd + Relu and similar chains into one kernel) and
    "constant_folding". Both are on by default; changes apply to plans built afterwards
    (functions traced, sessions run, models compiled later)."""

    @staticmethod
    def set_experimental_options(options: dict) -> None:
        unknown = sorted(set(options) - set(_fusion.OPTIONS))
        if unknown:
            raise ValueError(f"unknown graph optimizer option(s) {unknown}; neuroflow's "
                             f"compiler has {sorted(_fusion.OPTIONS)}")
        for name, value in options.items():
            _fusion.OPTIONS[name] = bool(value)

    @staticmethod
    def get_experimental_options() -> dict:
        return dict(_fusion.OPTIONS)


__all__ = ["threading", "optimizer"]
