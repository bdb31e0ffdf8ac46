"""``keras.callbacks.BackupAndRestore``: resumes an interrupted ``fit`` where it stopped."""
from __future__ import annotations

import json
import os
import re
import warnings

from neuroflow.keras.callbacks import file_io
from neuroflow.keras.callbacks.callback import Callback

_METADATA = "training_metadata.json"
_CHECKPOINT = re.compile(r"^checkpoint-\d+$")


class BackupAndRestore(Callback):
    """Backs up the training state (model weights, optimizer state with its iteration count,
    the epoch reached) in ``backup_dir`` at the end of every epoch (or every ``save_freq``
    batches), and restores it at the start of the next ``fit``: an interrupted run started
    again with the same code continues from the last backed-up epoch instead of epoch 0.
    When ``fit`` completes, the backup is deleted (unless ``delete_checkpoint=False``).

    Each backup is written to a new folder and committed by atomically replacing
    ``training_metadata.json``, so a run killed while backing up restarts from the previous
    complete backup. ``double_checkpoint=True`` also keeps the backup before the latest and
    falls back to it when the latest cannot be read. With ``save_freq`` a number of batches,
    a resumed run restarts the interrupted epoch from the weights of its last backup (as in
    Keras). The model must be built before ``fit`` so its weights can be restored.

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
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._metadata_path = os.path.join(self.backup_dir, _METADATA)

    # -- restoring -------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        model = self.model
        if not getattr(model, "built", False):
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model '{model.name}' is unbuilt. You can build it beforehand "
                "by calling it on a batch of data, by giving its first layer an input shape "
                "(`keras.Input(shape=...)`), or with `model.build(input_shape)`.")
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        metadata = self._read_metadata()
        if metadata is None:
            return
        states = [metadata] + ([metadata["previous"]] if metadata.get("previous") else [])
        for i, state in enumerate(states):
            folder = os.path.join(self.backup_dir, state["checkpoint"])
            try:
                _restore(model, folder)
            except (OSError, ValueError, KeyError) as e:
                if i + 1 == len(states):
                    raise OSError(f"BackupAndRestore: cannot restore the backup '{folder}': "
                                  f"{e}") from e
                warnings.warn(f"BackupAndRestore: could not restore the backup '{folder}' "
                              f"({e}); restoring the one before it.", stacklevel=2)
                continue
            model._initial_epoch = int(state["epoch"])
            self._current_epoch = int(state["epoch"])
            return

    def _read_metadata(self):
        if not os.path.exists(self._metadata_path):
            return None
        with open(self._metadata_path, encoding="utf-8") as f:
            metadata = json.load(f)
        if not isinstance(metadata, dict) or "epoch" not in metadata \
                or "checkpoint" not in metadata:
            raise ValueError(f"BackupAndRestore: '{self._metadata_path}' is not a training "
                             "metadata file written by this callback; use a backup_dir that "
                             "nothing else writes to.")
        return metadata

    # -- backing up ------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save(batch=0)

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save(batch=batch)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch started
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save(self, batch):
        os.makedirs(self.backup_dir, exist_ok=True)
        previous = self._read_metadata()
        number = _next_number(self.backup_dir)
        folder = f"checkpoint-{number}"
        file_io.atomic_save(os.path.join(self.backup_dir, folder),
                            lambda path: _backup(self.model, path))
        metadata = {"epoch": self._current_epoch, "batch": batch, "checkpoint": folder}
        if self.double_checkpoint and previous is not None:
            metadata["previous"] = {k: previous[k] for k in ("epoch", "batch", "checkpoint")}
        # Replacing the metadata file is the commit: until then the old backup is current.
        file_io.atomic_write_text(self._metadata_path, json.dumps(metadata))
        keep = {folder} | ({metadata["previous"]["checkpoint"]}
                          if "previous" in metadata else set())
        self._remove_checkpoints(keep)

    def _remove_checkpoints(self, keep):
        for name in os.listdir(self.backup_dir):
            # temporary files left by a run killed while backing up go too
            stale_temp = name.startswith(file_io.TEMP_PREFIX)
            if (_CHECKPOINT.match(name) and name not in keep) or stale_temp:
                file_io.remove(os.path.join(self.backup_dir, name))

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not os.path.isdir(self.backup_dir):
            return
        file_io.remove(self._metadata_path)
        self._remove_checkpoints(keep=set())
        try:
            os.rmdir(self.backup_dir)
        except OSError:  # the folder holds files of someone else's: leave them
            pass


def _next_number(backup_dir):
    numbers = [int(name.split("-")[1]) for name in os.listdir(backup_dir)
               if _CHECKPOINT.match(name)]
    return max(numbers, default=0) + 1


# The training state on disk: a folder with the model's weights (model.save_weights) and the
# optimizer's variables, iteration count included, in the saving package's safetensors
# format (the optimizer part of a .keras file, without the architecture, so subclassed
# models without get_config back up too).
_WEIGHTS = "model.safetensors"
_OPTIMIZER = "optimizer.safetensors"


def _backup(model, folder):
    from neuroflow.keras.saving import archive, compile_config, weights_io
    os.makedirs(folder)
    model.save_weights(os.path.join(folder, _WEIGHTS))
    variables = compile_config.optimizer_variables(model)
    if variables:
        data = weights_io.encode(weights_io.variable_keys(variables),
                                 [v.numpy() for v in variables])
        archive.atomic_write(os.path.join(folder, _OPTIMIZER), lambda f: f.write(data))


def _restore(model, folder):
    from neuroflow.keras.saving import compile_config, weights_io
    if not os.path.isdir(folder):
        raise OSError(f"the backup folder '{folder}' is missing")
    model.load_weights(os.path.join(folder, _WEIGHTS))
    path = os.path.join(folder, _OPTIMIZER)
    if getattr(model, "optimizer", None) is not None and os.path.exists(path):
        with open(path, "rb") as f:
            keys, arrays, _ = weights_io.decode(f.read(), path)
        compile_config.restore_optimizer(model, keys, arrays, path)
