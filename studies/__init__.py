"""Studies built on the library (``benchmark_utils``) and on benchopt runs:
they write tables and figures, and are not imported by the benchmark's
components. Run from the repository root, e.g.
``python -m studies.estimator_comparison``.

- :mod:`.estimator_comparison`: every meta-gradient estimator against the
  exact one, and meta-training with each;
- :mod:`.neural_meta_training`: what meta-training the neural learned
  optimizer does, meta-step by meta-step (docs/neural_meta_training.md);
- :mod:`.memory`: the one peak-memory probe (also used by
  ``benchmarks/``);
- :mod:`.labels`: short labels of benchopt solver names for figures and
  tables.
"""
