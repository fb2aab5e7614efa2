"""Template for a new solver: copy to ``solvers/<your_name>.py``, rename.

benchopt ignores files named ``template_*``; a copy under another name is
picked up by ``benchopt run .``, by ``benchopt test .`` and by ``pytest``
(benchopt's own suite runs on every solver) with nothing to register.

A solver receives the meta-train tasks and the horizon T
(``set_objective(tasks, horizon)``) and returns a ``SolverResult``: an
inner optimizer (an ``InnerOptimizer``: ``init(params)``, ``update(params,
grad, state, theta)`` on (B, d) tensors, one row per task; see
``benchmark_utils/optimizers/base.py``) with its ``theta`` and what
choosing ``theta`` cost in inner-gradient evaluations. The objective runs it
T steps on held-out meta-test tasks and reports the metrics listed in
CONTRIBUTING.md. This template is a reference rule (heavy ball with fixed
hyper-parameters, no meta-training, cost 0); a meta-learning solver
subclasses ``benchmark_utils.meta_solver.MetaLearningSolver`` instead (see
``solvers/learnable_sgdm.py``): a learnable optimizer, a meta-objective and
an estimator, one benchopt iteration per meta-step.
"""

from dataclasses import dataclass

import torch
from benchopt import BaseSolver
from benchopt.stopping_criterion import SingleRunCriterion

from benchmark_utils.meta_train import SolverResult
from benchmark_utils.optimizers import InnerOptimizer
from benchmark_utils.validation import check_float, check_positive


@dataclass(frozen=True)
class HeavyBall(InnerOptimizer):
    """``v_{k+1} = beta v_k - eta g_k``, ``w_{k+1} = w_k + v_{k+1}``;
    ``theta = (eta, beta)``. Batched over tasks: params, grad (B, d)."""

    def init(self, params):
        return torch.zeros_like(params)          # the velocity v_0 = 0

    def update(self, params, grad, state, theta):
        velocity = theta[1] * state - theta[0] * grad
        return params + velocity, velocity


class Solver(BaseSolver):
    """Heavy ball with a fixed step size and momentum (no meta-training)."""

    name = "template-heavy-ball"        # your solver's name (unique)
    requirements = []                   # e.g. ["pip::some-package"]
    sampling_strategy = "run_once"      # one result, no curve
    stopping_criterion = SingleRunCriterion()
    parameters = {"step_size": [1e-2], "momentum": [0.9]}

    def check_parameters(self):
        # a ValueError naming the bad parameter, before any run
        check_positive("step_size", self.step_size)
        check_float("momentum", self.momentum, 0.0, 1.0, False, True)

    def skip(self, tasks, horizon):
        # check the parameters, then return (True, "why") on families this
        # method cannot handle (ask the tasks for a capability, e.g.
        # `tasks.spectrum_bounds() is None`), else (False, None)
        self.check_parameters()
        return False, None

    def set_objective(self, tasks, horizon):
        self.tasks, self.horizon = tasks, horizon

    def run(self, _):
        # a meta-learning method would choose theta here, on self.tasks,
        # and count the inner-gradient evaluations it spent
        self.theta = torch.tensor([self.step_size, self.momentum],
                                  dtype=torch.float64)
        self.cost = 0

    def get_result(self):
        # final=True: a run_once solver's one result is its last
        return dict(result=SolverResult(
            HeavyBall(), self.theta, inner_gradient_evaluations=self.cost,
            final=True,
        ))
