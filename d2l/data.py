"""The book's data sets: where they live online, and a checked local cache.

`download(name)` returns the path of a data set's file in the cache
(env D2L_DATA_DIR, default ~/.cache/d2l/data), fetching it first if it is not
there with the right SHA-1: from an offline mirror when env DATA_MIRROR names a
folder holding the file (the book build sets it), else from the network. A file
with another SHA-1 is never used.
"""
import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

DATA_URL = 'http://d2l-data.s3-accelerate.amazonaws.com/'

# name -> (URL, SHA-1 of the file). Sections add their own entries.
DATA_HUB = {}
DATA_HUB['airfoil'] = (DATA_URL + 'airfoil_self_noise.dat',
                       '76e5be1548fd8222e5074cf0faae75edff8cf93f')

DOWNLOAD_TIMEOUT_SECONDS = 10


class DownloadError(OSError):
    """A data set could not be downloaded, or what was downloaded is not the expected file."""


class UnknownDataSetError(KeyError):
    """A data set name that is not in DATA_HUB."""

    def __str__(self):
        # KeyError would show the message quoted, as if it were a key.
        return str(self.args[0])


def default_cache_dir():
    """The data cache: env D2L_DATA_DIR, else ~/.cache/d2l/data (outside the source tree)."""
    return Path(os.environ.get('D2L_DATA_DIR')
                or Path.home() / '.cache' / 'd2l' / 'data')


def sha1_of(path):
    """The SHA-1 hex digest of the file at `path`."""
    digest = hashlib.sha1()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def download(name, cache_dir=None, mirror=None):
    """Return the local path (a str) of data set `name` from DATA_HUB.

    A cached file with the expected SHA-1 is used without touching the
    network. Otherwise the file is copied from the offline mirror (`mirror`,
    default env DATA_MIRROR) if the mirror's copy has the expected SHA-1, or
    downloaded (timeout 10 s); either goes into a temporary file, is checked,
    then renamed into place, so the cache never holds half a file. Raises
    UnknownDataSetError (a KeyError) for a name not in DATA_HUB and
    DownloadError (an OSError) when no good file can be had; its message says
    where to put the file by hand.
    """
    if name not in DATA_HUB:
        raise UnknownDataSetError(
            f'unknown data set {name!r}; known data sets: '
            f'{", ".join(sorted(DATA_HUB))}')
    url, expected_sha1 = DATA_HUB[name]
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache_dir / url.split('/')[-1]
    found_sha1 = sha1_of(path) if path.exists() else None
    if found_sha1 == expected_sha1:
        return str(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    mirror = mirror if mirror is not None else os.environ.get('DATA_MIRROR')
    offered = Path(mirror) / path.name if mirror else None
    if offered is not None and offered.is_file():
        if sha1_of(offered) == expected_sha1:
            with _replacing(path) as out, open(offered, 'rb') as source:
                shutil.copyfileobj(source, out)
            print(f'[data] {name}: copied from {offered} (SHA-1 checked)', file=sys.stderr)
            return str(path)
        print(f'[data] {name}: the mirror copy {offered} has the wrong SHA-1: not used', file=sys.stderr)

    def failure(reason):
        found = (f' The file already there has SHA-1 {found_sha1}, so it is not used.'
                 if found_sha1 else '')
        where = f' or put it in the mirror {mirror}' if mirror else ''
        return DownloadError(
            f'cannot get data set {name!r}: {reason}. Download {url} by hand and '
            f'place it at {path}{where} (expected SHA-1 {expected_sha1}).{found}')

    digest = hashlib.sha1()
    with _replacing(path) as out:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                for chunk in iter(lambda: response.read(1 << 20), b''):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError) as error:
            raise failure(f'downloading failed ({error})') from error
        if digest.hexdigest() != expected_sha1:
            raise failure(f'the downloaded file has SHA-1 {digest.hexdigest()}')
    return str(path)


@contextlib.contextmanager
def _replacing(path):
    """A file to write `path`'s new content into; it replaces `path` only if the block ends well.
    The temporary file sits next to the target so the final rename is atomic."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + '.', suffix='.part')
    try:
        with os.fdopen(handle, 'wb') as out:
            yield out
        os.replace(temp_name, path)
    finally:
        if os.path.exists(temp_name):
            os.remove(temp_name)


def read_airfoil(n=1500):
    """The airfoil self-noise data, standardized per column: (features, labels) of the first n rows.

    NumPy float32 arrays of shape (n, 5) and (n,); standardization uses the
    mean and standard deviation of all rows, as the book does.
    """
    import numpy  # here, not at the top: downloading needs no NumPy

    data = numpy.genfromtxt(download('airfoil'), dtype=numpy.float32, delimiter='\t')
    data = (data - data.mean(axis=0)) / data.std(axis=0)
    return data[:n, :-1], data[:n, -1]


def airfoil_iter(load_array, to_tensor, batch_size=10, n=1500):
    """`get_data_ch11` of every framework: a shuffled iterator over the first n
    standardized airfoil examples, made by that framework's `load_array` from its
    tensors (`to_tensor` converts a NumPy array), and the number of features."""
    features, labels = read_airfoil(n)
    data_iter = load_array((to_tensor(features), to_tensor(labels)), batch_size, is_train=True)
    return data_iter, features.shape[1]
