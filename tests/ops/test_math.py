"""Op-table cases for elementwise math (neuroflow/ops/math.py)."""
import numpy as np

import neuroflow as nf
from tests.optable import OpCase, binary, parametrize, torch_op, unary

CASES = [
    OpCase("add", nf.add, binary(), torch_fn=torch_op("add"), ref=np.add),
    OpCase("subtract", nf.subtract, binary(), torch_fn=torch_op("sub"), ref=np.subtract),
    OpCase("multiply", nf.multiply, binary(), torch_fn=torch_op("mul"), ref=np.multiply),
    OpCase("divide", nf.divide, binary(low2=0.5, high2=2.0), torch_fn=torch_op("div"),
           ref=np.divide),
    OpCase("negative", nf.negative, unary(), torch_fn=torch_op("neg"), ref=np.negative),
]


@parametrize(CASES)
def test_op(case, check):
    check(case)
