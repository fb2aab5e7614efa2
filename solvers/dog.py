from dog import DoG

from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.optimizers import PerTaskTorchOptimizer
from benchmark_utils.validation import check_positive


class Solver(ReferenceSolver):
    """DoG, "Distance over Gradients" (Ivgi et al. 2023), tuning-free.

    ``eta_k = max_{i<=k} ||x_i - x_0|| / sqrt(sum_{i<=k} ||g_i||^2)``, the
    first distance being ``reps_rel (1 + ||x_0||)``; one DoG instance per
    task (package ``dog-optimizer``).
    """

    name = "dog"
    requirements = ["pip::dog-optimizer"]
    parameters = {"reps_rel": [1e-6]}

    def check_parameters(self):
        return dict(reps_rel=check_positive("reps_rel", self.reps_rel))

    def make(self, tasks, horizon):
        return PerTaskTorchOptimizer.from_class(
            DoG, **self.check_parameters()), ()
