"""The models ``neuroflow train`` builds: an MLP and a small CNN, as Keras Sequentials."""
from __future__ import annotations


def build_mlp(input_shape, num_classes, hidden=(256, 128), dropout=0.2):
    """Flatten -> Dense(relu) layers with dropout -> Dense(num_classes) logits."""
    from neuroflow import keras
    layers = [keras.Input(shape=tuple(input_shape)), keras.layers.Flatten()]
    for units in hidden:
        layers += [keras.layers.Dense(units, activation="relu"), keras.layers.Dropout(dropout)]
    layers.append(keras.layers.Dense(num_classes))
    return keras.Sequential(layers, name="mlp")


def build_cnn(input_shape, num_classes, filters=(32, 64), dense=128, dropout=0.5,
              augment=True):
    """Two Conv(3x3, SAME) + ReLU + MaxPool(2) blocks, Dense(relu), Dense(num_classes).

    The issue's reference CNN: on 28x28x1 inputs, Conv 32 -> Pool -> Conv 64 -> Pool ->
    Flatten -> Dense 128 -> Dense 10.
    """
    from neuroflow import keras
    layers = [keras.Input(shape=tuple(input_shape))]
    if augment:  # small shifts and rotations: a few thousand digits generalise better
        layers += [keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
                   keras.layers.RandomRotation(0.04, fill_mode="constant")]
    for f in filters:
        layers += [keras.layers.Conv2D(f, 3, padding="same", activation="relu"),
                   keras.layers.MaxPooling2D(2)]
    layers += [keras.layers.Flatten(), keras.layers.Dropout(dropout),
               keras.layers.Dense(dense, activation="relu"), keras.layers.Dense(num_classes)]
    return keras.Sequential(layers, name="cnn")


BUILDERS = {"mlp": build_mlp, "cnn": build_cnn}
