"""Held-out meta-test suites: the tasks a learned optimizer was not
trained on.

A task family meta-trains on its meta-train tasks (``train_tasks``) and is
judged on held-out tasks: ``test_tasks``, the in-distribution suite, which
every existing metric (``value``, ...) describes, and any number of named
**suites** that change one thing (a wider or deeper network, another
activation, a longer horizon, other data). A dataset's ``get_data`` may
return ``suites``: a mapping ``name -> Suite``; a dataset parameter
(``suites``) chooses them by name (:func:`check_suites`). The objective
reports each suite's metrics under the prefix ``suite_<name>_`` (see
``objective.py`` for when they are evaluated).

Failure behaviour:

- an unknown suite name is a ValueError naming the parameter and the known
  names (:func:`check_suites`): the dataset is skipped with that reason;
- a suite that cannot be built from this family (its data is missing, or
  the variation makes no sense here, e.g. the ``tanh`` suite of a tanh
  family) raises :class:`SuiteUnavailable` in its builder and becomes
  :meth:`Suite.skipped`: the objective reports the reason and evaluates the
  others (:func:`build_suites`).

For the classification families, a suite is a *variation* of the family's
own parameters (:data:`VARIATIONS`): the dataset draws its tasks with the
same function as the meta-train tasks, from data the meta-train tasks never
see (:func:`split_pool`).
"""

from dataclasses import dataclass
import re
import zlib

import numpy as np
import torch

from .base import TaskBatch, make_generator

SUITE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SuiteUnavailable(Exception):
    """Raised by a suite builder: the suite cannot be built from this family
    (its data is missing, or the variation makes no sense here); the
    message is the reason."""


@dataclass(frozen=True, eq=False)
class Suite:
    """A held-out meta-test suite: ``tasks`` run ``horizon`` inner steps;
    or, where it could not be built, ``tasks = None`` and the reason in
    ``unavailable``."""

    tasks: TaskBatch | None
    horizon: int | None
    unavailable: str | None = None

    @classmethod
    def skipped(cls, reason):
        return cls(None, None, str(reason))

    def validate(self, name):
        """Check the suite's name and members; ValueError naming them."""
        if not isinstance(name, str) or not SUITE_NAME.match(name):
            raise ValueError(
                f"suite name {name!r} must be lower-case letters, digits and "
                "underscores (it prefixes metric names)"
            )
        if self.unavailable is None:
            if not isinstance(self.tasks, TaskBatch):
                raise ValueError(f"suite {name!r} must hold a TaskBatch, got "
                                 f"{type(self.tasks).__name__}")
            self.tasks.validate()
            if (isinstance(self.horizon, bool)
                    or not isinstance(self.horizon, int)
                    or self.horizon < 1):
                raise ValueError(f"suite {name!r} must have an integer "
                                 f"horizon >= 1, got {self.horizon!r}")
        return self


def check_suites(value, known, name="suites"):
    """The suite names a dataset parameter asks for, as a tuple (in the
    order of ``known``, each once).

    ``None``, ``"none"`` or an empty tuple: no suite; ``"all"``: every one of
    ``known``; a name or a tuple (list) of names. Anything else, or an
    unknown name, is a ValueError naming the parameter and the known names.
    """
    allowed = ", ".join(repr(k) for k in known)
    if value is None or value == "none":
        return ()
    if value == "all":
        return tuple(known)
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (tuple, list)) or not all(
            isinstance(n, str) for n in names):
        raise ValueError(
            f"parameter {name!r} must be 'all', 'none', a suite name or a "
            f"tuple of suite names (among {allowed}), got {value!r}"
        )
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"parameter {name!r} must name known suites ({allowed}, or "
            f"'all', 'none'), got unknown {unknown[0]!r}"
        )
    return tuple(k for k in known if k in names)


def build_suites(names, build):
    """``{name: Suite}`` for every name: ``build(name)`` (a :class:`Suite`),
    or :meth:`Suite.skipped` with the reason where it raises
    :class:`SuiteUnavailable`. Other errors propagate: they are bugs."""
    out = {}
    for name in names:
        try:
            out[name] = build(name)
        except SuiteUnavailable as err:
            out[name] = Suite.skipped(err)
    return out


# -- the classification families' suites: variations of their parameters --

def _hidden_layers(p, what):
    if not p["hidden"]:
        raise SuiteUnavailable(
            f"the family has no hidden layer (hidden=()): nothing {what}")
    return p["hidden"]


def _wider(p):
    hidden = _hidden_layers(p, "to widen")
    return {**p, "hidden": tuple(4 * h for h in hidden)}


def _deeper(p):
    hidden = _hidden_layers(p, "to repeat")
    return {**p, "hidden": tuple(h for h in hidden for _ in (0, 1))}


def _activation(unit):
    def vary(p):
        _hidden_layers(p, f"has {unit} units")
        if p["activation"] == unit:
            raise SuiteUnavailable(
                f"suite {unit!r} is the in-distribution family (its "
                f"activation is already {unit!r})")
        return {**p, "activation": unit}
    return vary


