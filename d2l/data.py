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

# name -> (URL, SHA-1 of the file): every data set the book names, as its sections give them
# (tests/d2l/test_data.py checks them against the book). Sections may add their own entries.
DATA_HUB = {
    'airfoil': (DATA_URL + 'airfoil_self_noise.dat', '76e5be1548fd8222e5074cf0faae75edff8cf93f'),
    'kaggle_house_train': (DATA_URL + 'kaggle_house_pred_train.csv', '585e9cc93e70b39160e7921475f9bcd7d31219ce'),
    'kaggle_house_test': (DATA_URL + 'kaggle_house_pred_test.csv', 'fa19780a7b011d9b009e8bff8e99922a8ee2eb90'),
    'time_machine': (DATA_URL + 'timemachine.txt', '090b5e7e70c295757f55df93cb0a180b9691891a'),
    'fra-eng': (DATA_URL + 'fra-eng.zip', '94646ad1522d915e7b0f9296181140edcf86a4f5'),
    'ptb': (DATA_URL + 'ptb.zip', '319d85e578af0cdc590547f26231e4e31cdf1e42'),
    'wikitext-2': ('https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip',
                   '3c914d17d80b1459be871a5039ac23e752a53cbe'),
    'glove.6b.50d': (DATA_URL + 'glove.6B.50d.zip', '0b8703943ccdb6eb788e6f091b8946e82231bc4d'),
    'glove.6b.100d': (DATA_URL + 'glove.6B.100d.zip', 'cd43bfb07e44e6f27cbcc7bc9ae3d80284fdaf5a'),
    'glove.42b.300d': (DATA_URL + 'glove.42B.300d.zip', 'b5116e234e9eb9076672cfeabf5469f3eec904fa'),
    'wiki.en': (DATA_URL + 'wiki.en.zip', 'c1816da3821ae9f43899be655002f6c723e91b88'),
    'aclImdb': ('http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz',
                '01ada507287d82875905620988597833ad4e0903'),
    'SNLI': ('https://nlp.stanford.edu/projects/snli/snli_1.0.zip', '9fcde07509c7e87ec61c640c1b2753d9041758e4'),
    'hotdog': (DATA_URL + 'hotdog.zip', 'fba480ffa8aa7e0febbb511d181409f899b9baa5'),
    'banana-detection': (DATA_URL + 'banana-detection.zip', '5de26c8fce5ccdea9f91267273464dc968d20d72'),
    'voc2012': (DATA_URL + 'VOCtrainval_11-May-2012.tar', '4e443f8a2eca6b1dac8a6c57641b67dd40621a49'),
    'cifar10_tiny': (DATA_URL + 'kaggle_cifar10_tiny.zip', '2068874e4b9a9f0fb07ebe0ad2b29754449ccacd'),
    'dog_tiny': (DATA_URL + 'kaggle_dog_tiny.zip', '0cb91d09b814ecdc07b50f31f8dcad3e81d6a86d'),
    'pokemon': (DATA_URL + 'pokemon.zip', 'c065c0e2593b8b161a2d7873e42418bf6a21106c'),
    'ml-100k': ('https://files.grouplens.org/datasets/movielens/ml-100k.zip',
                'cd4dcac4241c8a4ad7badc7ca635da8a69dddb83'),
    'ctr': (DATA_URL + 'ctr.zip', 'e18327c48c8e8e5c23da714dd614e390d369843f'),
    # bert.base and bert.small are per framework (the MXNet and PyTorch weights): d2l/mxnet.py, d2l/torch.py.
}

# Fashion-MNIST (chapter 3 on): the four files of Zalando's release, which the frameworks' own loaders
# read (Gluon checks these SHA-1s too). Cached and mirrored like every data set (see `download`).
FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
FASHION_MNIST = {
    'train_images': ('train-images-idx3-ubyte.gz', '0cf37b0d40ed5169c6b3aba31069a9770ac9043d'),
    'train_labels': ('train-labels-idx1-ubyte.gz', '236021d52f1e40852b06a4c3008d8de8aef1e40b'),
    'test_images': ('t10k-images-idx3-ubyte.gz', '626ed6a7c06dd17c0eec72fa3be1740f146a2863'),
    'test_labels': ('t10k-labels-idx1-ubyte.gz', '17f9ab60e7257a1620f4ad76bbbaf857c3920701'),
}
DATA_HUB.update({f'fashion_mnist_{part}': (FASHION_MNIST_URL + file, sha1)
                 for part, (file, sha1) in FASHION_MNIST.items()})

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
        error = DownloadError(
            f'cannot get data set {name!r}: {reason}. Download {url} by hand and '
            f'place it at {path}{where} (expected SHA-1 {expected_sha1}).{found}')
        error.reason = reason
        return error

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


def fashion_mnist_files(cache_dir=None):
    """{part: local path} of the four Fashion-MNIST files (parts as in FASHION_MNIST), each had as
    `download` has a file (cache, mirror, network) into `cache_dir`/fashion-mnist. One DownloadError
    names every file that cannot be had, and where to put them."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = folder / 'fashion-mnist'
    files, missing = {}, []
    for part in FASHION_MNIST:
        try:
            files[part] = download(f'fashion_mnist_{part}', cache_dir=folder)
        except DownloadError as error:
            missing.append((part, error))
    if missing:
        mirror = os.environ.get('DATA_MIRROR')
        raise DownloadError(
            f'cannot get data set Fashion-MNIST: {len(missing)} of its 4 files cannot be had '
            f'({missing[0][1].reason}). Download '
            + ', '.join(DATA_HUB[f'fashion_mnist_{part}'][0] for part, _ in missing)
            + f' by hand and place them in {folder}' + (f' or in the mirror {mirror}' if mirror else '')
            + ' (SHA-1s in d2l.DATA_HUB).') from missing[0][1]
    return files


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
