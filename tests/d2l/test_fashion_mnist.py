"""The book's data sets: DATA_HUB as the book names them, and Fashion-MNIST through each framework's own
loader from D2L_DATA_DIR or DATA_MIRROR (tiny files in the real idx/gz format, made here: never the network)."""
import gzip
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy
import pytest

from d2l import data

BOOK = Path(__file__).resolve().parents[2].parent / 'shared' / 'book' / 'd2l-tr'
CELL = re.compile(r'^```\{\.python \.input\}\n(.*?)^```', re.M | re.S)
ENTRY = re.compile(r"DATA_HUB\['([^']+)'\]\s*=\s*\(\s*(?:#@save\s*)?(.*?),\s*'([0-9a-f]{40})'\)", re.S)


def book_entries(framework):
    """{name: (url, sha1)} of every DATA_HUB entry in the book's cells for `framework` (a cell without
    `#@tab` is the first framework's, d2lbook's rule)."""
    first = os.environ.get('D2L_FRAMEWORKS', 'mxnet pytorch tensorflow').split()[0]
    entries = {}
    for page in sorted(BOOK.rglob('*.md')):
        for cell in CELL.findall(page.read_text(encoding='utf-8')):
            tab = re.match(r'#@tab\s+(.*)', cell)
            tabs = [t.strip() for t in tab.group(1).split(',')] if tab else [first]
            if framework not in tabs and 'all' not in tabs:
                continue
            for name, url, sha1 in ENTRY.findall(cell):
                url = eval(f'({url})', {'d2l': data, 'DATA_URL': data.DATA_URL})   # the book's own expression
                entries[name] = (url, sha1)
    return entries


def test_data_hub_knows_every_data_set_the_book_names(d2l, framework):
    if not BOOK.is_dir():
        pytest.fail(f'the test reads the book at {BOOK}', pytrace=False)
    entries = book_entries(framework)
    assert {'airfoil', 'kaggle_house_train', 'time_machine', 'fra-eng'} <= set(entries)
    assert {name: d2l.DATA_HUB.get(name) for name in entries} == entries


def idx_files(folder, images, labels):
    """Fashion-MNIST's four files in its format (big-endian idx headers, gzip), from uint8 arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = {'train_images': (2051, images[0]), 'train_labels': (2049, labels[0]),
             'test_images': (2051, images[1]), 'test_labels': (2049, labels[1])}
    sha1s = {}
    for part, (magic, array) in parts.items():
        header = struct.pack('>II', magic, len(array)) + (struct.pack('>II', 28, 28) if magic == 2051 else b'')
        path = folder / data.FASHION_MNIST[part][0]
        path.write_bytes(gzip.compress(header + array.astype(numpy.uint8).tobytes(), mtime=0))
        sha1s[part] = hashlib.sha1(path.read_bytes()).hexdigest()
    return sha1s


LOAD = """
import json, os, sys
import numpy
from d2l import {module} as d2l
for part, sha1 in json.loads(os.environ['TINY_SHA1S']).items():   # the tiny files stand in for the real ones
    d2l.DATA_HUB['fashion_mnist_' + part] = (d2l.DATA_HUB['fashion_mnist_' + part][0], sha1)
try:
    train_iter, test_iter = d2l.load_data_fashion_mnist(2)
except Exception as error:
    print(json.dumps({{'error': type(error).__name__, 'message': str(error)}}))
    sys.exit()
def arrays(batches):
    X, y = zip(*[(d2l.numpy(X), d2l.numpy(y)) for X, y in batches])
    return numpy.concatenate(X), numpy.concatenate(y)
(X, y), (Xt, yt) = arrays(train_iter), arrays(test_iter)
print(json.dumps({{'train': sorted(zip(y.tolist(), X.reshape(len(y), -1).astype(float).sum(1).tolist())),
                  'test': [yt.tolist(), Xt.reshape(len(yt), -1).astype(float).sum(1).tolist()]}}))
"""


def test_fashion_mnist_is_read_through_the_frameworks_loader_from_the_mirror(framework, tmp_path):
    """Offline, with the files only in DATA_MIRROR: each framework's own loader (Gluon's FashionMNIST,
    tf.keras.datasets.fashion_mnist; torchvision for PyTorch, which cannot run beside torch 2.13.0 CPU,
    so it fails saying so) reads them into D2L_DATA_DIR, and every image arrives scaled to [0, 1]."""
    rng = numpy.random.default_rng(0)
    images = [rng.integers(0, 256, (n, 28, 28)) for n in (3, 2)]
    labels = [numpy.array([4, 0, 9]), numpy.array([7, 1])]
    sha1s = idx_files(tmp_path / 'mirror', images, labels)
    env = {**os.environ, 'D2L_DATA_DIR': str(tmp_path / 'cache'), 'DATA_MIRROR': str(tmp_path / 'mirror'),
           # the frameworks' own caches, away from the reader's: Keras 2 (TensorFlow 2.15) keeps its data sets
           # in ~/.keras whatever KERAS_HOME says, so HOME too
           'KERAS_HOME': str(tmp_path / 'keras'), 'MXNET_HOME': str(tmp_path / 'mxnet'), 'HOME': str(tmp_path / 'home'),
           'TINY_SHA1S': json.dumps(sha1s), 'TF_CPP_MIN_LOG_LEVEL': '3'}
    done = subprocess.run([sys.executable, '-c', LOAD.format(module=os.environ['D2L_MODULE'])], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if framework == 'pytorch' and 'error' in result:
        assert result['error'] == 'ModuleNotFoundError'
        assert 'torchvision' in result['message'] and '2.13.0' in result['message']
        return
    assert 'error' not in result, result
    # labels differ: one order
    train = sorted(zip(labels[0].tolist(), images[0].reshape(3, -1).sum(1) / 255, strict=True))
    assert [label for label, _ in result['train']] == [label for label, _ in train]
    assert numpy.allclose([total for _, total in result['train']], [total for _, total in train], rtol=1e-5)
    assert result['test'][0] == labels[1].tolist()                                    # the test set in order
    assert numpy.allclose(result['test'][1], images[1].reshape(2, -1).sum(1) / 255, rtol=1e-5)
    assert sorted(p.name for p in (tmp_path / 'cache' / 'fashion-mnist').glob('*.gz')) == \
        sorted(file for file, _ in data.FASHION_MNIST.values())


def test_fashion_mnist_that_cannot_be_had_is_one_error_saying_how_to_provide_it(tmp_path, monkeypatch):
    def no_network(url, timeout=None):
        raise urllib.error.URLError('network is down (test)')
    monkeypatch.setattr(urllib.request, 'urlopen', no_network)
    monkeypatch.setenv('DATA_MIRROR', str(tmp_path / 'mirror'))
    with pytest.raises(data.DownloadError) as raised:
        data.fashion_mnist_files(cache_dir=tmp_path / 'cache')
    message = str(raised.value)
    assert message.startswith('cannot get data set Fashion-MNIST: 4 of its 4 files cannot be had '
                              '(downloading failed (<urlopen error network is down (test)>))')
    for file, _ in data.FASHION_MNIST.values():
        assert file in message
    assert str(tmp_path / 'cache' / 'fashion-mnist') in message and str(tmp_path / 'mirror') in message
