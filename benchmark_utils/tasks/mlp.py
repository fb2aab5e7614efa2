"""Small-network tasks: MLP classifiers trained by mini-batch steps
(paper Section 5).

A task is a data set of images with randomly permuted class labels and an
MLP ``in -> hidden... -> 10`` with units ``a`` (ReLU by default, tanh or
GELU: :data:`ACTIVATIONS`) and softmax cross-entropy::

    f(w; S) = 1/|S| sum_{(x, y) in S} [logsumexp(z(x)) - z_y(x)],
    z(x) = W_L a(... a(W_1 x + b_1) ...) + b_L.

Parameters are one flat vector per task (B, D), layer by layer ``W_l`` (in
x out, row-major) then ``b_l``, so that any coordinate-wise inner optimizer
(gradient descent, Adam, a learned one) applies as is. The inner optimizer
follows at step k the gradient on mini-batch k of the task's training set
(:meth:`MLPTasks.inner_grad`), from the one mini-batch schedule of
:mod:`.sampler`, so that an unrolled run is a deterministic function of
the optimizer's theta.

Forward and backward passes are written out as batched matrix products
over tasks (no per-task Python loop, no autograd tape for the inner
gradient); the backward pass is itself made of differentiable operations,
so autograd or forward mode can still differentiate an unroll through it
(second derivatives of the meta-objective).

:class:`MLPTasks` is also the base of the other classification families
(:mod:`.modules`): the data, the mini-batch schedule, hold-out and restarts
live here, the network in three methods (:meth:`MLPTasks.logits_of`,
:meth:`MLPTasks.value_and_grad`, :meth:`MLPTasks.initial_params`).
"""

from dataclasses import dataclass, replace
import math

import torch
import torch.nn.functional as F

from .base import DTYPES, TaskBatch, make_generator
from .sampler import MinibatchSchedule, gather_rows
from ..validation import check_choice, check_float, check_int


def _gelu_derivative(pre):
    """``d/da [a Phi(a)] = Phi(a) + a phi(a)`` (the exact, erf-form GELU)."""
    return (0.5 * (1 + torch.erf(pre * math.sqrt(0.5)))
            + pre * torch.exp(-0.5 * pre.square()) / math.sqrt(2 * math.pi))


#: unit name -> (a(pre), a'(pre, post)): the derivative is written out from
#: the pre-activation ``pre`` and the activation ``post = a(pre)``
ACTIVATIONS = {
    "relu": (torch.relu, lambda pre, post: post > 0),
    "tanh": (torch.tanh, lambda pre, post: 1 - post.square()),
    "gelu": (F.gelu, lambda pre, post: _gelu_derivative(pre)),
}


def layer_shapes(sizes):
    """``[(fan_in, fan_out), ...]`` of an MLP with layer ``sizes``."""
    return list(zip(sizes[:-1], sizes[1:]))


def param_shapes(sizes):
    """Shapes of the parameter tensors, in the flat vector's order."""
    out = []
    for fan_in, fan_out in layer_shapes(sizes):
        out += [(fan_in, fan_out), (fan_out,)]
    return tuple(out)


def init_params(n_tasks, sizes, gen, dtype):
    """PyTorch's default initialisation, ``U(-1/sqrt(fan_in),
    1/sqrt(fan_in))`` for weights and biases, one draw per task."""
    parts = []
    for fan_in, fan_out in layer_shapes(sizes):
        bound = 1.0 / math.sqrt(fan_in)
        for size in (fan_in * fan_out, fan_out):
            u = torch.rand(n_tasks, size, generator=gen, dtype=torch.float64)
            parts.append((2 * u - 1) * bound)
    return torch.cat(parts, dim=1).to(dtype)


def _unflatten(w, sizes):
    """Views ``[(W_1, b_1), ...]`` of flat parameters (B, D)."""
    layers, start = [], 0
    for fan_in, fan_out in layer_shapes(sizes):
        W = w[:, start:start + fan_in * fan_out].view(-1, fan_in, fan_out)
        start += fan_in * fan_out
        b = w[:, start:start + fan_out]
        start += fan_out
        layers.append((W, b))
    return layers


def logits(w, X, sizes, activation="relu"):
    """Network outputs (B, n, classes) at inputs X (B, n, p)."""
    unit = ACTIVATIONS[activation][0]
    h = X
    layers = _unflatten(w, sizes)
    for i, (W, b) in enumerate(layers):
        h = torch.baddbmm(b.unsqueeze(1), h, W)
        if i < len(layers) - 1:
            h = unit(h)
    return h


