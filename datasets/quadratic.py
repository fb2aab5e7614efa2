from benchopt import BaseDataset

from benchmark_utils.tasks import (
    check_family_parameters, make_generator, make_quadratic_tasks,
)
from benchmark_utils.validation import invalid_data


class Dataset(BaseDataset):
    """Quadratics ``f(w) = 1/2 w^T H w``, GD from ``w0`` (paper Section 3).

    ``spectrum="wishart"``: the paper's ``H = X^T X`` with X a dim x dim
    standard Gaussian matrix, ``w0`` standard Gaussian. ``spectrum=
    "linspace"``: eigenvalues evenly spaced in [1/condition_number, 1],
    ``c_i^2 = 1/dim``, random basis (``condition_number`` is used by
    linspace only). With ``n_train_tasks=1`` (the paper's single fixed
    quadratic) the meta-test task is that same task and ``n_test_tasks`` is
    ignored.
    """

    name = "quadratic"
    requirements = ["pip::torch"]
    parameters = {
        "spectrum": ["wishart", "linspace"],
        "dim": [20],
        "condition_number": [100.0],
        "horizon": [80, 1000],
        "n_train_tasks": [1],
        "n_test_tasks": [1],
        "dtype": ["float64"],
    }
    test_parameters = {"spectrum": ["wishart"], "dim": [5], "horizon": [10]}

    def check_parameters(self):
        """The parameters, normalised; ValueError naming a bad one (every
        parameter is checked, also ``condition_number`` with wishart and
        ``n_test_tasks`` with one task, so that a typo fails early)."""
        return check_family_parameters(
            spectrum=self.spectrum, dim=self.dim,
            condition_number=self.condition_number, horizon=self.horizon,
            n_train_tasks=self.n_train_tasks, n_test_tasks=self.n_test_tasks,
            dtype=self.dtype,
        )

    def get_data(self):
        try:
            p = self.check_parameters()
        except ValueError as err:       # skipped with the reason, see there
            return invalid_data(err)
        gen = make_generator(self.get_seed(use_repetition=True))

        def draw(n_tasks):
            return make_quadratic_tasks(
                n_tasks, p["dim"], p["spectrum"], p["condition_number"], gen,
                p["dtype"],
            )

        train = draw(p["n_train_tasks"])
        test = train if p["n_train_tasks"] == 1 else draw(p["n_test_tasks"])
        return dict(train_tasks=train, test_tasks=test, horizon=p["horizon"])
