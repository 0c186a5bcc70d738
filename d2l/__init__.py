"""Dive into Deep Learning utilities: `from d2l import torch as d2l` (or mxnet, tensorflow)."""