def cross_entropy(z, y):
    """Per-sample cross-entropy (B, n) of logits z (B, n, c), labels y."""
    return torch.logsumexp(z, -1) - z.gather(-1, y.unsqueeze(-1)).squeeze(-1)


def loss_and_grad(w, X, y, sizes, activation="relu"):
    """Mean cross-entropy (B,) on (X, y) and its gradient in w (B, D).

    Backpropagation written out: with ``delta_L = (softmax(z) - onehot(y))
    / n``, ``dW_l = h_{l-1}^T delta_l``, ``db_l = sum_n delta_l`` and
    ``delta_{l-1} = (delta_l W_l^T) * a'(pre_{l-1})`` (ReLU: ``1[h_{l-1} >
    0]``; tanh: ``1 - h_{l-1}^2``; GELU: ``Phi + pre phi``).
    """
    unit, derivative = ACTIVATIONS[activation]
    layers = _unflatten(w, sizes)
    acts, slopes = [X], [None]
    h = X
    for i, (W, b) in enumerate(layers):
        h = torch.baddbmm(b.unsqueeze(1), h, W)
        if i < len(layers) - 1:
            pre, h = h, unit(h)
            acts.append(h)
            slopes.append(derivative(pre, h))
    loss = cross_entropy(h, y).mean(-1)
    n = X.shape[1]
    delta = (torch.softmax(h, -1)
             - F.one_hot(y, h.shape[-1]).to(h.dtype)) / n
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        W, _ = layers[i]
        h_in = acts[i]
        grads.append(delta.sum(1))
        grads.append(torch.bmm(h_in.transpose(1, 2), delta).flatten(1))
        if i > 0:
            delta = torch.bmm(delta, W.transpose(1, 2)) * slopes[i]
    return loss, torch.cat(grads[::-1], dim=1)


@dataclass(frozen=True, eq=False)
class LabelledSample:
    """A labelled sample per task: X (B, n, p), y (B, n)."""

    X: torch.Tensor
    y: torch.Tensor


@dataclass(frozen=True, eq=False)
class SplitLoss:
    """Mean cross-entropy of every task on one split, as a callable
    ``w (B, D) -> (B,)`` (the meta-objective's ``tasks.loss(split)``);
    ``network(w, X)`` gives the logits."""

    data: LabelledSample
    network: object

    def __call__(self, w):
        return cross_entropy(self.network(w, self.data.X),
                             self.data.y).mean(-1)


