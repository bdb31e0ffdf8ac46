"""``keras.utils``: one-hot labels, sequence padding, seeds, dataset splitting, Progbar."""
from __future__ import annotations

from neuroflow.keras.serialization import get_registered_object, register_keras_serializable
from neuroflow.keras.utils.dataset_utils import split_dataset
from neuroflow.keras.utils.numerical_utils import normalize, to_categorical
from neuroflow.keras.utils.progbar import Progbar
from neuroflow.keras.utils.rng_utils import set_random_seed
from neuroflow.keras.utils.sequence_utils import pad_sequences


def clear_session():
    """Forgets the automatic names given so far (the next Dense layer is ``dense`` again).

    >>> keras.utils.clear_session()
    """
    from neuroflow.keras import naming
    naming.reset()


__all__ = ["Progbar", "clear_session", "get_registered_object", "normalize", "pad_sequences",
           "register_keras_serializable", "set_random_seed", "split_dataset", "to_categorical"]
