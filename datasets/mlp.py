from benchopt import BaseDataset
from benchopt.config import get_data_path

from benchmark_utils.image_data import (
    download_mnist, load_digits, load_mnist, mnist_missing,
    synthetic_classification,
)
from benchmark_utils.tasks import (
    check_mlp_parameters, make_generator, make_mlp_tasks,
)
from benchmark_utils.tasks.suites import (
    VARIATIONS, SuiteUnavailable, check_suites, family_data,
)
from benchmark_utils.validation import check_bool, invalid_data


def load_source(source, n, gen):
    """``(images, labels)`` of ``source``: the digits, MNIST from benchopt's
    data folder (SuiteUnavailable with the instructions where it is
    absent), or ``n`` synthetic samples drawn from ``gen``."""
    if source == "digits":
        return load_digits()
    if source == "synthetic":
        return synthetic_classification(n, gen.initial_seed())
    folder = get_data_path("mnist")
    missing = mnist_missing(folder)
    if missing is not None:
        raise SuiteUnavailable(missing)
    return load_mnist(folder)


def draw_mlp_tasks(q, images, labels, n_tasks, gen):
    return make_mlp_tasks(
        images, labels, n_tasks, q["n_samples"], q["n_test"], q["hidden"],
        q["batch_size"], q["label_noise"], q["horizon"], gen, q["dtype"],
        q["activation"],
    )


class Dataset(BaseDataset):
    """MLP classification tasks (paper Section 5).

    Each task: ``n_samples`` training images with randomly permuted class
    labels (each training label replaced with probability ``label_noise``
    by a uniform one), ``n_test`` held-out images of the same classes as
    its test set, an MLP ``pixels -> hidden -> 10`` (``activation`` units,
    softmax cross-entropy) trained ``horizon`` steps on mini-batches of
    ``batch_size``. ``source="digits"``: scikit-learn's 8 x 8 digits
    (offline); ``source="mnist"``: MNIST from benchopt's data folder,
    fetched by ``benchopt prepare``; the run is skipped with instructions
    when it is absent.

    ``suites``: held-out meta-test suites (``"none"``, ``"all"``, a name or
    a tuple of names of :data:`~benchmark_utils.tasks.suites.VARIATIONS`):
    wider, deeper, tanh, gelu, longer, synthetic, mnist; with suites, half
    of the images are held out from the meta-train tasks
    (:func:`~benchmark_utils.tasks.suites.family_data`). ``score``
    (default True, so that the default run's result page shows the
    speedup of every solver on the in-distribution meta-test tasks): also
    report the speedup over tuned Adam (:mod:`benchmark_utils.scoring`).
    """

    name = "mlp"
    requirements = ["pip::torch", "scikit-learn"]
    parameters = {
        "source": ["digits"],
        "n_samples": [100],
        "n_test": [500],
        "hidden": [(100, 20)],
        "activation": ["relu"],
        "batch_size": [32],
        "label_noise": [0.0],
        "horizon": [100],
        "n_train_tasks": [8],
        "n_test_tasks": [4],
        "dtype": ["float32"],
        "suites": ["none"],
        "score": [True],
    }
    test_parameters = {
        "n_samples": [40], "n_test": [40], "hidden": [(8,)],
        "horizon": [5], "n_train_tasks": [2], "n_test_tasks": [2],
        "suites": [("wider", "tanh")], "score": [True],
    }
    prepare_cache_ignore = "all"

    def check_parameters(self):
        """The parameters, normalised; ValueError naming a bad one, before
        any image is loaded."""
        suites = check_suites(self.suites, VARIATIONS)
        p = check_mlp_parameters(
            held_out_pool=bool(suites),
            source=self.source, n_samples=self.n_samples, n_test=self.n_test,
            hidden=self.hidden, batch_size=self.batch_size,
            label_noise=self.label_noise, horizon=self.horizon,
            n_train_tasks=self.n_train_tasks, n_test_tasks=self.n_test_tasks,
            dtype=self.dtype, activation=self.activation,
        )
        p["suites"] = suites
        p["score"] = check_bool("score", self.score)
        return p

    def prepare(self):
        if self.source == "mnist":
            download_mnist(get_data_path("mnist"))

    def get_data(self):
        try:
            p = self.check_parameters()
        except ValueError as err:       # skipped with the reason
            return invalid_data(err)
        try:
            images = load_source(p["source"], None, None)
        except SuiteUnavailable as err:     # MNIST absent: instructions
            return dict(train_tasks=None, test_tasks=None,
                        horizon=p["horizon"], unavailable=str(err))
        seed = self.get_seed(use_repetition=True)
        data = family_data(p, images, draw_mlp_tasks, load_source, seed,
                           make_generator(seed), p["suites"])
        if p["score"]:
            data["score"] = True
        return data
