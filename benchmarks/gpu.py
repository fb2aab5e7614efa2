"""The learned-optimizer figures of ``benchmarks/run.py`` on CUDA.

    python benchmarks/gpu.py            # full sizes, under 5 minutes
    python benchmarks/gpu.py --quick    # the quick sizes

One command for whoever has a GPU: the meta-gradient against ``higher``
and ``torchopt`` and against the eager path, the update cost of every
learned optimizer against ``torch.optim.Adam(foreach=True)``, the whole
digits-MLP training step against Adam's and against its arithmetic and
memory bound, compiled against eager, compile time apart
(``benchmarks/hardware.py``), all on ``cuda`` (Triton kernels), CUDA
synchronised before every clock read. On top of the CPU's figures
(``hardware.CUDA``): each update also replayed as a CUDA graph, and the
update block again on 512 tasks, a size that fills the GPU. Each figure is
printed as soon as it is measured, with the GPU's name and the torch
version. Without a CUDA device it prints the reason and exits with status 2
(nothing is measured on the CPU instead).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import emit  # noqa: E402
import hardware  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the quick sizes of benchmarks/run.py")
    args = parser.parse_args(argv)
    import torch
    if not torch.cuda.is_available():
        print("benchmarks/gpu.py: no CUDA device here (torch "
              f"{torch.__version__}, torch.cuda.is_available() is False); "
              "nothing measured", file=sys.stderr)
        return 2
    sizes = hardware.CUDA_QUICK if args.quick else hardware.CUDA
    for fig in hardware.all_figures(sizes, "cuda"):
        fig["gpu"] = torch.cuda.get_device_name()
        fig["torch"] = torch.__version__
        emit(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
