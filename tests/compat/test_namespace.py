"""The compat.v1 namespace: nf.* re-exports, TF1 spellings, group/no_op/control_dependencies,
collections and initializer ops, eager/graph switching."""
import subprocess
import sys

import numpy as np
import pytest

import neuroflow as nf
import neuroflow.compat.v1 as v1


def _run(tf, fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_nf_names_are_re_exported():
    for name in ("constant", "Variable", "matmul", "reduce_sum", "float32", "int64", "zeros",
                 "reshape", "cast", "GradientTape", "function", "random", "math", "keras"):
        assert getattr(v1, name) is not None, name
    assert v1.constant is nf.constant and v1.float32 is nf.float32 and v1.matmul is nf.matmul
    assert v1.log is nf.math.log  # TF1 top-level names that TF2 moved into nf.math
    assert v1.nn.relu is nf.nn.relu
    assert "placeholder" in dir(v1) and "matmul" in dir(v1)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_op'"):
        v1.no_such_op  # noqa: B018


def test_importing_compat_v1_first_works_in_a_fresh_interpreter():
    code = ("import neuroflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "x = tf.placeholder(tf.float32, [None, 2])\n"
            "with tf.Session() as s: print(s.run(tf.reduce_sum(x), {x: [[1, 2]]}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3.0"


def test_eager_mode_is_restored_by_the_fixture(tf):
    assert not tf.executing_eagerly()
    assert nf.constant(1.0).shape == ()  # builds a node
    assert isinstance(nf.constant(1.0), nf.core.tensor.SymbolicTensor)


def test_eager_mode_is_back_after_graph_tests():
    assert v1.executing_eagerly() and nf.executing_eagerly()
    assert nf.constant(2.0).numpy() == 2.0


def test_tf1_argument_spellings(tf):
    x = tf.constant([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    fetches = {
        "indices": tf.reduce_sum(x, reduction_indices=[1]),
        "keep_dims": tf.reduce_mean(x, 0, keep_dims=True),
        "max": tf.reduce_max(x, axis=1, keepdims=True),
        "argmax": tf.argmax(x, dimension=1),
        "argmax0": tf.argmax(x),
        "arg_min": tf.arg_min(x, 1),
        "expand": tf.expand_dims(x, dim=0),
        "squeeze": tf.squeeze(tf.constant([[1.0], [2.0]]), squeeze_dims=[1]),
        "to_float": tf.to_float(tf.constant([1, 2])),
        "to_int32": tf.to_int32(tf.constant([1.7, -1.7])),
        "div_int": tf.div(tf.constant([7, -7]), 2),
        "div_float": tf.div(tf.constant([7.0, -7.0]), 2.0),
        "log": tf.log(tf.constant([1.0, np.e])),
    }
    out = _run(tf, fetches)
    np.testing.assert_array_equal(out["indices"], [9.0, 12.0])
    np.testing.assert_array_equal(out["keep_dims"], [[2.5, 3.5, 4.5]])
    np.testing.assert_array_equal(out["max"], [[5.0], [6.0]])
    np.testing.assert_array_equal(out["argmax"], [1, 2])
    assert out["argmax"].dtype == np.int64
    np.testing.assert_array_equal(out["argmax0"], [1, 0, 1])
    np.testing.assert_array_equal(out["arg_min"], [0, 1])
    assert out["expand"].shape == (1, 2, 3)
    np.testing.assert_array_equal(out["squeeze"], [1.0, 2.0])
    assert out["to_float"].dtype == np.float32
    np.testing.assert_array_equal(out["to_int32"], [1, -1])
    np.testing.assert_array_equal(out["div_int"], [3, -4])  # floor division, as Python 2
    np.testing.assert_allclose(out["div_float"], [3.5, -3.5])
    np.testing.assert_allclose(out["log"], [0.0, 1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="both 'axis' and 'reduction_indices'"):
        tf.reduce_sum(x, axis=0, reduction_indices=0)


def test_tf1_random_names(tf):
    tf.set_random_seed(3)
    fetches = [tf.random_normal([2]), tf.random_uniform([2], 0, 10, dtype=tf.int32),
               tf.truncated_normal([2], stddev=0.1), tf.random_shuffle(tf.range(4)),
               tf.multinomial(tf.log([[0.5, 0.5]]), 4)]
    first = _run(tf, fetches)
    tf.reset_default_graph()
    tf.set_random_seed(3)
    fetches = [tf.random_normal([2]), tf.random_uniform([2], 0, 10, dtype=tf.int32),
               tf.truncated_normal([2], stddev=0.1), tf.random_shuffle(tf.range(4)),
               tf.multinomial(tf.log([[0.5, 0.5]]), 4)]
    for a, b in zip(first, _run(tf, fetches)):
        np.testing.assert_array_equal(a, b)
    assert first[4].shape == (1, 4) and first[4].dtype == np.int64
    assert tf.get_seed(None)[0] == 3 and tf.get_seed(5) == (3, 5)


def test_group_runs_all_its_inputs(tf):
    a = tf.Variable(0.0)
    b = tf.Variable(10.0)
    both = tf.group(tf.assign_add(a, 1.0), tf.assign_sub(b, 1.0), name="both")
    assert both.type == "NoOp" and both.name == "both"
    nothing = tf.no_op()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(both) is None
        assert sess.run([both, nothing]) == [None, None]
        assert sess.run([a, b]) == [2.0, 8.0]


def test_group_and_no_op_are_none_eagerly():
    v = nf.Variable(1.0)
    assert v1.group(v.assign_add(1.0)) is None and v1.no_op() is None
    assert v1.global_variables_initializer() is None


def test_control_dependencies_order_updates_before_reads(tf):
    counter = tf.Variable(0.0)
    increment = tf.assign_add(counter, 1.0)
    with tf.control_dependencies([increment]):
        after = tf.identity(counter)
        doubled = counter * 2.0
    plain = counter + 0.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(after) == 1.0
        assert sess.run(doubled) == 4.0  # ran the increment again
        assert sess.run(plain) == 2.0    # outside the block: no increment
        with tf.control_dependencies(None):
            pass
    with tf.control_dependencies([increment]):
        pass
    with tf.control_dependencies([increment]):  # nested blocks add up
        with tf.control_dependencies([tf.assign_add(counter, 10.0)]):
            nested = tf.identity(counter)
    assert len(nested.op.control_inputs) == 2


def test_control_dependencies_is_a_no_op_eagerly():
    v = nf.Variable(1.0)
    with v1.control_dependencies([v.assign_add(1.0)]):
        out = v * 1.0
    assert out.numpy() == 2.0


def test_collections_and_variable_lists(tf):
    with tf.variable_scope("enc"):
        w = tf.get_variable("w", [2])
    step = tf.Variable(0, trainable=False, name="step")
    local = tf.Variable(0.0, trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES],
                        name="total")
    # as TF1: a trainable variable joins trainable_variables whatever collections= says
    tf.Variable(0.0, collections=["mine"], name="extra")
    assert [v.name for v in tf.get_collection("trainable_variables")][-1] == "extra:0"
    tf.get_collection_ref("trainable_variables").pop()
    assert [v.name for v in tf.global_variables()] == ["enc/w:0", "step:0"]
    assert [v.name for v in tf.trainable_variables()] == ["enc/w:0"]
    assert [v.name for v in tf.global_variables(scope="enc")] == ["enc/w:0"]
    assert len(tf.local_variables()) == 1 and tf.local_variables()[0] is local
    assert isinstance(step, tf.Variable) and isinstance(nf.Variable(1.0), tf.Variable)
    tf.add_to_collection("my_items", w)
    assert tf.get_collection("my_items")[0] is w
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        assert sess.run(local) == 0.0 and sess.run(step) == 0


def test_placeholder_with_default(tf):
    x = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None])
    y = x * 2.0
    assert x.shape.as_list() == [None]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(y, {x: [5.0, 6.0, 7.0]}), [10.0, 12.0, 14.0])


def test_name_scope_v1_signature(tf):
    with tf.name_scope(None, default_name="block") as scope:
        c = tf.constant(1.0, name="c")
    assert scope == "block/" and c.op.name == "block/c"


def test_session_config_and_logging_are_accepted(tf):
    config = tf.ConfigProto(allow_soft_placement=True)
    config.gpu_options.allow_growth = True
    tf.logging.set_verbosity(tf.logging.ERROR)
    with tf.Session(config=config) as sess:
        assert sess.run(tf.constant(3.0)) == 3.0


def test_interactive_session_eval_and_run(tf):
    v = tf.Variable([1.0, 2.0])
    sess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    np.testing.assert_array_equal((v * 2.0).eval(), [2.0, 4.0])
    sess.close()


def test_gradients_and_optimizer_spellings(tf):
    x = tf.Variable(3.0)
    y = x * x
    (g,) = tf.gradients(y, [x])
    assert _run(tf, g) == 6.0


def test_tf1_nn_signatures(tf):
    logits = tf.constant([[2.0, 1.0, 0.1]])
    labels = tf.constant([[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="Only call `softmax_cross_entropy_with_logits` with "
                                         "named arguments"):
        tf.nn.softmax_cross_entropy_with_logits(labels, logits)
    v1_loss = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2_loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    soft = tf.nn.softmax(logits, dim=-1)
    # TF1's version stops the gradient into the labels; _v2 lets it through
    g1 = tf.gradients(v1_loss, [labels])[0]
    g2 = tf.gradients(v2_loss, [labels])[0]
    out = _run(tf, [v1_loss, v2_loss, soft, g2])
    assert g1 is None
    expected = -np.log(np.exp(2.0) / np.exp([2.0, 1.0, 0.1]).sum())
    np.testing.assert_allclose(out[0], [expected], rtol=1e-5)
    np.testing.assert_allclose(out[1], [expected], rtol=1e-5)
    np.testing.assert_allclose(out[2].sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out[3], -(np.array([[2.0, 1.0, 0.1]]) - np.log(
        np.exp([2.0, 1.0, 0.1]).sum())), rtol=1e-5)
