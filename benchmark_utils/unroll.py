"""The one inner loop: an inner optimizer run for T steps on a batch of
tasks.

:func:`run_steps` is the loop every estimator, evaluation and study goes
through: plain arithmetic in the tasks' dtype, which autograd and forward
mode can differentiate. It is what the ``backprop`` meta-gradient goes
through, with all the numerical trouble the paper describes (overflow for
eta > 2/L, underflow for long horizons): it is kept plain on purpose.
:func:`unroll` runs it from the tasks' start; :class:`PersistentUnroll`
cuts one run into truncations (truncated backprop, PES). The same T steps
of gradient descent on linear tasks in closed form are the tasks' own
capability (:mod:`benchmark_utils.tasks.gd_closed_form`).

Every entry point binds the optimizer to the tasks' parameter layout
(``optimizer.for_layout(tasks.layout)``), so that an optimizer whose
features are per parameter tensor applies to networks of any shape.
"""

import torch


def run_steps(tasks, optimizer, theta, w, state, start, stop,
              on_step=None, first_order=False):
    """Steps ``start, ..., stop - 1`` of ``optimizer`` from ``(w, state)``.

    The one inner loop of the benchmark: ``w_{k+1}, s_{k+1} =
    update(w_k, tasks.inner_grad(w_k, k), s_k, theta)`` (see
    :func:`inner_step`), with what the update computes from ``theta``
    alone prepared once (``optimizer.prepare``, then ``optimizer.apply``
    at each step). ``on_step(k, w)``, if given, sees every new
    iterate ``w_{k+1}`` (k = start, ...). Returns the final ``(w, state)``;
    differentiable in ``theta`` and ``w`` (forward or reverse mode) unless
    called under ``torch.no_grad``; ``first_order``: not through the inner
    gradients.
    """
    prepared = optimizer.prepare(theta, w)
    for k in range(start, stop):
        w, state = inner_step(tasks, optimizer, w, state, prepared, k,
                              first_order)
        if on_step is not None:
            on_step(k, w)
    return w, state


def inner_step(tasks, optimizer, w, state, prepared, k, first_order=False):
    """One step ``k`` of ``optimizer`` on every task; returns (w, state).
    ``prepared``: ``optimizer.prepare(theta, w)``.

    ``first_order``: the inner gradient is taken at detached parameters (a
    constant for autograd). An optimizer with ``needs_loss = True`` also
    receives ``loss=tasks.inner_loss(w, k)``.
    """
    grad = tasks.inner_grad(w.detach() if first_order else w, k)
    if optimizer.needs_loss:
        return optimizer.apply(w, grad, state, prepared,
                               loss=tasks.inner_loss(w, k))
    return optimizer.apply(w, grad, state, prepared)


def unroll(tasks, optimizer, theta, horizon, return_state=False):
    """Final parameters after ``horizon`` steps of ``optimizer`` (B, d)
    (and the optimizer's final state, with ``return_state``).

    Every task starts from ``tasks.w0`` and follows
    ``tasks.inner_grad(w, k)`` at step k (the full training gradient for
    linear tasks, a mini-batch gradient for networks); ``theta`` are the
    optimizer's meta-parameters. The run is evaluated at
    ``optimizer.finalize(w_T, state)`` (the last iterate but for
    schedule-free's average; see :mod:`benchmark_utils.optimizers.base`).
    """
    optimizer = optimizer.for_layout(tasks.layout)
    w = tasks.w0
    w, state = run_steps(tasks, optimizer, theta, w, optimizer.init(w), 0,
                         horizon)
    w = optimizer.finalize(w, state)
    return (w, state) if return_state else w


class PersistentUnroll:
    """An inner run on a batch of tasks, advanced one truncation at a time.

    Truncated meta-training (and persistent estimators such as PES) cut one
    inner run of ``horizon`` steps into segments: each meta-step continues
    the run from where the previous segment stopped, with the state
    detached, and a new run starts (from ``tasks.restart(run)``) once
    ``horizon`` steps are done. ``state`` is the
    inner optimizer's state, ``step`` the step number within the run.
    """

    def __init__(self, tasks, optimizer, horizon):
        self.base, self.horizon = tasks, horizon
        self.optimizer = optimizer.for_layout(tasks.layout)
        self.runs = 0
        self.restart()

    def restart(self):
        """Start the next run: ``tasks.restart(runs)`` (run 0: the tasks
        themselves), from its ``w0`` and a fresh optimizer state."""
        self.tasks = self.base.restart(self.runs)
        self.runs += 1
        self.w = self.tasks.w0
        self.state = self.optimizer.init(self.w)
        self.step = 0

    @property
    def done(self):
        """True once the current run has reached the horizon."""
        return self.step >= self.horizon

    def advance(self, theta, length):
        """Advance up to ``length`` steps with ``theta``; return the new
        iterate, differentiable in ``theta`` through this segment only
        (the stored run state is detached). Restarts a finished run first.
        """
        if self.done:
            self.restart()
        n = min(length, self.horizon - self.step)
        w, state = run_steps(self.tasks, self.optimizer, theta, self.w,
                             self.state, self.step, self.step + n)
        self.w, self.state = w.detach(), _detach(state)
        self.step += n
        return w

    def segment(self, theta, length, meta_loss, first_order=False,
                last_only=False):
        """Advance up to ``length`` steps with meta-parameters ``theta``.

        Returns the mean of ``meta_loss(tasks, w_k)`` (a (B,) tensor) over
        the steps k of the segment (``last_only``: ``meta_loss`` at the
        segment's last iterate only), differentiable in ``theta`` through
        the segment only (``first_order``: not through the inner
        gradients, which are then computed at detached parameters). The
        run's state is then detached; it restarts when it reaches the
        horizon, or when its parameters are no longer finite.
        """
        if self.done:
            self.restart()
        losses = []
        n = min(length, self.horizon - self.step)
        w, state = run_steps(
            self.tasks, self.optimizer, theta, self.w, self.state,
            self.step, self.step + n,
            None if last_only else
            (lambda k, w: losses.append(meta_loss(self.tasks, w))),
            first_order,
        )
        if last_only:
            losses = [meta_loss(self.tasks, w)]
        self.w = w.detach()
        self.state = _detach(state)
        self.step += n
        if not bool(torch.isfinite(self.w).all()):
            self.step = self.horizon        # restart at the next segment
        return sum(losses) / len(losses)


def _detach(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    if hasattr(state, "_fields"):                      # a named tuple
        return type(state)(*(_detach(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(_detach(s) for s in state)
    if isinstance(state, dict):
        return {k: _detach(v) for k, v in state.items()}
    return state
