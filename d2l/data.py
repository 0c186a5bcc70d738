"""The book's data sets: where they live online, and a checked local cache.

`download(name)` returns the path of a data set's file in the cache
(env D2L_DATA_DIR, default ~/.cache/d2l/data), fetching it first if it is not
there with the right SHA-1. A file with another SHA-1 is never used.
"""
import hashlib
import os
import shutil
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


def download(name, cache_dir=None):
    """Return the local path (a str) of data set `name` from DATA_HUB.

    A cached file with the expected SHA-1 is used without touching the
    network. Otherwise the file is downloaded (timeout 10 s) into a temporary
    file, checked, then renamed into place. Raises UnknownDataSetError (a
    KeyError) for a name not in DATA_HUB and DownloadError (an OSError) when
    no good file can be had; its message says where to put the file by hand.
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

    def failure(reason):
        found = (f' The file already there has SHA-1 {found_sha1}, so it is not used.'
                 if found_sha1 else '')
        return DownloadError(
            f'cannot get data set {name!r}: {reason}. Download {url} by hand and '
            f'place it at {path} (expected SHA-1 {expected_sha1}).{found}')

    cache_dir.mkdir(parents=True, exist_ok=True)
    # The temporary file sits next to the target so the final rename is atomic.
    handle, temp_name = tempfile.mkstemp(dir=cache_dir, prefix=path.name + '.',
                                         suffix='.part')
    try:
        digest = hashlib.sha1()
        with os.fdopen(handle, 'wb') as out:
            try:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                    for chunk in iter(lambda: response.read(1 << 20), b''):
                        digest.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError) as error:
                raise failure(f'downloading failed ({error})') from error
        if digest.hexdigest() != expected_sha1:
            raise failure(f'the downloaded file has SHA-1 {digest.hexdigest()}')
        os.replace(temp_name, path)
    finally:
        if os.path.exists(temp_name):
            os.remove(temp_name)
    return str(path)


def seed_cache(mirror, cache_dir=None):
    """Fill the cache from an offline mirror: a folder holding data files under
    their download names (e.g. ../shared/data/airfoil_self_noise.dat).

    Only files of DATA_HUB entries are looked at. A cached copy with the right
    SHA-1 is never touched; a missing or damaged one is replaced by the mirror's
    copy, but only if that copy has the right SHA-1 (written to a temporary file
    and renamed, so the cache never holds half a file). A missing or empty mirror
    is not an error. Yields (data set name, what happened) for each entry.
    """
    mirror = Path(mirror)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    for name, (url, expected_sha1) in sorted(DATA_HUB.items()):
        file_name = url.split('/')[-1]
        cached, offered = cache_dir / file_name, mirror / file_name
        if cached.is_file() and sha1_of(cached) == expected_sha1:
            yield name, 'cached copy verified'
            continue
        if not offered.is_file():
            yield name, f'not in the mirror {mirror}' + (' (the cached copy is damaged)' if cached.exists() else '')
            continue
        if sha1_of(offered) != expected_sha1:
            yield name, f'mirror copy {offered} has the wrong SHA-1: not used'
            continue
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=cache_dir, prefix=file_name + '.', suffix='.part')
        os.close(handle)
        try:
            shutil.copyfile(offered, temp_name)
            os.replace(temp_name, cached)
        finally:
            if os.path.exists(temp_name):
                os.remove(temp_name)
        yield name, f'copied from {offered} (SHA-1 checked)'


def read_airfoil(n=1500):
    """The airfoil self-noise data, standardized per column: (features, labels) of the first n rows.

    NumPy float32 arrays of shape (n, 5) and (n,); standardization uses the
    mean and standard deviation of all rows, as the book does.
    """
    import numpy  # here, not at the top: the build seeds the data cache without NumPy

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
