from benchmark_utils.inner_optimizers import PolyakStep
from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.validation import check_positive

# optimal value f* of the inner training loss, per family where it is known
OPTIMAL_VALUES = {"quadratic": 0.0}      # f(w) = 1/2 w^T H w >= 0 = f(0)


class Solver(ReferenceSolver):
    """Polyak's step size, no meta-training:
    ``w_{k+1} = w_k - gamma (f(w_k) - f*) / ||g_k||^2 g_k``.

    Needs the optimal value ``f*`` of the training loss: known on quadratics
    (0), skipped on other families.
    """

    name = "polyak"
    parameters = {"gamma": [1.0]}
    test_config = {"dataset": {"name": "quadratic"}}

    def unsupported(self, tasks):
        if tasks.family not in OPTIMAL_VALUES:
            return (f"Polyak's step needs the optimal value of the training "
                    f"loss, unknown on {tasks.family} tasks (known on: "
                    f"{sorted(OPTIMAL_VALUES)})")
        return None

    def checked_parameters(self):
        return dict(gamma=check_positive("gamma", self.gamma))

    def make(self, tasks, horizon):
        gamma = self.checked_parameters()["gamma"]
        return PolyakStep(OPTIMAL_VALUES[tasks.family]), gamma
