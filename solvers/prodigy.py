from prodigyopt import Prodigy

from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.optimizers import PerTaskTorchOptimizer
from benchmark_utils.validation import check_positive


class Solver(ReferenceSolver):
    """Prodigy (Mishchenko & Defazio 2024), tuning-free Adam.

    Adam whose step size ``d_k`` estimates the distance to the solution
    from below, starting at ``d0``; ``lr = 1`` as recommended. One Prodigy
    instance per task (package ``prodigyopt``).
    """

    name = "prodigy"
    requirements = ["pip::prodigyopt"]
    parameters = {"d0": [1e-6]}

    def check_parameters(self):
        return dict(d0=check_positive("d0", self.d0))

    def make(self, tasks, horizon):
        return PerTaskTorchOptimizer.from_class(
            Prodigy, lr=1.0, **self.check_parameters()), ()
