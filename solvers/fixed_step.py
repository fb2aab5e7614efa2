from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.validation import check_choice

RULES = ("1/L", "2/(L+mu)")


class Solver(ReferenceSolver):
    """Gradient descent with a textbook step size, no meta-training.

    ``rule="1/L"`` (the safe step of an L-smooth loss) or ``"2/(L+mu)"``
    (the best constant step for an L-smooth, mu-strongly convex quadratic).
    The constants are the family's, read from the meta-train tasks'
    training-loss spectra (``P^T P``): ``L`` the largest eigenvalue over
    tasks, ``mu`` the smallest eigenvalue over tasks on the subspace that
    gradient descent moves in (the range of ``P^T``, where the loss is
    ``mu``-strongly convex; with fewer samples than dimensions the
    Hessian's zero eigenvalues lie outside it). Only families that know
    their spectrum (``tasks.spectrum_bounds()``: quadratics, least squares)
    support it. Reading the constants costs no gradient evaluations.
    """

    name = "fixed-step"
    parameters = {"rule": list(RULES)}

    def unsupported(self, tasks):
        if tasks.spectrum_bounds() is None:
            return (f"the constants L and mu of {tasks.family} tasks are "
                    "not known")
        return None

    def check_parameters(self):
        return dict(rule=check_choice("rule", self.rule, RULES))

    def make(self, tasks, horizon):
        rule = self.check_parameters()["rule"]
        L, mu = tasks.spectrum_bounds()
        eta = 1.0 / L if rule == "1/L" else 2.0 / (L + mu)
        optimizer = GradientDescent()
        return optimizer, optimizer.theta_from(step_size=eta)
