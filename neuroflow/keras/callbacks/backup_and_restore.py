"""``keras.callbacks.BackupAndRestore``: resumes an interrupted ``fit`` exactly where it stopped."""
from __future__ import annotations

import json
import os
import re
import warnings

from neuroflow.keras.callbacks import file_io, training_state
from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitor import scalar

_METADATA = "training_metadata.json"
_CHECKPOINT = re.compile(r"^checkpoint-\d+$")
_RECORD_KEYS = ("epoch", "step", "checkpoint", "manifest")


class BackupAndRestore(Callback):
    """Backs up the training state in ``backup_dir`` at the end of every epoch (or every
    ``save_freq`` batches) and restores it at the start of the next ``fit``: an interrupted
    run started again with the same code continues where the backup was made, and ends with
    the weights an uninterrupted run would have, bit for bit. When ``fit`` completes, the
    backup is deleted (unless ``delete_checkpoint=False``).

    A backup holds the model's weights, the optimizer's variables (moments, iteration count:
    a learning-rate schedule follows the count), the epoch and the batch reached (with
    ``save_freq`` a number of batches, a resumed run goes on at the next batch of the
    interrupted epoch, not at its start as in Keras), the epoch's metric totals, and every
    random state: Python's ``random``, NumPy's global generator, neuroflow's seed streams
    (dropout and other random layers draw what they would have drawn) and ``fit``'s shuffler.

    Each backup is written to a new folder with a manifest of its files' sha256 sums (temp
    folder, fsync, rename), then committed by atomically replacing ``training_metadata.json``;
    only then is the previous backup removed. A run killed at any moment restarts from the
    last complete backup; a truncated or altered file is detected on restore and named in the
    error. ``double_checkpoint=True`` also keeps the backup before the latest and falls back
    to it when the latest cannot be read. After a non-finite loss (``TerminateOnNaN``) no
    backup is made and the last good one is kept. The model must be built before ``fit``.

    >>> backup = keras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
    >>> model.fit(x, y, epochs=10, callbacks=[backup])   # interrupted at epoch 4...
    >>> model.fit(x, y, epochs=10, callbacks=[backup])   # ...runs epochs 4 to 9 only
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not (isinstance(save_freq, int)
                                         and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or a positive "
                             "integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._metadata_path = os.path.join(self.backup_dir, _METADATA)
        self._reset()

    def _reset(self):
        self._batches_since_save = 0
        self._epoch = self._step = 0      # the next batch to train: (epoch, batch in it)
        self._epoch_start = None          # the shuffler's state when self._epoch began
        self._record = None               # the last backup made or restored
        self._restored = None             # a restored state, until its epoch begins
        self._diverged = False

    # -- restoring -------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        model = self.model
        if not getattr(model, "built", False):
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model '{model.name}' is unbuilt. You can build it beforehand "
                "by calling it on a batch of data, by giving its first layer an input shape "
                "(`keras.Input(shape=...)`), or with `model.build(input_shape)`.")
        self._reset()
        metadata = self._read_metadata()
        if metadata is None:
            return
        records = [metadata] + ([metadata["previous"]] if metadata.get("previous") else [])
        for i, record in enumerate(records):
            folder = os.path.join(self.backup_dir, record["checkpoint"])
            try:
                # every file is checked before anything is assigned
                files = file_io.read_folder(folder, record["manifest"])
                state = training_state.restore(model, files, folder)
            except (OSError, ValueError, KeyError) as e:
                if i + 1 == len(records):
                    raise file_io.CorruptFileError(
                        f"BackupAndRestore: cannot restore the backup '{folder}': {e}") from e
                warnings.warn(f"BackupAndRestore: could not restore the backup '{folder}' "
                              f"({e}); restoring the one before it.", stacklevel=2)
                continue
            self._record = {k: record[k] for k in _RECORD_KEYS}
            self._resume(state)
            return

    def _resume(self, state):
        model = self.model
        self._epoch, self._step = int(state["epoch"]), int(state["step"])
        model._initial_epoch, model._initial_step = self._epoch, self._step
        batches = getattr(model, "_fit_batches", None)
        if state.get("batches") is not None and hasattr(batches, "set_state"):
            batches.set_state(state["batches"])
        elif self._batches_state() is not None:
            # backed up from another kind of input: replay the epochs' shuffles (as Keras)
            warnings.warn("BackupAndRestore: the backup holds no shuffler state for these "
                          "batches; resuming at the start of the interrupted epoch.",
                          stacklevel=3)
            model._initial_step, self._step = None, 0
        training_state.set_rng_state(state["rng"])
        self._restored = state

    def _read_metadata(self):
        if not os.path.exists(self._metadata_path):
            return None
        with open(self._metadata_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        try:
            metadata = json.loads(text)
        except ValueError as e:
            raise file_io.CorruptFileError(
                f"BackupAndRestore: cannot restore the backup: the file "
                f"'{self._metadata_path}' is corrupt (not valid JSON: {e})") from None
        if not isinstance(metadata, dict) or "epoch" not in metadata \
                or "checkpoint" not in metadata:
            raise ValueError(f"BackupAndRestore: '{self._metadata_path}' is not a training "
                             "metadata file written by this callback; use a backup_dir that "
                             "nothing else writes to.")
        if "sha256" not in metadata or "manifest" not in metadata:
            raise ValueError(f"BackupAndRestore: '{self._metadata_path}' holds a backup made by "
                             "an older version of neuroflow, without checksums; delete "
                             f"'{self.backup_dir}' to start the training afresh.")
        body = {k: v for k, v in metadata.items() if k != "sha256"}
        if metadata["sha256"] != file_io.sha256(_canonical(body)):
            raise file_io.CorruptFileError(
                f"BackupAndRestore: cannot restore the backup: the file "
                f"'{self._metadata_path}' is corrupt: its sha256 checksum differs from the one "
                "recorded when it was written")
        return metadata

    # -- following the position --------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        restored, self._restored = self._restored, None
        if restored is not None and epoch == self._epoch and self._step:
            # fit reset the metrics as the epoch began: give back the interrupted epoch's
            training_state.restore_metrics(self.model, restored)
        else:
            self._step = 0
        self._epoch = epoch
        self._epoch_start = self._batches_state()

    def on_train_batch_end(self, batch, logs=None):
        self._step = batch + 1
        if not _finite_loss(logs):
            self._diverged = True
            return
        if self.save_freq != "epoch":
            self._batches_since_save += 1
            if self._batches_since_save >= self.save_freq:
                self._batches_since_save = 0
                self._save()

    def on_epoch_end(self, epoch, logs=None):
        if not _finite_loss(logs):
            self._diverged = True
        self._epoch, self._step = epoch + 1, 0
        self._epoch_start = self._batches_state()  # the next epoch's: its order is not drawn
        if self.save_freq == "epoch":
            self._save()

    def _batches_state(self):
        batches = getattr(self.model, "_fit_batches", None)
        return batches.get_state() if hasattr(batches, "get_state") else None

    # -- backing up ------------------------------------------------------------------------
    def _save(self):
        if self._diverged:
            return  # keep the last good backup
        files = training_state.capture(self.model, self._epoch, self._step, self._epoch_start)
        if files is None:  # non-finite weights
            self._diverged = True
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        folder = f"checkpoint-{_next_number(self.backup_dir)}"
        manifest = file_io.write_folder(os.path.join(self.backup_dir, folder), files)
        record = {"epoch": self._epoch, "step": self._step, "checkpoint": folder,
                  "manifest": manifest}
        metadata = dict(record)
        if self.double_checkpoint and self._record is not None:
            metadata["previous"] = self._record
        metadata["sha256"] = file_io.sha256(_canonical(metadata))
        # Replacing the metadata file is the commit: until then the old backup is current.
        file_io.atomic_write_text(self._metadata_path, json.dumps(metadata))
        previous, self._record = self._record, record
        keep = {folder} | ({previous["checkpoint"]} if "previous" in metadata else set())
        self._remove_checkpoints(keep)

    def _remove_checkpoints(self, keep):
        for name in os.listdir(self.backup_dir):
            # what a run killed while backing up left (temporary files, a folder written but
            # never committed) goes too
            stale_temp = name.startswith(file_io.TEMP_PREFIX)
            if (_CHECKPOINT.match(name) and name not in keep) or stale_temp:
                file_io.remove(os.path.join(self.backup_dir, name))

    def on_train_end(self, logs=None):
        from neuroflow.ops import random_seed
        random_seed.clear_pending()
        self._restored = None
        if self._diverged:
            if self._record is not None:
                warnings.warn(
                    f"BackupAndRestore: the loss or the weights became NaN or infinite; the "
                    f"last good backup (epoch {self._record['epoch']}, batch "
                    f"{self._record['step']}) is kept in '{self.backup_dir}'.", stacklevel=2)
            return
        if not self.delete_checkpoint or not os.path.isdir(self.backup_dir):
            return
        file_io.remove(self._metadata_path)
        self._remove_checkpoints(keep=set())
        try:
            os.rmdir(self.backup_dir)
        except OSError:  # the folder holds files of someone else's: leave them
            pass


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True).encode()


def _finite_loss(logs):
    loss = scalar((logs or {}).get("loss"))
    return loss is None or bool(abs(loss) < float("inf"))


def _next_number(backup_dir):
    numbers = [int(name.split("-")[1]) for name in os.listdir(backup_dir)
               if _CHECKPOINT.match(name)]
    return max(numbers, default=0) + 1
