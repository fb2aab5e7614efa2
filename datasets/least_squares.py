from benchopt import BaseDataset

from benchmark_utils.tasks import (
    check_family_parameters, make_generator, make_least_squares_tasks,
)
from benchmark_utils.validation import invalid_data


class Dataset(BaseDataset):
    """Noisy linear regression tasks (paper Section 4).

    ``w*`` uniform on the unit sphere of R^dim, ``x ~ N(0, I)``,
    ``y = <w*, x> + noise * N(0, 1)``; the inner loop runs GD from 0 on
    ``1/2 mean (y - <w, x>)^2`` over the task's ``n_samples`` samples (a
    meta-test task on all of them); ``value`` is the exact population loss.

    ``batch_size`` (None = full batch): the inner loop is mini-batch SGD on
    that many of the task's samples per step (the exact meta-gradient
    ``stable`` then refuses the tasks; evaluation runs the loop).
    ``eval_horizon`` (None = ``horizon``): the meta-test tasks are run for
    that many steps, while solvers meta-train at ``horizon`` (horizon
    generalization). Each meta-train task also has ``n_samples`` held-out
    samples of its own, which no inner run trains on
    (``val_fraction="held_out"`` validates on them).
    """

    name = "least_squares"
    requirements = ["pip::torch"]
    parameters = {
        "dim": [200],
        "n_samples": [100],
        "noise": [1.0],
        "horizon": [40],
        "n_train_tasks": [20],
        "n_test_tasks": [20],
        "dtype": ["float64"],
        "batch_size": [None],
        "eval_horizon": [None],
    }
    test_parameters = {
        "dim": [10], "n_samples": [6], "n_train_tasks": [3],
        "n_test_tasks": [3], "horizon": [10],
    }

    def check_parameters(self):
        """The parameters, normalised; ValueError naming a bad one."""
        return check_family_parameters(
            dim=self.dim, n_samples=self.n_samples, noise=self.noise,
            horizon=self.horizon, n_train_tasks=self.n_train_tasks,
            n_test_tasks=self.n_test_tasks, dtype=self.dtype,
            batch_size=self.batch_size, eval_horizon=self.eval_horizon,
        )

    def get_data(self):
        try:
            p = self.check_parameters()
        except ValueError as err:       # skipped with the reason
            return invalid_data(err)
        seed = self.get_seed(use_repetition=True)
        gen = make_generator(seed)
        eval_horizon = p["eval_horizon"] or p["horizon"]

        def draw(n_tasks, steps, held_out_gen=None):
            return make_least_squares_tasks(
                n_tasks, p["dim"], p["n_samples"], p["noise"], gen,
                p["dtype"], p["batch_size"], steps, held_out_gen,
            )

        # the meta-train tasks' held-out samples come from a generator of
        # their own: the tasks are those drawn without them
        return dict(train_tasks=draw(p["n_train_tasks"], p["horizon"],
                                     make_generator(seed + 1)),
                    test_tasks=draw(p["n_test_tasks"], eval_horizon),
                    horizon=p["horizon"], eval_horizon=p["eval_horizon"])
