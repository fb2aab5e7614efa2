from schedulefree import AdamWScheduleFree, SGDScheduleFree

from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.optimizers import PerTaskTorchOptimizer
from benchmark_utils.validation import check_choice, check_positive

BASES = {"adamw": AdamWScheduleFree, "sgd": SGDScheduleFree}


class Solver(ReferenceSolver):
    """Schedule-Free (Defazio et al. 2024): no learning-rate schedule.

    Gradients are taken at ``y_k = (1 - beta) z_k + beta x_k``, ``z`` takes
    the base method's steps with a constant ``lr``, and ``x_k`` is the
    running average of the ``z``'s, the point evaluated
    (``optimizer.eval()``). ``base="adamw"`` (Adam's scale-free steps) or
    ``"sgd"``; the ``lr`` is not tuned. One instance per task (package
    ``schedulefree``).
    """

    name = "schedule-free"
    requirements = ["pip::schedulefree"]
    parameters = {"base": ["adamw"], "lr": [0.05]}

    def check_parameters(self):
        return dict(base=check_choice("base", self.base, BASES),
                    lr=check_positive("lr", self.lr))

    def make(self, tasks, horizon):
        p = self.check_parameters()
        return PerTaskTorchOptimizer.from_class(BASES[p["base"]],
                                                lr=p["lr"]), ()
