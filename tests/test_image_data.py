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


def test_gzip_bomb_is_not_unpacked(tmp_path):
    """A small gzip file that unpacks to 64 MB after a valid header is
    rejected after reading the announced bytes plus one, not unpacked."""
    import tracemalloc

    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 3, 4))
        f.write(bytes(12))
        chunk = bytes(2 ** 20)
        for _ in range(64):
            f.write(chunk)
    assert path.stat().st_size < 2 ** 20
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match="more data bytes"):
            read_idx(path, (3, 4))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 ** 20


@pytest.mark.parametrize("dims, message", [
    ((2 ** 31, 2 ** 31, 4), "more than the"),     # 2^64 bytes announced
    ((70000, 28, 28), "more than the"),           # over max_bytes below
    ((), "0 dimensions"),
    ((1,) * 5, "5 dimensions"),
])
def test_oversized_or_odd_headers_fail_before_reading(tmp_path, dims,
                                                      message):
    """Checked on the header alone (no data follows it here): nothing of
    the announced size is allocated."""
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 0x08, len(dims)])
                     + struct.pack(f">{len(dims)}I", *dims))
    with pytest.raises(DataFormatError, match=message):
        read_idx(path, max_bytes=10 ** 6)


def test_not_gzip_is_a_format_error(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"\x00\x00\x08\x01 not gzip at all")
    with pytest.raises(DataFormatError, match="cannot be read"):
        read_idx(path)


def test_nothing_is_unpickled():
    """No loader in the benchmark unpickles: no pickle, joblib or numpy
    object loading; torch.load only with weights_only=True."""
    import re
    from conftest import ROOT

    sources = [ROOT / "objective.py", *ROOT.glob("benchmark_utils/**/*.py"),
               *ROOT.glob("datasets/*.py"), *ROOT.glob("solvers/*.py")]
    for source in sources:
        text = source.read_text()
        assert not re.search(r"\bimport pickle|\bpickle\.|joblib\.load|"
                             r"allow_pickle=True|cloudpickle", text), source
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (source, call)
