from benchopt import BaseDataset

from benchmark_utils.image_data import load_digits
from benchmark_utils.tasks import make_generator
from benchmark_utils.tasks.mlp import check_mlp_parameters
from benchmark_utils.tasks.modules import digits_cnn, make_module_tasks
from benchmark_utils.tasks.suites import (
    CONV_VARIATIONS, check_suites, family_data,
)
from benchmark_utils.validation import check_bool, check_int, invalid_data


def draw_conv_tasks(q, images, labels, n_tasks, gen):
    return make_module_tasks(
        digits_cnn(q["channels"]), images, labels, n_tasks, q["n_samples"],
        q["n_test"], q["batch_size"], q["label_noise"], q["horizon"], gen,
        q["dtype"], family="conv",
    )


class Dataset(BaseDataset):
    """Convolutional networks on the 8 x 8 digits: the ``mlp`` family's
    tasks (labels permuted per task, ``n_samples`` training and ``n_test``
    test images, mini-batches of ``batch_size``) with a small CNN (conv 3x3
    ``channels`` - ReLU - pool - conv 3x3 ``2 channels`` - ReLU - pool -
    linear), built from a ``torch.nn.Module`` by
    :mod:`benchmark_utils.tasks.modules` (``torch.func``). ``suites``:
    ``wider`` (4x channels), ``longer`` (10x horizon); ``score``: the speedup
    over tuned Adam. The defaults are small (4 meta-train and 2 meta-test
    tasks, 4 channels) so that ``benchopt run .``, which runs every solver
    on it, stays cheap, and long enough (T = 60) for tuned Adam to end
    well below chance (test cross-entropy about 1.3 against ln 10 = 2.3;
    at T = 20 it ended at 2.0 and nearly every solver at chance); a study
    sets its own sizes.
    """

    name = "conv"
    requirements = ["pip::torch", "scikit-learn"]
    parameters = {
        "n_samples": [100],
        "n_test": [200],
        "channels": [4],
        "batch_size": [32],
        "label_noise": [0.0],
        "horizon": [60],
        "n_train_tasks": [4],
        "n_test_tasks": [2],
        "dtype": ["float32"],
        "suites": ["none"],
        "score": [False],
    }
    test_parameters = {
        "n_samples": [40], "n_test": [40], "channels": [2],
        "horizon": [5], "n_train_tasks": [2], "n_test_tasks": [2],
        "suites": ["longer"],
    }

    def check_parameters(self):
        """The parameters, normalised; ValueError naming a bad one."""
        suites = check_suites(self.suites, CONV_VARIATIONS)
        p = check_mlp_parameters(
            held_out_pool=bool(suites), source="digits",
            n_samples=self.n_samples, n_test=self.n_test,
            batch_size=self.batch_size, label_noise=self.label_noise,
            horizon=self.horizon, n_train_tasks=self.n_train_tasks,
            n_test_tasks=self.n_test_tasks, dtype=self.dtype,
        )
        p["channels"] = check_int("channels", self.channels)
        p["suites"] = suites
        p["score"] = check_bool("score", self.score)
        return p

    def get_data(self):
        try:
            p = self.check_parameters()
        except ValueError as err:       # skipped with the reason
            return invalid_data(err)
        seed = self.get_seed(use_repetition=True)
        data = family_data(p, load_digits(), draw_conv_tasks, None, seed,
                           make_generator(seed), p["suites"],
                           CONV_VARIATIONS)
        if p["score"]:
            data["score"] = True
        return data
