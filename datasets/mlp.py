from benchopt import BaseDataset
from benchopt.config import get_data_path

from benchmark_utils.image_data import (
    download_mnist, load_digits, load_mnist, mnist_missing,
)
from benchmark_utils.tasks import (
    check_mlp_parameters, make_generator, make_mlp_tasks,
)
from benchmark_utils.validation import invalid_data


class Dataset(BaseDataset):
    """MLP classification tasks (paper Section 5).

    Each task: ``n_samples`` training images with randomly permuted class
    labels (each training label replaced with probability ``label_noise``
    by a uniform one), ``n_test`` held-out images of the same classes as
    its test set, an MLP ``pixels -> hidden -> 10`` (ReLU, softmax
    cross-entropy) trained ``horizon`` steps on mini-batches of
    ``batch_size``. ``source="digits"``: scikit-learn's 8 x 8 digits
    (offline); ``source="mnist"``: MNIST from benchopt's data folder,
    fetched by ``benchopt prepare``; the run is skipped with instructions
    when it is absent.
    """

    name = "mlp"
    requirements = ["pip::torch", "scikit-learn"]
    parameters = {
        "source": ["digits"],
        "n_samples": [100],
        "n_test": [500],
        "hidden": [(100, 20)],
        "batch_size": [32],
        "label_noise": [0.0],
        "horizon": [100],
        "n_train_tasks": [4],
        "n_test_tasks": [4],
        "dtype": ["float32"],
    }
    test_parameters = {
        "n_samples": [40], "n_test": [40], "hidden": [(8,)],
        "horizon": [5], "n_train_tasks": [2], "n_test_tasks": [2],
    }
    prepare_cache_ignore = "all"

    def check_parameters(self):
        """The parameters, normalised; ValueError naming a bad one, before
        any image is loaded."""
        return check_mlp_parameters(
            source=self.source, n_samples=self.n_samples, n_test=self.n_test,
            hidden=self.hidden, batch_size=self.batch_size,
            label_noise=self.label_noise, horizon=self.horizon,
            n_train_tasks=self.n_train_tasks, n_test_tasks=self.n_test_tasks,
            dtype=self.dtype,
        )

    def prepare(self):
        if self.source == "mnist":
            download_mnist(get_data_path("mnist"))

    def get_data(self):
        try:
            p = self.check_parameters()
        except ValueError as err:       # skipped with the reason
            return invalid_data(err)
        if p["source"] == "mnist":
            folder = get_data_path("mnist")
            missing = mnist_missing(folder)
            if missing is not None:
                return dict(train_tasks=None, test_tasks=None,
                            horizon=p["horizon"], unavailable=missing)
            images, labels = load_mnist(folder)
        else:
            images, labels = load_digits()
        gen = make_generator(self.get_seed(use_repetition=True))

        def draw(n_tasks):
            return make_mlp_tasks(
                images, labels, n_tasks, p["n_samples"], p["n_test"],
                p["hidden"], p["batch_size"], p["label_noise"],
                p["horizon"], gen, p["dtype"],
            )

        return dict(train_tasks=draw(p["n_train_tasks"]),
                    test_tasks=draw(p["n_test_tasks"]),
                    horizon=p["horizon"])
