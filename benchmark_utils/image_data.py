"""Image classification data for the ``mlp`` task family.

- :func:`load_digits`: scikit-learn's bundled handwritten digits (1797
  images of 8 x 8, 10 classes), offline.
- :func:`load_mnist`: MNIST from the four IDX files of its official
  distribution, read by :func:`read_idx`, which checks everything it reads
  (magic number, element type, dimensions, size, label range) and rejects a
  truncated or altered file with a clear error. Nothing is unpickled.

- :func:`synthetic_classification`: scikit-learn's ``make_classification``
  (Guyon's Madelon design), generated in code: a held-out data set unlike
  any image.

All return ``(images, labels)``: float32 features of shape (N, p) (pixels
in [0, 1]) and int64 labels in [0, 10) of shape (N,).
"""

import gzip
import math
from pathlib import Path
import struct
import urllib.request

import numpy as np

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
MNIST_SHAPES = {
    "train_images": (60000, 28, 28), "train_labels": (60000,),
    "test_images": (10000, 28, 28), "test_labels": (10000,),
}
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_UBYTE = 0x08


class DataFormatError(ValueError):
    """A data file that is not what it claims to be."""


def load_digits():
    """scikit-learn's digits: (1797, 64) pixels in [0, 1], labels 0..9."""
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


def synthetic_classification(n, seed, n_features=64, n_classes=10):
    """``n`` samples of ``make_classification``: 10 classes, one Gaussian
    cluster each on the vertices of a hypercube in 16 informative
    dimensions, 8 redundant (linear combinations) and the rest noise,
    standardised per feature."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n, n_features=n_features, n_informative=16,
        n_redundant=8, n_classes=n_classes, n_clusters_per_class=1,
        random_state=int(seed) % (2 ** 32))
    X = (X - X.mean(0)) / X.std(0)
    return X.astype(np.float32), y.astype(np.int64)


MAX_NDIM = 4                   # IDX files of images: 3, labels: 1
MAX_BYTES = 64 * 2 ** 20       # the largest MNIST file is 47 MB unpacked


def _read_exactly(f, n, path, what):
    data = f.read(n)
    if len(data) != n:
        raise DataFormatError(
            f"{path}: {len(data)} {what} bytes, the header announces {n} "
            "(truncated or altered file)"
        )
    return data


def read_idx(path, shape=None, max_bytes=MAX_BYTES):
    """Read an IDX file of unsigned bytes (optionally gzipped), checked.

    The IDX format: two zero bytes, the element type (0x08 = unsigned
    byte), the number of dimensions, then each dimension as a big-endian
    uint32, then the data. ``shape`` (optional) is the expected shape.
    The header is read and checked (element type, at most ``MAX_NDIM``
    dimensions, the expected shape, at most ``max_bytes`` of data) before
    any data is read, and then exactly the announced bytes: a header that
    announces a huge array, or a small gzip file that unpacks to gigabytes
    (a "gzip bomb"), is rejected without allocating or decompressing it.
    Returns uint8 pixels or labels. Raises :class:`DataFormatError` naming
    the file and the defect.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return _read_idx_stream(f, path, shape, max_bytes)
    except (OSError, EOFError, gzip.BadGzipFile) as err:  # not gzip, cut
        raise DataFormatError(f"{path}: cannot be read ({err})") from err


def _read_idx_stream(f, path, shape, max_bytes):
    magic = f.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise DataFormatError(f"{path}: bad magic number (not an IDX file)")
    if magic[2] != _UBYTE:
        raise DataFormatError(
            f"{path}: element type 0x{magic[2]:02x}, expected unsigned bytes "
            "(0x08)"
        )
    ndim = magic[3]
    if not 1 <= ndim <= MAX_NDIM:
        raise DataFormatError(
            f"{path}: {ndim} dimensions, expected 1 to {MAX_NDIM}"
        )
    header = f.read(4 * ndim)
    if len(header) != 4 * ndim:
        raise DataFormatError(f"{path}: truncated header")
    dims = struct.unpack(f">{ndim}I", header)
    if shape is not None and tuple(dims) != tuple(shape):
        raise DataFormatError(
            f"{path}: shape {tuple(dims)}, expected {tuple(shape)}"
        )
    size = math.prod(dims)           # Python ints: no overflow
    if size > max_bytes:
        raise DataFormatError(
            f"{path}: the header announces {size} bytes, more than the "
            f"{max_bytes} allowed"
        )
    raw = _read_exactly(f, size, path, "data")
    if f.read(1):
        raise DataFormatError(
            f"{path}: more data bytes than the header announces ({size}; "
            "truncated or altered file)"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(dims)


def mnist_missing(folder):
    """Why MNIST cannot be loaded from ``folder``, or None if it can."""
    folder = Path(folder)
    missing = [name for name in MNIST_FILES.values()
               if not (folder / name).exists()]
    if not missing:
        return None
    return (
        f"MNIST is not in {folder} (missing {', '.join(missing)}). Get it "
        "with `benchopt prepare . -d mlp[source=mnist]` (downloads the four "
        f"files from {MNIST_URL}), or copy the official IDX files there"
    )


def load_mnist(folder, shapes=MNIST_SHAPES):
    """All 70000 MNIST images and labels from ``folder``, checked against
    the official ``shapes``."""
    folder = Path(folder)
    parts = {key: read_idx(folder / name, shapes[key])
             for key, name in MNIST_FILES.items()}
    for key in ("train_labels", "test_labels"):
        if parts[key].max() > 9:
            raise DataFormatError(
                f"{folder / MNIST_FILES[key]}: label {parts[key].max()} "
                "outside 0..9"
            )
    images = np.concatenate([parts["train_images"], parts["test_images"]])
    labels = np.concatenate([parts["train_labels"], parts["test_labels"]])
    pixels = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return pixels, labels.astype(np.int64)


def download_mnist(folder):
    """Fetch the four MNIST files into ``folder`` (once) and check them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES.values():
        target = folder / name
        if not target.exists():
            partial = target.with_suffix(".part")
            urllib.request.urlretrieve(MNIST_URL + name, partial)
            partial.rename(target)
    load_mnist(folder)          # raises if anything fetched is malformed