@dataclass(frozen=True, eq=False)
class MLPTasks(TaskBatch):
    """A batch of MLP classification tasks (see the module docstring).

    ``train`` is what the inner optimizer trains on (mini-batches of
    ``schedule``), ``test`` the held-out images of the meta-test metrics,
    ``validation`` the held-out part of ``train`` after :meth:`hold_out`.
    ``seed`` seeds :meth:`restart` and the schedule's redraws.
    ``activation``: the hidden units (:data:`ACTIVATIONS`).
    """

    sizes: tuple
    w0: torch.Tensor                # (B, D)
    train: LabelledSample
    test: LabelledSample
    schedule: MinibatchSchedule
    seed: int
    validation: LabelledSample | None = None
    activation: str = "relu"
    family: str = "mlp"

    # -- the network (what a subclass of another architecture overrides) --

    def logits_of(self, w, X):
        """Logits (B, n, classes) of parameters w (B, D) at X (B, n, p)."""
        return logits(w, X, self.sizes, self.activation)

    def value_and_grad(self, w, X, y):
        """Mean cross-entropy (B,) on (X, y) and its gradient (B, D)."""
        return loss_and_grad(w, X, y, self.sizes, self.activation)

    def initial_params(self, gen):
        """A fresh initialisation (B, D) of every task's network."""
        return init_params(self.n_tasks, self.sizes, gen, self.dtype)

    # -- the contract ------------------------------------------------------

    def _batch(self, k):
        rows = self.schedule.rows(k)
        return gather_rows(self.train.X, rows), gather_rows(self.train.y, rows)

    def inner_grad(self, w, step):
        """Gradient (B, D) of the cross-entropy on mini-batch ``step``."""
        return self.value_and_grad(w, *self._batch(step))[1]

    def inner_loss(self, w, step):
        """Cross-entropy (B,) on mini-batch ``step``."""
        X, y = self._batch(step)
        return cross_entropy(self.logits_of(w, X), y).mean(-1)

    def loss(self, split):
        """Full-split mean cross-entropy: "train", "validation", "test"."""
        return SplitLoss(self.split_part(split), self.logits_of)

    def metrics(self, w, horizon):
        """Meta-test metrics at parameters ``w`` (B, D), plain floats:
        ``value`` (mean test cross-entropy; a task whose loss is not finite
        counts +inf), ``log_objective`` (mean ``(1/T) log`` test
        cross-entropy), ``test_accuracy``, ``train_accuracy``,
        ``train_loss`` (full training set) and ``diverged_fraction``."""
        out = {}
        with torch.no_grad():
            for name, data in (("test", self.test), ("train", self.train)):
                z = self.logits_of(w, data.X)
                loss = cross_entropy(z, data.y).mean(-1).double()
                loss = torch.where(torch.isfinite(loss), loss, math.inf)
                acc = (z.argmax(-1) == data.y).double().mean(-1)
                out[name] = loss
                out[f"{name}_accuracy"] = float(acc.mean())
        return dict(
            value=float(out["test"].mean()),
            log_objective=float(torch.log(out["test"]).mean()) / horizon,
            test_accuracy=out["test_accuracy"],
            train_accuracy=out["train_accuracy"],
            train_loss=float(out["train"].mean()),
            diverged_fraction=float(torch.isinf(out["test"]).double().mean()),
        )

    # -- capabilities ------------------------------------------------------

    @property
    def n_samples(self):
        return self.train.X.shape[1]

    @property
    def layout(self):
        """``W_l`` (fan_in, fan_out) then ``b_l`` (fan_out,), layer by
        layer."""
        return param_shapes(self.sizes)

    def hold_out(self, val_fraction):
        """Hold out the last ``round(val_fraction n)`` training samples of
        each task as its validation split; training is on the rest, with
        mini-batches redrawn for the smaller set."""
        n_train, n_val = self.check_hold_out(val_fraction)
        X, y = self.train.X, self.train.y
        return replace(
            self, train=LabelledSample(X[:, :-n_val], y[:, :-n_val]),
            validation=LabelledSample(X[:, -n_val:], y[:, -n_val:]),
            schedule=self.schedule.redraw(n_train,
                                          make_generator(self.seed + 1)),
        )

    def held_out_unavailable(self):
        return None

    def validate_on_held_out(self):
        """All training samples train the network; each task's own
        held-out images (its ``test`` split: for meta-train tasks, images
        that no meta-test task is scored on as such) are its validation
        split. :meth:`restart` re-partitions the two afresh, same sizes."""
        return replace(self, validation=self.test)

    def restart(self, run):
        """The same tasks (data) with a fresh initialisation and mini-batch
        order, drawn from ``(seed, run)``: run 0 is these tasks. Tasks
        with a held-out validation split (:meth:`hold_out`) are also
        split afresh, with the same sizes: a new random partition of each
        task's samples, so that meta-training over many runs sees the
        expected held-out loss over partitions, not the loss of one
        validation sample (which a learned optimizer can overfit)."""
        if run == 0:
            return self
        gen = make_generator(self.seed * 7919 + run)
        w0 = self.initial_params(gen)
        parts = {} if self.validation is None else self._repartition(gen)
        return replace(self, w0=w0.to(self.device),
                       schedule=self.schedule.redraw(self.n_samples, gen),
                       **parts)

    def _repartition(self, gen):
        """``train`` and ``validation`` of a fresh random partition of each
        task's training and validation samples, of the same sizes."""
        X = torch.cat([self.train.X, self.validation.X], dim=1)
        y = torch.cat([self.train.y, self.validation.y], dim=1)
        n_train = self.train.X.shape[1]
        perm = torch.stack([torch.randperm(X.shape[1], generator=gen)
                            for _ in range(self.n_tasks)]).to(X.device)
        X, y = gather_rows(X, perm), gather_rows(y, perm)
        return dict(train=LabelledSample(X[:, :n_train], y[:, :n_train]),
                    validation=LabelledSample(X[:, n_train:],
                                              y[:, n_train:]))

    def tile(self, copies):
        """``copies`` copies of these tasks side by side (see
        :meth:`TaskBatch.tile`)."""
        def rep(x):
            return x.repeat(copies, *([1] * (x.dim() - 1)))

        def sample(part):
            return None if part is None else LabelledSample(
                rep(part.X), rep(part.y))

        return replace(
            self, w0=rep(self.w0), train=sample(self.train),
            test=sample(self.test), validation=sample(self.validation),
            schedule=MinibatchSchedule(rep(self.schedule.table)))

    def to(self, device):
        """These tasks on ``device``."""
        def move(part):
            return None if part is None else LabelledSample(
                part.X.to(device), part.y.to(device))

        return replace(
            self, w0=self.w0.to(device), train=move(self.train),
            test=move(self.test), validation=move(self.validation),
            schedule=self.schedule.to(device),
        )


