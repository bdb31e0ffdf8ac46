"""Every malformed file raises a clear error naming the file and what is wrong."""
import hashlib
import json
import re
import sys
import zipfile

import numpy as np
import pytest

from neuroflow import keras

pytest.importorskip("safetensors", reason="saving weights needs the safetensors package")

X = np.ones((2, 4), "float32")


@pytest.fixture
def saved(tmp_path):
    """A valid .keras file, and its members."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    path = tmp_path / "good.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return path, members


def _write_zip(path, members, fix_checksums=True, compression=zipfile.ZIP_STORED):
    """Writes ``members`` as a zip; with fix_checksums the metadata matches the weights, so
    the check under test is reached."""
    members = dict(members)
    if fix_checksums and "metadata.json" in members:
        metadata = json.loads(members["metadata.json"])
        metadata["sha256"] = {n: hashlib.sha256(d).hexdigest() for n, d in members.items()
                              if n.endswith(".safetensors")}
        members["metadata.json"] = json.dumps(metadata).encode()
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _safetensors(header, data=b""):
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


def _raises(path, pattern, loader=keras.models.load_model, error=ValueError):
    with pytest.raises(error) as info:
        loader(path)
    message = str(info.value)
    assert str(path) in message, message
    assert re.search(pattern, message), message
    return message


@pytest.mark.parametrize("name", ["../evil.json", "/abs/config.json", "a/../../b"])
def test_unsafe_member_paths(saved, tmp_path, name):
    _, members = saved
    path = _write_zip(tmp_path / "unsafe.keras", {**members, name: b"{}"})
    _raises(path, "unsafe path")


def test_nested_zip_member(saved, tmp_path):
    path, members = saved
    bad = _write_zip(tmp_path / "nested.keras", {**members, "inner.zip": path.read_bytes()})
    _raises(bad, "nested archive")
    disguised = _write_zip(tmp_path / "disguised.keras",
                           {**members, "model.safetensors": path.read_bytes()})
    _raises(disguised, "model.safetensors.*itself a zip archive")


def test_unexpected_member(saved, tmp_path):
    _, members = saved
    _raises(_write_zip(tmp_path / "extra.keras", {**members, "code.py": b"print(1)"}),
            "unexpected member 'code.py'")


@pytest.mark.parametrize("keep", [0, 10, 200, -40])
def test_truncated_file(saved, tmp_path, keep):
    path, _ = saved
    data = path.read_bytes()
    bad = tmp_path / "truncated.keras"
    bad.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    _raises(bad, "truncated|corrupt|not a saved model|does not start")


def test_corrupt_bytes_fail_crc(saved, tmp_path):
    path, members = saved
    data = bytearray(path.read_bytes())
    start = data.find(members["model.safetensors"][-16:])
    data[start] ^= 0xFF
    bad = tmp_path / "flipped.keras"
    bad.write_bytes(bytes(data))
    _raises(bad, "model.safetensors.*(corrupt|CRC)")


def test_checksum_mismatch(saved, tmp_path):
    _, members = saved
    weights = bytearray(members["model.safetensors"])
    weights[-1] ^= 0x01  # a valid file with different weights: only the checksum tells
    bad = _write_zip(tmp_path / "tampered.keras", {**members, "model.safetensors":
                                                   bytes(weights)}, fix_checksums=False)
    _raises(bad, "model.safetensors: its contents do not match the checksum")


def test_inner_weight_checksum(saved, tmp_path):
    _, members = saved
    from safetensors.numpy import load, save
    tensors = load(members["model.safetensors"])
    header_len = int.from_bytes(members["model.safetensors"][:8], "little")
    metadata = json.loads(members["model.safetensors"][8:8 + header_len])["__metadata__"]
    key = next(iter(tensors))
    tensors[key] = tensors[key] + 1.0
    bad = _write_zip(tmp_path / "inner.keras",
                     {**members, "model.safetensors": save(tensors, metadata=metadata)})
    _raises(bad, "checksum recorded when they were saved")


def test_zip_bomb_is_not_inflated(saved, tmp_path):
    _, members = saved
    bomb = _write_zip(tmp_path / "bomb.keras",
                      {**members, "config.json": b" " * 5_000_000 + members["config.json"]},
                      compression=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 1_000_000
    _raises(bomb, "declares 5\\d+ bytes uncompressed.*refusing to inflate")


@pytest.mark.parametrize("header, data, pattern", [
    ({"w": {"dtype": "F32", "shape": [100000, 100000, 100000], "data_offsets": [0, 16]}},
     b"\0" * 16, r"tensor 'w' declares shape \(100000, 100000, 100000\)"),
    ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 10**15]}}, b"\0" * 16,
     r"tensor 'w' declares data offsets \[0, 1000000000000000\] outside"),
    ({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4,
     "invalid shape"),
    ({"w": {"dtype": "PICKLE", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4,
     "dtype 'PICKLE'"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "v": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12,
     "overlaps or has holes"),
])
def test_absurd_safetensors_headers(tmp_path, header, data, pattern):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    path = tmp_path / "absurd.weights.h5"
    path.write_bytes(_safetensors(header, data))
    _raises(path, pattern, loader=model.load_weights)


def test_safetensors_header_length_beyond_file(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    path = tmp_path / "short.weights.h5"
    path.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    _raises(path, "header declares 1000000000000 bytes, but only 2 follow",
            loader=model.load_weights)
    path.write_bytes(b"\x01\x02")
    _raises(path, "truncated", loader=model.load_weights)


def test_absurd_header_inside_archive(saved, tmp_path):
    _, members = saved
    weights = _safetensors({"w": {"dtype": "F64", "shape": [2**40], "data_offsets": [0, 8]}},
                           b"\0" * 8)
    bad = _write_zip(tmp_path / "absurd.keras", {**members, "model.safetensors": weights})
    _raises(bad, r"model.safetensors: tensor 'w' declares shape \(1099511627776,\)")


def test_invalid_json_and_missing_members(saved, tmp_path):
    _, members = saved
    _raises(_write_zip(tmp_path / "badjson.keras", {**members, "config.json": b"{nope"}),
            "config.json is not valid JSON")
    no_weights = {k: v for k, v in members.items() if k != "model.safetensors"}
    _raises(_write_zip(tmp_path / "noweights.keras", no_weights),
            "no 'model.safetensors'")


def test_not_a_zip(tmp_path):
    path = tmp_path / "plain.keras"
    path.write_bytes(b"just some text, not a model")
    _raises(path, "not a saved model")
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        keras.models.load_model(tmp_path / "missing.keras")


def test_unknown_class_is_never_imported(saved, tmp_path):
    _, members = saved
    config = json.loads(members["config.json"])
    config["config"]["layers"][1].update(module="neuroflow_evil_module",
                                         class_name="Dense2", registered_name=None)
    bad = _write_zip(tmp_path / "unknown.keras",
                     {**members, "config.json": json.dumps(config).encode()})
    message = _raises(bad, r"config.json: Unknown layer class: 'Dense2'")
    assert "Did you mean: 'Dense'" in message
    assert "neuroflow_evil_module" not in sys.modules


def test_newer_format_version(saved, tmp_path):
    _, members = saved
    metadata = json.loads(members["metadata.json"])
    metadata["format_version"] = "9.0"
    bad = _write_zip(tmp_path / "future.keras",
                     {**members, "metadata.json": json.dumps(metadata).encode()},
                     fix_checksums=False)
    _raises(bad, "format version 9.0")


def test_hdf5_files_are_named_as_such(tmp_path):
    path = tmp_path / "legacy.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    _raises(path, "HDF5 file")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    _raises(path, "HDF5 file", loader=model.load_weights)
