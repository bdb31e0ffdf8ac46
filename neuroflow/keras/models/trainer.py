"""``compile``, ``fit``, ``evaluate``, ``predict``: the Keras training loop.

The train, test and predict steps are compiled with ``nf.function`` (unless
``run_eagerly=True``), so each batch runs one cached execution plan.
"""
from __future__ import annotations

import itertools

import numpy as np

from neuroflow.core.function import function
from neuroflow.core.op import convert_to_tensor
from neuroflow.core.tape import GradientTape
from neuroflow.keras.callbacks.callback import CallbackList, History, ProgbarLogger
from neuroflow.keras.models import data_adapter
from neuroflow.keras.models.compile_utils import CompileLoss, CompileMetrics
from neuroflow.util import nest


def _scalar(value):
    array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    return float(array) if array.size == 1 else array


class Trainer:
    """Mixed into ``Model``: compile and the fit / evaluate / predict loops."""

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        from neuroflow.keras import optimizers
        from neuroflow.keras.metrics import Mean
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        names = self.output_names
        self.compiled_loss = CompileLoss(loss, loss_weights, names) if loss is not None \
            else None
        self.compiled_metrics = CompileMetrics(
            metrics, names, self.compiled_loss or CompileLoss(None, None, names),
            weighted_metrics=weighted_metrics)
        self._loss_tracker = Mean(name="loss")
        self.run_eagerly = run_eagerly
        self._train_function = self._test_function = self._predict_function = None
        self.compiled = True
        self.stop_training = False

    @property
    def output_names(self):
        outputs = getattr(self, "_functional_outputs", None)
        if outputs is not None and isinstance(outputs, dict):
            return list(outputs)
        if outputs is not None and nest.is_nested(outputs) and len(nest.flatten(outputs)) > 1:
            return [t._keras_history[0].name for t in nest.flatten(outputs)]
        return ["output"]

    @property
    def metrics(self):
        if not getattr(self, "compiled", False):
            return []
        return [self._loss_tracker] + self.compiled_metrics.flat

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    # -- the steps --------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus the model's regularization losses."""
        total = None
        if self.compiled_loss is not None and y is not None:
            total = self.compiled_loss(y, y_pred, sample_weight)
        for extra in self.losses:
            total = extra if total is None else total + extra
        if total is None and self.compiled_loss is not None:
            raise ValueError(f"Model '{self.name}' was compiled with a loss, which needs "
                             "targets, but y is None: pass y=..., or a dataset that yields "
                             "(x, y) pairs.")
        if total is None:
            raise ValueError("The model has no loss: pass `loss=` to compile(), or add "
                             "losses with add_loss().")
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        """One gradient step on a batch ``(x, y, sample_weight)``; returns the metrics."""
        x, y, sample_weight = unpack(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        self._loss_tracker.update_state(loss)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(loss)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack(data)
        return self(x, training=False)

    def _compiled(self, name, step):
        cached = getattr(self, name, None)
        if cached is None:
            cached = step if self.run_eagerly else function(step)
            setattr(self, name, cached)
        return cached

    def make_train_function(self):
        return self._compiled("_train_function", self.train_step)

    def make_test_function(self):
        return self._compiled("_test_function", self.test_step)

    def make_predict_function(self):
        return self._compiled("_predict_function", self.predict_step)

    # -- the loops ----------------------------------------------------------------------
    def _require_compiled(self, what):
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"You must compile your model before {what}: call "
                               "`model.compile(optimizer, loss)`.")

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns a ``History``."""
        self._require_compiled("training it")
        verbose = 1 if verbose == "auto" else verbose
        if data_adapter.is_dataset(x):
            if validation_split:
                raise ValueError("validation_split is not supported for datasets; pass "
                                 "validation_data")
            if y is not None:
                raise ValueError(f"`y` argument is not supported when using a dataset as "
                                 f"input (the dataset yields the targets); got y of shape "
                                 f"{np.shape(y)}.")
            batches = data_adapter.DatasetBatches(x, steps_per_epoch)
        else:
            x, y = data_adapter.to_arrays(x), data_adapter.to_arrays(y)
            sample_weight = data_adapter.to_arrays(sample_weight)
            if validation_split and validation_data is None:
                (x, y, sample_weight), validation_data = data_adapter.split_validation(
                    x, y, sample_weight, validation_split)
            batches = data_adapter.ArrayBatches(x, y, sample_weight, batch_size, shuffle,
                                                class_weight, steps_per_epoch,
                                                seed=_shuffle_seed())
        history = History()
        callback_list = list(callbacks or [])
        if verbose:
            callback_list.append(ProgbarLogger(verbose))
        callback_list.append(history)
        cbs = CallbackList(callback_list, model=self, epochs=epochs, steps=len(batches) or None,
                           verbose=verbose)
        train_function = self.make_train_function()
        self.stop_training = False
        self._build_before_callbacks(batches)
        self._fit_batches = batches  # BackupAndRestore saves and restores the shuffler
        cbs.on_train_begin()
        initial_epoch, skip = self._resumed_position(batches, initial_epoch)
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            step = -1
            epoch_batches = enumerate(batches.epoch())
            if skip:  # resumed mid-epoch: the batches trained on before the backup
                step = sum(1 for _ in itertools.islice(epoch_batches, skip)) - 1
                logs, skip = {k: _scalar(v) for k, v in self.get_metrics_result().items()}, 0
            for step, batch in epoch_batches:
                cbs.on_train_batch_begin(step)
                logs = {k: _scalar(v) for k, v in train_function(_as_tensors(batch)).items()}
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if step < 0:
                raise ValueError("The training data produced no batches: the dataset is "
                                 "empty.")
            epoch_logs = dict(logs)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val_x, val_y, val_w = unpack(validation_data)
                val_logs = self.evaluate(val_x, val_y, sample_weight=val_w,
                                         batch_size=validation_batch_size or batch_size,
                                         steps=validation_steps, verbose=0, return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        self._fit_batches = None
        return history

    def _build_before_callbacks(self, batches):
        """Builds an unbuilt Sequential from its training data's shape before the callbacks
        start, as Keras does (BackupAndRestore restores weights in ``on_train_begin``); the
        first batch would make the same ``build`` call."""
        from neuroflow.keras.models.sequential import Sequential
        x = getattr(batches, "x", None)
        if not self.built and isinstance(self, Sequential) and isinstance(x, np.ndarray):
            self.build((None,) + x.shape[1:])

    def _resumed_position(self, batches, initial_epoch):
        """The epoch to start from and the batches of it to skip: a callback's
        ``on_train_begin`` (BackupAndRestore) may have restored a later position. Unless it
        restored the shuffler too (``_initial_step`` set), the shuffles of the skipped epochs
        are drawn so the batches are those an uninterrupted run would see."""
        resumed = getattr(self, "_initial_epoch", None)
        step = getattr(self, "_initial_step", None)
        self._initial_epoch = self._initial_step = None
        if resumed is None or (resumed, step or 0) <= (initial_epoch, 0):
            return initial_epoch, 0
        skip = getattr(batches, "skip_epochs", None)
        if skip is not None and step is None:
            skip(resumed - initial_epoch)
        return resumed, step or 0

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics on the given data (a list, or a dict with return_dict)."""
        self._require_compiled("evaluating it")
        verbose = 1 if verbose == "auto" else verbose
        batches = self._batches(x, y, sample_weight, batch_size, steps)
        test_function = self.make_test_function()
        cbs = CallbackList(callbacks, model=self, steps=len(batches) or None)
        self.reset_metrics()
        cbs.on_test_begin()
        logs = {}
        for step, batch in enumerate(batches.epoch()):
            cbs.on_test_batch_begin(step)
            logs = {k: _scalar(v) for k, v in test_function(_as_tensors(batch)).items()}
            cbs.on_test_batch_end(step, logs)
        if not logs:
            raise ValueError("The evaluation data produced no batches: it is empty.")
        cbs.on_test_end(logs)
        if verbose:
            from neuroflow.keras.callbacks.callback import Progbar
            Progbar(len(batches), verbose=verbose).update(len(batches), logs, finalize=True)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x``, batch by batch, concatenated as NumPy arrays."""
        verbose = 1 if verbose == "auto" else verbose
        batches = self._batches(x, None, None, batch_size, steps)
        predict_function = self.make_predict_function()
        cbs = CallbackList(callbacks, model=self, steps=len(batches) or None)
        bar = None
        if verbose:
            from neuroflow.keras.callbacks.callback import Progbar
            bar = Progbar(len(batches) or None, verbose=verbose)
        outputs = []
        cbs.on_predict_begin()
        for step, batch in enumerate(batches.epoch()):
            cbs.on_predict_batch_begin(step)
            out = predict_function(_as_tensors(batch))
            outputs.append(nest.map_structure(lambda t: t.numpy(), out))
            cbs.on_predict_batch_end(step, {"outputs": out})
            if bar is not None:
                bar.update(step + 1)
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict() got no data.")
        if bar is not None:
            bar.update(len(outputs), finalize=True)
        first = outputs[0]
        flat = [np.concatenate([nest.flatten(o)[i] for o in outputs])
                for i in range(len(nest.flatten(first)))]
        return nest.pack_sequence_as(first, flat)

    def _batches(self, x, y, sample_weight, batch_size, steps):
        if data_adapter.is_dataset(x):
            return data_adapter.DatasetBatches(x, steps)
        x, y = data_adapter.to_arrays(x), data_adapter.to_arrays(y)
        return data_adapter.ArrayBatches(x, y, data_adapter.to_arrays(sample_weight),
                                         batch_size, False, None, steps)

    # -- single batches -----------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        self._require_compiled("training it")
        batches = data_adapter.ArrayBatches(data_adapter.to_arrays(x), data_adapter.to_arrays(y),
                                            sample_weight, batch_size=10**12,
                                            class_weight=class_weight)
        self.reset_metrics()
        batch = next(batches.epoch())
        logs = {k: _scalar(v) for k, v in self.make_train_function()(_as_tensors(batch)).items()}
        return logs if return_dict else _single_or_list(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("evaluating it")
        self.reset_metrics()
        batch = (data_adapter.to_arrays(x), data_adapter.to_arrays(y), sample_weight)
        logs = {k: _scalar(v) for k, v in self.make_test_function()(_as_tensors(batch)).items()}
        return logs if return_dict else _single_or_list(logs)

    def predict_on_batch(self, x):
        out = self.make_predict_function()(_as_tensors((data_adapter.to_arrays(x), None, None)))
        return nest.map_structure(lambda t: t.numpy(), out)


def _single_or_list(logs):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _shuffle_seed():
    """Shuffling follows the global seed (keras.utils.set_random_seed), when one is set."""
    from neuroflow.ops.random import new_generator
    return int(new_generator(None).integers(0, 2**31 - 1))


def unpack(data):
    """``(x, y, sample_weight)`` from a batch given as x, (x,), (x, y) or (x, y, w)."""
    if isinstance(data, tuple):
        if len(data) == 3:
            return data
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 1:
            return data[0], None, None
    return data, None, None


def _as_tensors(batch):
    """NumPy leaves become tensors (None stays None) so nf.function sees tensor arguments."""
    def convert(a):
        if a is None:
            return None
        array = np.asarray(a)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        return convert_to_tensor(array)
    x, y, w = batch
    return (nest.map_structure(convert, x) if x is not None else None,
            nest.map_structure(convert, y) if y is not None else None,
            None if w is None else convert(w))


__all__ = ["Trainer"]
