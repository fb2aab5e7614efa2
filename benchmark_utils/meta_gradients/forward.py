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
``torch.autograd.grad``): :meth:`Forward.unsupported` probes that.
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import unroll
from .base import Estimator


class Forward(Estimator):
    name = "forward"

    def unsupported(self, problem):
        tasks = problem.tasks
        try:
            torch.func.jvp(lambda w: tasks.inner_grad(w, 0), (tasks.w0,),
                           (torch.ones_like(tasks.w0),))
        except RuntimeError as err:        # e.g. autograd.grad inside
            return ("forward mode needs tasks.inner_grad to be "
                    f"differentiable by torch.func.jvp ({err})")
        return None

    def estimate(self, problem, theta, state):
        theta_ = theta.detach()

        def objective(th):
            w_T = unroll(problem.tasks, problem.optimizer, th,
                         problem.horizon)
            return problem.loss_at(w_T)

        n = theta_.numel()
        grad = torch.empty(n, dtype=theta_.dtype, device=theta_.device)
        loss = None
        for j in range(n):
            direction = torch.zeros_like(grad)
            direction[j] = 1.0
            loss, slope = torch.func.jvp(objective, (theta_,),
                                         (direction.reshape(theta_.shape),))
            grad[j] = slope
        return MetaGradient(float(loss), grad.reshape(theta.shape),
                            problem.run_cost(n)), state
