from benchmark_utils.optimizers import PolyakStep
from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.validation import check_positive


class Solver(ReferenceSolver):
    """Polyak's step size, no meta-training:
    ``w_{k+1} = w_k - gamma (f(w_k) - f*) / ||g_k||^2 g_k``.

    Needs the optimal value ``f*`` of the training loss
    (``tasks.optimal_train_loss()``: 0 on quadratics); skipped on families
    that do not know it.
    """

    name = "polyak"
    parameters = {"gamma": [1.0]}
    test_config = {"dataset": {"name": "quadratic"}}

    def unsupported(self, tasks):
        if tasks.optimal_train_loss() is None:
            return (f"Polyak's step needs the optimal value of the training "
                    f"loss, unknown on {tasks.family} tasks")
        return None

    def check_parameters(self):
        return dict(gamma=check_positive("gamma", self.gamma))

    def make(self, tasks, horizon):
        gamma = self.check_parameters()["gamma"]
        return PolyakStep(tasks.optimal_train_loss()), gamma
