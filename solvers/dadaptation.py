from dadaptation import DAdaptSGD

from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.optimizers import PerTaskTorchOptimizer
from benchmark_utils.validation import check_positive


class Solver(ReferenceSolver):
    """D-Adaptation (Defazio & Mishchenko 2023) for gradient descent.

    GD whose step size ``d_k`` is a lower bound on ``||x_0 - x*||``, grown
    from ``d0`` using the gradients seen; no momentum, ``lr = 1`` as
    recommended. One instance per task (package ``dadaptation``).
    """

    name = "dadaptation"
    requirements = ["pip::dadaptation"]
    parameters = {"d0": [1e-6]}

    def check_parameters(self):
        return dict(d0=check_positive("d0", self.d0))

    def make(self, tasks, horizon):
        return PerTaskTorchOptimizer.from_class(
            DAdaptSGD, lr=1.0, **self.check_parameters()), ()