def _longer(p):
    return {**p, "horizon": 10 * p["horizon"]}


def _source(source):
    def vary(p):
        if p["source"] == source:
            raise SuiteUnavailable(
                f"suite {source!r} is the in-distribution data (the family's "
                f"source is already {source!r})")
        return {**p, "source": source}
    return vary


#: suite name -> (what it changes, the variation of the family's parameters
#: ``p -> p'``, which raises SuiteUnavailable where it makes no sense)
VARIATIONS = {
    "wider": ("4x the hidden units", _wider),
    "deeper": ("twice the hidden layers (each width repeated)", _deeper),
    "tanh": ("tanh units", _activation("tanh")),
    "gelu": ("GELU units", _activation("gelu")),
    "longer": ("10x the horizon", _longer),
    "synthetic": ("make_classification data instead of images",
                  _source("synthetic")),
    "mnist": ("MNIST instead of the 8 x 8 digits", _source("mnist")),
}


def split_pool(images, gen, held_out=0.5):
    """Indices ``(meta_train, meta_test)`` of a random split of ``images``
    (N, p) into a meta-train pool and a held-out pool of about ``held_out
    N`` images (exactly ``N - floor((1 - held_out) N)`` where no two images
    are equal), drawn from ``gen``. Identical images go to the same side, so
    no held-out image is also a meta-train image."""
    _, group = np.unique(np.asarray(images), axis=0, return_inverse=True)
    group = np.asarray(group).reshape(-1)
    counts = np.bincount(group)
    order = torch.randperm(len(counts), generator=gen).numpy()
    n_train = int((1 - held_out) * len(group))
    taken = np.searchsorted(np.cumsum(counts[order]), n_train, side="right")
    train = np.isin(group, order[:taken])
    return np.flatnonzero(train), np.flatnonzero(~train)


def _suite_generator(seed, name):
    """A generator for suite ``name``'s draws: the same tasks whichever
    other suites a run asks for."""
    return make_generator(int(seed) * 1_000_003 + zlib.crc32(name.encode()))


def family_data(p, data, draw, load, seed, gen, suites=(),
                variations=VARIATIONS):
    """What the ``get_data`` of a classification dataset returns.

    ``p``: the family's normalised parameters (with ``source``, ``horizon``,
    ``n_samples``, ``n_test``, ``n_train_tasks``, ``n_test_tasks``);
    ``data``: ``(images, labels)`` of the family's source;
    ``draw(q, images, labels, n_tasks, gen)``: ``n_tasks`` tasks of the
    family with parameters ``q`` drawn from ``(images, labels)``;
    ``load(source, n, gen)``: ``(images, labels)`` of another source (at
    least n of them where it generates them), raising
    :class:`SuiteUnavailable` with the instructions where the data is
    missing (None where no suite changes the source); ``gen`` the
    generator of the meta-train and meta-test tasks (seeded with
    ``seed``).

    Without suites, the meta-train and meta-test tasks draw from all the
    images (the paper's family). With suites, :func:`split_pool` holds out
    half of them: the meta-train tasks draw from the other half only; the
    in-distribution meta-test tasks and every suite on the same source
    draw from the held-out half; a suite on another source draws from all
    of it (none of it is meta-train data). A suite's tasks are drawn from
    their own generator (:func:`_suite_generator`).
    """
    images, labels = data
    if not suites:
        return dict(
            train_tasks=draw(p, images, labels, p["n_train_tasks"], gen),
            test_tasks=draw(p, images, labels, p["n_test_tasks"], gen),
            horizon=p["horizon"])
    train, held_out = split_pool(images, gen)
    pool = (images[held_out], labels[held_out])

    def build(name):
        q = variations[name][1](p)
        suite_gen = _suite_generator(seed, name)
        if q["source"] == p["source"]:
            X, y = pool
        else:
            X, y = load(q["source"], 2 * (q["n_samples"] + q["n_test"]),
                        suite_gen)
        if q["n_samples"] + q["n_test"] > len(X):
            raise SuiteUnavailable(
                f"suite {name!r} needs n_samples + n_test = "
                f"{q['n_samples'] + q['n_test']} samples, its data has "
                f"{len(X)}")
        return Suite(draw(q, X, y, q["n_test_tasks"], suite_gen),
                     q["horizon"])

    return dict(
        train_tasks=draw(p, images[train], labels[train],
                         p["n_train_tasks"], gen),
        test_tasks=draw(p, *pool, p["n_test_tasks"], gen),
        horizon=p["horizon"],
        suites=build_suites(suites, build))


#: the conv family's suites (``channels`` instead of ``hidden``)
CONV_VARIATIONS = {
    "wider": ("4x the channels",
              lambda p: {**p, "channels": 4 * p["channels"]}),
    "longer": VARIATIONS["longer"],
}
