"""Stable: the exact meta-gradient of a scalar step size, overflow-free.

For gradient descent on linear tasks, :func:`~benchmark_utils.unroll.gd_exact`
gives ``w_T`` and ``dw_T/deta`` in closed form and in log scale, and the
meta-objective's derivative follows by the chain rule in log space
(:meth:`~benchmark_utils.meta_objectives.MetaObjective.exact`). Exact in
float64 for every horizon and step size (including eta > 2/L), with a cost
and memory that do not grow with T; the spectrum of each task's training
loss is computed once per task batch.
"""

from ..inner_optimizers import GradientDescent
from ..meta_objectives import MetaGradient
from ..tasks import LinearTasks
from ..unroll import gd_exact


def unsupported(problem):
    if not isinstance(problem.optimizer, GradientDescent):
        return ("the stable meta-gradient needs gradient descent as inner "
                "optimizer (a scalar step size)")
    if not isinstance(problem.tasks, LinearTasks):
        return ("the stable meta-gradient needs tasks with quadratic losses "
                "(linear gradient-descent dynamics)")
    if not problem.tasks.full_batch:
        return ("the stable meta-gradient needs full-batch gradient "
                "descent (a mini-batch inner loop is stochastic)")
    return None


def cost(problem):
    """Work of one estimate in inner-gradient equivalents: the closed form
    is one product with each task's eigenbasis (about one gradient); the
    spectrum, computed on the first estimate only, costs about
    ``min(m, d)`` gradients per task (an SVD of the m x d factor)."""
    tasks = problem.tasks
    first = "spectrum" not in vars(tasks.train)   # not yet cached
    P = tasks.train.P
    known = P is None or tasks.train.eigen is not None
    svd = 0 if known else min(P.shape[-2:])
    return tasks.n_tasks * (1 + (svd if first else 0))


def estimate(problem, theta):
    work = cost(problem)
    iterate = gd_exact(problem.tasks, float(theta), problem.horizon)
    loss, slope = problem.objective.exact(problem.tasks, iterate,
                                          problem.horizon)
    return MetaGradient(float(loss), slope.reshape(theta.shape).to(theta),
                        work)
