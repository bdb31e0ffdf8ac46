from neuroflow import keras
from tests.keras.callbacks.helpers import dense_model, regression_data


def test_functions_are_called_with_keras_positional_arguments():
    x, y = regression_data(n=16)
    model = dense_model()
    events = []
    callback = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: events.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: events.append(("batch_end", batch,
                                                              sorted(logs))),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: events.append(("train_end",)))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[callback])
    assert events[0] == ("train_begin", None)
    assert events[1:6] == [("epoch_begin", 0), ("batch_begin", 0), ("batch_end", 0, ["loss"]),
                           ("batch_begin", 1), ("batch_end", 1, ["loss"])]
    assert events[6] == ("epoch_end", 0, ["loss"])
    assert events[7] == ("epoch_begin", 1)
    assert events[-1] == ("train_end",)
    assert len(events) == 14


def test_other_hooks_by_keyword_and_old_batch_names():
    x, y = regression_data(n=16)
    model = dense_model()
    tests, batches = [], []
    callback = keras.callbacks.LambdaCallback(
        on_test_end=lambda logs: tests.append(sorted(logs)),
        on_batch_end=lambda batch, logs: batches.append(batch))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[callback])
    model.evaluate(x, y, verbose=0, callbacks=[callback])
    assert batches == [0, 1]  # on_batch_end: Keras's older name of on_train_batch_end
    assert tests == [["loss"]]


def test_a_hook_can_stop_training():
    x, y = regression_data(n=16)
    model = dense_model()

    def stop(epoch, logs):
        if epoch == 1:
            model.stop_training = True
    history = model.fit(x, y, epochs=5, verbose=0,
                        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=stop)])
    assert history.epoch == [0, 1]
