"""Forward mode: ``torch.func.jvp`` through the plain unrolled loop.

For each coordinate ``e_j`` of ``theta`` the tangent ``dw_k/dtheta e_j`` is
carried forward with the iterate (``dw_{k+1} = d update(w_k, g_k, s_k,
theta)``, including the inner gradient's Jacobian ``dg_k/dw_k dw_k``), and
``dF/dtheta_j = <grad F(w_T), dw_T>``. No renormalisation: in exact
arithmetic it equals backprop; the tangent grows like ``T |1 - eta L|^T`` and
overflows where backprop does, but memory stays constant in T. Cost: one
unroll (T inner gradients per task) per coordinate of ``theta``.

Needs ``tasks.inner_grad`` to be differentiable by ``torch.func``
(plain tensor arithmetic, or ``torch.func.grad``; not
``torch.autograd.grad``): :func:`unsupported` probes that.
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import unroll
from .common import inner_theta, meta_loss, run_cost


def unsupported(problem):
    tasks = problem.tasks
    try:
        torch.func.jvp(lambda w: tasks.inner_grad(w, 0), (tasks.w0,),
                       (torch.ones_like(tasks.w0),))
    except RuntimeError as err:        # e.g. autograd.grad inside
        return ("forward mode needs tasks.inner_grad to be differentiable "
                f"by torch.func.jvp ({err})")
    return None


def estimate(problem, theta):
    tasks = problem.tasks
    theta_ = inner_theta(theta, tasks)

    def objective(th):
        w_T = unroll(tasks, problem.optimizer, th, problem.horizon)
        return meta_loss(problem, w_T)

    grad = torch.empty(theta_.numel(), dtype=theta_.dtype)
    loss = None
    for j in range(theta_.numel()):
        direction = torch.zeros(theta_.numel(), dtype=theta_.dtype)
        direction[j] = 1.0
        loss, slope = torch.func.jvp(objective, (theta_,),
                                     (direction.reshape(theta_.shape),))
        grad[j] = slope
    return MetaGradient(float(loss), grad.reshape(theta.shape).to(theta),
                        run_cost(problem, theta_.numel()))
