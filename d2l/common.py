"""What every framework module offers in the same way: each does `from .common import *`.

Plots, timing, the 2-D optimizer traces and data download do not depend on the
framework, so `d2l.torch.plot` is `d2l.mxnet.plot` is `d2l.tensorflow.plot`.
`device_helpers` builds the two device functions that only differ by the
framework's own `cpu`, `gpu` and `num_gpus`.
"""
from .data import DATA_HUB, DATA_URL, DownloadError, download, read_airfoil
from .plotting import Animator, plot, plt, set_axes, set_figsize, show_trace_2d, use_svg_display
from .training import Accumulator, Timer, train_2d

__all__ = ['Accumulator', 'Animator', 'DATA_HUB', 'DATA_URL', 'DownloadError', 'Timer',
           'download', 'plot', 'plt', 'read_airfoil', 'set_axes', 'set_figsize',
           'show_trace_2d', 'train_2d', 'use_svg_display']


def device_helpers(cpu, gpu, num_gpus):
    """`try_gpu` and `try_all_gpus` for a framework's cpu(), gpu(i) and num_gpus()."""
    def try_gpu(i=0):
        """The i-th GPU if it exists, else the CPU."""
        return gpu(i) if num_gpus() >= i + 1 else cpu()

    def try_all_gpus():
        """All GPUs, or [cpu()] if there is none."""
        return [gpu(i) for i in range(num_gpus())] or [cpu()]

    return try_gpu, try_all_gpus
