"""A fused update for any inner optimizer: ``torch.compile`` of its update.

:func:`compiled` wraps any :class:`~.base.InnerOptimizer` (hand-designed,
neural, or one added later) so that its ``update`` runs as code generated
by ``torch.compile`` (TorchInductor: C++/OpenMP kernels on the CPU, Triton
kernels on CUDA), the element-wise passes of the update, and of its
backward when autograd differentiates through it, fused into a few
kernels. In every other respect it is the wrapped optimizer: ``init``,
``finalize``, ``diagnostics``, the parametrisation (``init_theta``,
``hyperparameters``, ``theta_from``) and the capabilities (``needs_loss``,
``is_gradient_descent``, ``gd_step_size``, ``for_layout``) are delegated,
so the wrapper plugs into the one inner loop, every estimator and the
evaluation unchanged::

    opt = compiled(NeuralOptimizer())
    params, state = opt.update(params, grad, state, theta)

Maths: the compiled update computes the same function; its floating-point
results may differ from the eager ones by reassociation (fused reductions,
contracted multiply-adds), within 1e-6 relative in float32 and 1e-12 in
float64 (``tests/test_compiled_optimizer.py``).

Differentiation: reverse mode through the compiled update works
(AOTAutograd compiles its backward as well); that is all backprop,
truncated backprop and TBPTT need, since the meta-gradient is first-order
autograd through the unroll (the derivative of the inner gradient comes
from the tasks' own differentiable backward pass, outside the compiled
region). Compiled code supports neither double backward nor the
``torch.func`` transforms, so under ``torch.func.jvp`` (the forward-mode
estimators) a call runs the eager update.

Failure behaviour: where compilation is unavailable
(:func:`compile_unavailable`: Python without TorchDynamo, no C++ compiler
for the CPU, no Triton for CUDA) or fails for this update (any error at
compile time), the wrapper warns once with :class:`CompileFallbackWarning`,
naming the optimizer and the reason, and runs the eager update from then
on: never a crash. An error that the eager update raises as well (bad
input) propagates unchanged and does not switch compilation off.

Compile time: the first call with each new input signature (dtype,
shapes, grad mode, which inputs require grad) compiles: seconds to a minute
on the CPU, less where Inductor's on-disk cache already holds the kernels.
:attr:`CompiledOptimizer.compile_seconds` reports the time spent in those
first calls, apart from steady-state throughput; meta-learning solvers run
them in benchopt's untimed ``warm_up``.
"""

import shutil
import time
import warnings

import torch

from .base import LearnableOptimizer


class CompileFallbackWarning(RuntimeWarning):
    """Compilation was unavailable or failed: the eager update runs."""


def compile_unavailable(device="cpu"):
    """Why ``torch.compile`` cannot generate kernels for ``device`` here
    (a sentence), or None."""
    device = torch.device(device)
    try:
        import torch._dynamo as dynamo
    except ImportError as err:                  # pragma: no cover
        return f"TorchDynamo cannot be imported ({err})"
    if not dynamo.is_dynamo_supported():
        return "TorchDynamo does not support this Python version"
    if device.type == "cuda":
        from torch.utils._triton import has_triton
        if not has_triton():
            return "Triton (the CUDA code generator) is not installed"
        return None
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler
        compiler = get_cpp_compiler()
    except Exception as err:        # noqa: BLE001 - any failure: no compiler
        return f"no C++ compiler for TorchInductor's CPU kernels ({err})"
    if shutil.which(compiler) is None:
        return f"no C++ compiler for TorchInductor's CPU kernels ({compiler})"
    return None


def _under_functorch():
    """True inside a ``torch.func`` transform (jvp, vmap, grad)."""
    return torch._C._functorch.peek_interpreter_stack() is not None


def _device_of(params):
    return params.device if isinstance(params, torch.Tensor) else "cpu"


class _Shared:
    """What every layout of one compiled optimizer shares: the fallback
    decision, the warning (once) and the compile-time account."""

    def __init__(self):
        self.failure = None
        self.compile_seconds = 0.0
        self.compiled_calls = 0


