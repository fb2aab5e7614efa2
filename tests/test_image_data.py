"""The MNIST loader reads only what it can check; missing data skips."""

import gzip
import struct

import numpy as np
import pytest

from benchmark_utils.image_data import (
    MNIST_FILES, DataFormatError, load_mnist, mnist_missing, read_idx,
)
from conftest import make_dataset

SMALL = {"train_images": (6, 28, 28), "train_labels": (6,),
         "test_images": (4, 28, 28), "test_labels": (4,)}


def write_idx(path, array, dtype_code=0x08, gz=True):
    header = bytes([0, 0, dtype_code, array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def write_small_mnist(folder, labels=None):
    rng = np.random.default_rng(0)
    for key, name in MNIST_FILES.items():
        shape = SMALL[key]
        if key.endswith("labels"):
            array = rng.integers(0, 10, shape) if labels is None else labels
        else:
            array = rng.integers(0, 256, shape)
        write_idx(folder / name, np.asarray(array))


def test_small_mnist_in_the_official_format_loads(tmp_path):
    write_small_mnist(tmp_path)
    images, labels = load_mnist(tmp_path, SMALL)
    assert images.shape == (10, 784) and labels.shape == (10,)
    assert images.dtype == np.float32 and 0 <= images.min() <= 1
    assert images.max() <= 1 and labels.max() <= 9


@pytest.mark.parametrize("defect, message", [
    ("truncated", "truncated or altered|cannot be read"),
    ("magic", "bad magic number"),
    ("dtype", "element type 0x0d"),
    ("shape", "shape"),
    ("bytes", "data bytes"),
])
def test_altered_files_are_rejected(tmp_path, defect, message):
    path = tmp_path / "x.gz"
    array = np.arange(12).reshape(3, 4)
    write_idx(path, array, dtype_code=0x0D if defect == "dtype" else 0x08)
    raw = gzip.decompress(path.read_bytes())
    if defect == "truncated":
        path.write_bytes(path.read_bytes()[:-7])
    elif defect == "magic":
        path.write_bytes(gzip.compress(b"\x01" + raw[1:]))
    elif defect == "bytes":
        path.write_bytes(gzip.compress(raw + b"\x00"))
    shape = (4, 3) if defect == "shape" else (3, 4)
    with pytest.raises(DataFormatError, match=message):
        read_idx(path, shape)


def test_labels_outside_0_9_are_rejected(tmp_path):
    write_small_mnist(tmp_path, labels=None)
    write_idx(tmp_path / MNIST_FILES["test_labels"], np.array([1, 2, 3, 12]))
    with pytest.raises(DataFormatError, match="label 12 outside 0..9"):
        load_mnist(tmp_path, SMALL)


def test_missing_mnist_says_how_to_get_it(tmp_path):
    reason = mnist_missing(tmp_path)
    assert "benchopt prepare" in reason and str(tmp_path) in reason
    write_small_mnist(tmp_path)
    assert mnist_missing(tmp_path) is None


def test_mnist_dataset_is_skipped_when_absent(bench, monkeypatch, tmp_path):
    import sys
    dataset = make_dataset(bench, "mlp", source="mnist")
    module = sys.modules[type(dataset).__module__]
    monkeypatch.setattr(module, "get_data_path", lambda key: tmp_path / key)
    data = dataset.get_data()
    objective = bench.get_benchmark_objective().get_instance()
    skip, reason = objective.skip(**data)
    assert skip and "benchopt prepare" in reason
