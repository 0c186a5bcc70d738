"""download(): the checked cache, its errors, and the airfoil data on disk."""
import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy
import pytest

from d2l import data

AIRFOIL_URL, AIRFOIL_SHA1 = data.DATA_HUB['airfoil']


@pytest.fixture
def airfoil_bytes(data_dir):
    return (data_dir / 'airfoil_self_noise.dat').read_bytes()


@pytest.fixture
def network(monkeypatch):
    """Replace urllib's urlopen: set `network.content` to serve bytes; by default it is down."""
    class FakeNetwork:
        content = None
        requests = []

        def urlopen(self, url, timeout=None):
            self.requests.append((url, timeout))
            if self.content is None:
                raise urllib.error.URLError('network is down (test)')
            return io.BytesIO(self.content)

    fake = FakeNetwork()
    fake.requests = []
    monkeypatch.setattr(urllib.request, 'urlopen', fake.urlopen)
    return fake


def test_data_hub_has_the_airfoil_data():
    assert data.DATA_URL == 'http://d2l-data.s3-accelerate.amazonaws.com/'
    assert data.DATA_HUB['airfoil'] == (
        data.DATA_URL + 'airfoil_self_noise.dat', '76e5be1548fd8222e5074cf0faae75edff8cf93f')


def test_the_shared_airfoil_file_is_the_expected_one(airfoil_bytes):
    assert hashlib.sha1(airfoil_bytes).hexdigest() == AIRFOIL_SHA1


def test_cached_file_with_the_right_sha1_is_used_without_network(tmp_path, airfoil_bytes, network):
    (tmp_path / 'airfoil_self_noise.dat').write_bytes(airfoil_bytes)
    assert data.download('airfoil', cache_dir=tmp_path) == str(tmp_path / 'airfoil_self_noise.dat')
    assert network.requests == []


def test_cache_dir_comes_from_D2L_DATA_DIR(data_dir, network):
    assert data.download('airfoil') == str(data_dir / 'airfoil_self_noise.dat')
    assert network.requests == []


def test_default_cache_dir_is_outside_the_source_tree(monkeypatch, tmp_path):
    monkeypatch.delenv('D2L_DATA_DIR', raising=False)
    monkeypatch.setenv('HOME', str(tmp_path))
    assert data.default_cache_dir() == tmp_path / '.cache' / 'd2l' / 'data'


def test_missing_file_is_downloaded_with_a_timeout(tmp_path, airfoil_bytes, network):
    network.content = airfoil_bytes
    path = data.download('airfoil', cache_dir=tmp_path / 'new')
    assert Path(path).read_bytes() == airfoil_bytes
    [(url, timeout)] = network.requests
    assert url == AIRFOIL_URL
    assert timeout is not None and timeout <= 30
    assert sorted(p.name for p in (tmp_path / 'new').iterdir()) == ['airfoil_self_noise.dat']


def test_cached_file_with_a_wrong_sha1_is_downloaded_again(tmp_path, airfoil_bytes, network):
    (tmp_path / 'airfoil_self_noise.dat').write_bytes(b'not the airfoil data')
    network.content = airfoil_bytes
    path = data.download('airfoil', cache_dir=tmp_path)
    assert Path(path).read_bytes() == airfoil_bytes
    assert len(network.requests) == 1


def assert_names_everything_needed(message, path):
    for needed in ("'airfoil'", AIRFOIL_SHA1, AIRFOIL_URL, str(path)):
        assert needed in message


def test_cached_file_with_a_wrong_sha1_and_no_network_is_an_error(tmp_path, network):
    path = tmp_path / 'airfoil_self_noise.dat'
    path.write_bytes(b'not the airfoil data')
    with pytest.raises(data.DownloadError) as error:
        data.download('airfoil', cache_dir=tmp_path)
    assert_names_everything_needed(str(error.value), path)
    assert hashlib.sha1(b'not the airfoil data').hexdigest() in str(error.value)
    assert path.read_bytes() == b'not the airfoil data'


def test_no_file_and_no_network_is_an_os_error_saying_what_to_do(tmp_path, network):
    with pytest.raises(OSError) as error:
        data.download('airfoil', cache_dir=tmp_path)
    assert isinstance(error.value, data.DownloadError)
    assert_names_everything_needed(str(error.value), tmp_path / 'airfoil_self_noise.dat')
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_downloaded_file_with_a_wrong_sha1_is_not_kept(tmp_path, network):
    network.content = b'a corrupted download'
    with pytest.raises(data.DownloadError) as error:
        data.download('airfoil', cache_dir=tmp_path)
    assert hashlib.sha1(b'a corrupted download').hexdigest() in str(error.value)
    assert_names_everything_needed(str(error.value), tmp_path / 'airfoil_self_noise.dat')
    assert list(tmp_path.iterdir()) == []


def test_unknown_data_set_is_a_key_error_listing_the_known_ones(tmp_path, network):
    with pytest.raises(KeyError) as error:
        data.download('no-such-data', cache_dir=tmp_path)
    assert str(error.value) == f"unknown data set 'no-such-data'; known data sets: {', '.join(sorted(data.DATA_HUB))}"
    assert network.requests == []


def test_read_airfoil_standardizes_every_column(data_dir):
    features, labels = data.read_airfoil(n=1503)
    assert features.shape == (1503, 5) and labels.shape == (1503,)
    assert features.dtype == labels.dtype == numpy.float32
    table = numpy.column_stack([features, labels])
    # Computed in float32, as the book does: equal to a few float32 ulps.
    numpy.testing.assert_allclose(table.mean(axis=0), 0, atol=1e-4)
    numpy.testing.assert_allclose(table.std(axis=0), 1, rtol=1e-4)


def test_read_airfoil_keeps_the_first_n_rows(data_dir):
    raw = numpy.genfromtxt(data_dir / 'airfoil_self_noise.dat', delimiter='\t')
    features, labels = data.read_airfoil(n=7)
    expected = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    numpy.testing.assert_allclose(features, expected[:7, :-1], atol=1e-4)
    numpy.testing.assert_allclose(labels, expected[:7, -1], atol=1e-4)
