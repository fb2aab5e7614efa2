"""Inner optimizers: the contract (:mod:`.base`) and the rules.

- :mod:`.base`: :class:`InnerOptimizer` and :class:`LearnableOptimizer`;
- :mod:`.hand_designed`: gradient descent, SGD with momentum and Adam,
  with learnable hyper-parameters (``theta`` in log / logit coordinates);
- :mod:`.neural`: the coordinate-wise neural learned optimizer;
- :mod:`.step_size_rules`: hypergradient descent and Polyak's step;
- :mod:`.torch_optim`: ``torch.optim`` optimizers (DoG, Prodigy, ...),
  one instance per task.
"""

from .base import InnerOptimizer, LearnableOptimizer
from .hand_designed import Adam, GradientDescent, SGDMomentum, adam_step
from .neural import NeuralOptimizer
from .step_size_rules import HypergradientDescent, PolyakStep
from .torch_optim import PerTaskTorchOptimizer

__all__ = [
    "InnerOptimizer", "LearnableOptimizer", "Adam", "GradientDescent",
    "SGDMomentum", "adam_step", "NeuralOptimizer", "HypergradientDescent",
    "PolyakStep", "PerTaskTorchOptimizer",
]
