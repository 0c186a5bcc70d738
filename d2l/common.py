"""What every framework module offers in the same way: each does `from .common import *`.

Plots, timing, the 2-D optimizer traces and data download do not depend on the
framework, so `d2l.torch.plot` is `d2l.mxnet.plot` is `d2l.tensorflow.plot`.
`device_helpers` builds the two device functions that only differ by the
framework's own `cpu`, `gpu` and `num_gpus`.

The book's saved code (`#@save`) uses the modules its preface's `#@save` cell imports (`display`,
`time`, `backend_inline`, `requests`, ...) as this library's globals: they are bound here too, so that
code runs whether or not the build's toc holds the preface (d2lbook keeps such imports above its
generated line). `unavailable_module` stands where a framework's preface imports what its
environment cannot (PyTorch's torchvision).
"""
# The book's preface, chapter_preface/index.md, `#@tab all` `#@save` (d2l-tr at fff29a8).
import collections
import hashlib
import math
import os
import random
import re
import shutil
import sys
import tarfile
import time
import types
import zipfile
from collections import defaultdict

import pandas as pd
import requests
from IPython import display
from matplotlib_inline import backend_inline

from .data import DATA_HUB, DATA_URL, DownloadError, download, read_airfoil
from .plotting import Animator, plot, plt, set_axes, set_figsize, show_trace_2d, use_svg_display
from .training import Accumulator, Timer, train_2d

__all__ = ['Accumulator', 'Animator', 'DATA_HUB', 'DATA_URL', 'DownloadError', 'Timer',
           'download', 'plot', 'plt', 'read_airfoil', 'set_axes', 'set_figsize',
           'show_trace_2d', 'train_2d', 'use_svg_display',
           # the preface's imports
           'collections', 'defaultdict', 'display', 'math', 'backend_inline', 'os', 'pd', 'random', 're',
           'shutil', 'sys', 'tarfile', 'time', 'requests', 'zipfile', 'hashlib']


class unavailable_module(types.ModuleType):
    """Bound where the book imports a module its environment cannot import: the library still imports,
    and only the code that uses the module fails, with ModuleNotFoundError naming it and why."""

    def __init__(self, name, why):
        super().__init__(name)
        self.why = why

    def __getattr__(self, attribute):
        if attribute.startswith('__'):   # copy, pickle and inspect probe dunders: not a use
            raise AttributeError(attribute)
        raise ModuleNotFoundError(f"No module named '{self.__name__}' can be imported here ({self.why}), "
                                  f"so `{self.__name__}.{attribute}` cannot be used", name=self.__name__)


def device_helpers(cpu, gpu, num_gpus):
    """`try_gpu` and `try_all_gpus` for a framework's cpu(), gpu(i) and num_gpus()."""
    def try_gpu(i=0):
        """The i-th GPU if it exists, else the CPU."""
        return gpu(i) if num_gpus() >= i + 1 else cpu()

    def try_all_gpus():
        """All GPUs, or [cpu()] if there is none."""
        return [gpu(i) for i in range(num_gpus())] or [cpu()]

    return try_gpu, try_all_gpus