class CompiledOptimizer(LearnableOptimizer):
    """``optimizer`` with ``update`` compiled by ``torch.compile(**options)``
    (see the module docstring). Build it with :func:`compiled`."""

    def __init__(self, optimizer, options=None, shared=None):
        if isinstance(optimizer, CompiledOptimizer):
            optimizer = optimizer.inner
        self.inner = optimizer
        self.options = dict(options or {})
        self._shared = shared or _Shared()
        self._compiled = None
        self._signatures = set()
        self._layouts = {}

    # -- the compiled update ------------------------------------------------

    @property
    def failure(self):
        """Why the eager update runs instead (a sentence), or None."""
        return self._shared.failure

    @property
    def compile_seconds(self):
        """Seconds spent in calls that compiled (first calls with a new
        input signature), all layouts together."""
        return self._shared.compile_seconds

    def _fall_back(self, reason):
        self._shared.failure = reason
        warnings.warn(
            f"torch.compile is not used for {type(self.inner).__name__}."
            f"update: {reason}; the eager update runs instead",
            CompileFallbackWarning, stacklevel=3)

    def _signature(self, args, kwargs):
        def sig(x):
            if isinstance(x, torch.Tensor):
                return (x.dtype, x.device, tuple(x.shape), x.requires_grad)
            if isinstance(x, (tuple, list)):
                return tuple(sig(y) for y in x)
            return type(x)
        return (torch.is_grad_enabled(), sig(args),
                tuple(sorted((k, sig(v)) for k, v in kwargs.items())))

    def update(self, params, grad, state, theta, **kwargs):
        args = (params, grad, state, theta)
        if self.failure is None and self._compiled is None:
            reason = compile_unavailable(_device_of(params))
            if reason is None:
                try:
                    _configure_compilation()
                    self._compiled = torch.compile(self.inner.update,
                                                   **self.options)
                except Exception as err:    # noqa: BLE001 - any: eager
                    reason = f"{type(err).__name__}: {_first_line(err)}"
            if reason is not None:
                self._fall_back(reason)
        if self.failure is not None or _under_functorch():
            return self.inner.update(*args, **kwargs)
        signature = self._signature(args, kwargs)
        first = signature not in self._signatures
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # the cached segment indices are pure functions of their
                # arguments: TorchDynamo tracing through the cache is exact
                warnings.filterwarnings(
                    "ignore", message=".*functools.lru_cache",
                    category=UserWarning)
                out = self._compiled(*args, **kwargs)
        except Exception as err:    # noqa: BLE001 - decided by eager below
            out = self.inner.update(*args, **kwargs)   # raises a real error
            self._fall_back(f"{type(err).__name__}: {_first_line(err)}")
            return out
        if first:
            self._signatures.add(signature)
            self._shared.compile_seconds += time.perf_counter() - start
            self._shared.compiled_calls += 1
        return out

    # -- the wrapped optimizer in every other respect ------------------------

    @property
    def needs_loss(self):
        return self.inner.needs_loss

    @property
    def is_gradient_descent(self):
        return self.inner.is_gradient_descent

    def init(self, params):
        return self.inner.init(params)

    def finalize(self, params, state):
        return self.inner.finalize(params, state)

    def diagnostics(self, state):
        return self.inner.diagnostics(state)

    def for_layout(self, layout):
        bound = self.inner.for_layout(layout)
        if bound is self.inner:
            return self
        key = tuple(layout)
        if key not in self._layouts:
            self._layouts[key] = CompiledOptimizer(bound, self.options,
                                                   self._shared)
        return self._layouts[key]

    def gd_step_size(self, theta):
        return self.inner.gd_step_size(theta)

    def init_theta(self, gen=None, dtype=torch.float64):
        return self.inner.init_theta(gen, dtype)

    def hyperparameters(self, theta):
        return self.inner.hyperparameters(theta)

    def theta_from(self, **values):
        return self.inner.theta_from(**values)

    def __getattr__(self, name):
        # the wrapped optimizer's own members (``hidden``, ``unpack``, ...);
        # only reached for names this class does not define
        if name.startswith("_") or name in ("inner", "options"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self):
        return f"compiled({self.inner!r})"

    def __eq__(self, other):
        return (isinstance(other, CompiledOptimizer)
                and self.inner == other.inner
                and self.options == other.options)

    def __hash__(self):
        return hash((CompiledOptimizer, self.inner))

    def __reduce__(self):
        # compiled code does not pickle: a copy compiles afresh
        return (CompiledOptimizer, (self.inner, self.options))


#: TorchDynamo's limit on compiled variants of one function, raised so that
#: the variants of a run (dtypes, shapes, grad modes, layouts) all compile
RECOMPILE_LIMIT = 64


def _configure_compilation():
    """Process-wide settings the wrapper needs, set at its first compile:
    the backward is lowered when the forward compiles (so that a failure
    to compile it is caught by the fallback, not raised later inside
    ``torch.autograd.grad``; a torch without that setting lowers it at the
    first backward), and enough recompilations are allowed."""
    import torch._dynamo.config as dynamo_config
    import torch._functorch.config as functorch_config
    if hasattr(functorch_config, "force_non_lazy_backward_lowering"):
        functorch_config.force_non_lazy_backward_lowering = True
    # the limit's name before torch 2.6 was ``cache_size_limit``
    limit = ("recompile_limit" if hasattr(dynamo_config, "recompile_limit")
             else "cache_size_limit")
    setattr(dynamo_config, limit,
            max(getattr(dynamo_config, limit), RECOMPILE_LIMIT))


def _first_line(err):
    text = str(err).strip().splitlines()
    return text[0][:300] if text else ""


def compiled(optimizer, **options):
    """``optimizer`` (any inner optimizer) with its update compiled by
    ``torch.compile(**options)``; see :class:`CompiledOptimizer`."""
    return CompiledOptimizer(optimizer, options)


def is_compiled(optimizer):
    """Whether ``optimizer``'s update goes through ``torch.compile``."""
    return isinstance(optimizer, CompiledOptimizer)