def draw_task_data(images, labels, n_tasks, n_samples, n_test, label_noise,
                   gen, dtype):
    """The data of ``n_tasks`` classification tasks drawn from ``(images,
    labels)`` (numpy): ``(train, test, n_classes)``, two
    :class:`LabelledSample`.

    Each task: a random permutation of the class labels; ``n_samples``
    training images drawn without replacement, each training label replaced
    with probability ``label_noise`` by a uniformly drawn one; ``n_test``
    of the remaining images (clean labels) as its test set.
    """
    X_all = torch.as_tensor(images)
    y_all = torch.as_tensor(labels)
    n_classes = int(y_all.max()) + 1
    Xtr, ytr, Xte, yte = [], [], [], []
    for _ in range(n_tasks):
        perm = torch.randperm(len(X_all), generator=gen)
        relabel = torch.randperm(n_classes, generator=gen)
        train, test = perm[:n_samples], perm[n_samples:n_samples + n_test]
        y = relabel[y_all[train]]
        noisy = torch.rand(n_samples, generator=gen) < label_noise
        random_labels = torch.randint(n_classes, (n_samples,), generator=gen)
        Xtr.append(X_all[train])
        ytr.append(torch.where(noisy, random_labels, y))
        Xte.append(X_all[test])
        yte.append(relabel[y_all[test]])
    return (LabelledSample(torch.stack(Xtr).to(dtype), torch.stack(ytr)),
            LabelledSample(torch.stack(Xte).to(dtype), torch.stack(yte)),
            n_classes)


def make_mlp_tasks(images, labels, n_tasks, n_samples, n_test, hidden,
                   batch_size, label_noise, horizon, gen, dtype,
                   activation="relu"):
    """Draw ``n_tasks`` MLP tasks from ``(images, labels)`` (numpy).

    The data of :func:`draw_task_data`; an MLP ``p -> hidden -> classes``
    with ``activation`` units, initialised at random; ``horizon``
    mini-batches of ``batch_size`` in shuffled epochs.
    """
    train, test, n_classes = draw_task_data(
        images, labels, n_tasks, n_samples, n_test, label_noise, gen, dtype)
    sizes = (train.X.shape[2], *hidden, n_classes)
    seed = int(torch.randint(2 ** 31, (1,), generator=gen))
    return MLPTasks(
        sizes=sizes,
        w0=init_params(n_tasks, sizes, gen, dtype),
        train=train,
        test=test,
        schedule=MinibatchSchedule.draw(n_tasks, n_samples, batch_size,
                                        horizon, gen),
        seed=seed,
        activation=activation,
    )


SOURCES = {"digits": 1797, "mnist": 70000}     # images available


def check_mlp_parameters(held_out_pool=False, **p):
    """Validate the ``mlp`` family's parameters (the data's and, where
    ``hidden`` is given, the network's); return them normalised.

    ``held_out_pool``: the meta-train tasks draw from half of the images
    (the other half is held out for the suites), so ``n_samples + n_test``
    must fit in half of them. Raises ValueError naming the parameter,
    before any data is loaded.
    """
    out = dict(source=check_choice("source", p["source"], SOURCES))
    for key in ("n_samples", "n_test", "batch_size", "horizon",
                "n_train_tasks", "n_test_tasks"):
        out[key] = check_int(key, p[key])
    out["n_samples"] = check_int("n_samples", p["n_samples"], 2)
    available = SOURCES[out["source"]]
    if held_out_pool:
        available = int(available / 2)
    if out["n_samples"] + out["n_test"] > available:
        where = (" (half of them with suites: the other half is held out)"
                 if held_out_pool else "")
        raise ValueError(
            f"parameters 'n_samples' + 'n_test' must be <= {available} (the "
            f"{out['source']} images{where}), got {out['n_samples']} + "
            f"{out['n_test']}"
        )
    out["label_noise"] = check_float("label_noise", p["label_noise"], 0.0,
                                     1.0)
    out["dtype"] = DTYPES[check_choice("dtype", p["dtype"], DTYPES)]
    if "hidden" in p:           # the MLP's (other networks have none)
        out["hidden"] = check_hidden(p["hidden"])
        out["activation"] = check_choice(
            "activation", p.get("activation", "relu"), ACTIVATIONS)
    return out


def check_hidden(hidden):
    """The hidden widths as a tuple of ints >= 1; ValueError naming
    ``hidden``."""
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, (tuple, list)):
        raise ValueError(
            "parameter 'hidden' must be a tuple of layer widths, got "
            f"{hidden!r}"
        )
    return tuple(check_int("hidden", h) for h in hidden)
