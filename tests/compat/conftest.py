"""Fixtures for TF1 programs: graph mode for the test, eager mode restored afterwards."""
import pytest

import neuroflow as nf
import neuroflow.compat.v1 as tf1
from neuroflow.core import session as _session


@pytest.fixture
def tf():
    """``neuroflow.compat.v1`` in TF1 mode (a fresh default graph, eager execution off)."""
    sessions = list(_session._default_sessions)
    tf1.reset_default_graph()
    tf1.disable_eager_execution()
    try:
        yield tf1
    finally:
        for s in list(_session._default_sessions):  # InteractiveSessions left open
            if s not in sessions:
                s.close()
        tf1.enable_eager_execution()
        tf1.reset_default_graph()
        nf.random.set_seed(None)
