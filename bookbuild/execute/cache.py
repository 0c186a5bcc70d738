"""The execute stage's memory: jupyter-cache behind the one door the build uses.

A notebook whose code cells and kernelspec (which carries the environment
fingerprint, see split.py) match a cached one gets that one's outputs, and no
kernel starts. Only whole, successful runs are stored.

What can go wrong here never costs more than the notebook it touches:
* an entry that cannot be read (a crash or a full disk while it was written)
  is dropped with a one-line warning, and that notebook runs again;
* storing that fails (a full disk) leaves no half entry behind, and says so;
* a database that cannot be opened at all is a CacheError that says what to do.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from bookbuild import errors
from bookbuild.log import warn

logger = logging.getLogger(__name__)

RUN_KEY = "d2l_run"   # notebook metadata of a cached run: seconds per cell (not part of the cache key)


class Cache:
    def __init__(self, directory: Path):
        from sqlalchemy.exc import SQLAlchemyError

        self.directory = Path(directory)
        try:
            from jupyter_cache import get_cache
            self._cache = get_cache(str(self.directory))
            # Touches the database: a damaged one fails here, not mid-build. An empty cache holds no notebook:
            # none is looked up (jupyter-cache hashes it and asks the database: a second for the whole book's).
            self._empty = not self._cache.list_cache_records()
        except (SQLAlchemyError, ValueError) as err:
            raise errors.CacheError(f"the execution cache cannot be opened: {type(err).__name__}: "
                                    f"{str(err).splitlines()[0]}", path=self.directory) from None
        except OSError as err:
            raise errors.disk_error(err, "opening the execution cache", self.directory) from None

    def lookup(self, nb, uri: str):
        """The cached notebook for these code cells and kernelspec, or None (also for an unreadable entry,
        which is dropped)."""
        from nbformat.reader import NotJSONError
        from nbformat.validator import ValidationError

        if self._empty:
            return None
        try:
            return self._cache.merge_match_into_notebook(nb, nb_meta=("kernelspec", "language_info", RUN_KEY),
                                                         cell_meta=())[1]
        except KeyError:
            return None
        except (NotJSONError, ValidationError, ValueError, IndexError, UnicodeDecodeError) as err:
            self._drop(nb)
            warn(logger, "cache-dropped", f"[cache] {uri}: its cached run could not be read "
                                          f"({type(err).__name__}); dropped, it runs again")
            return None

    def store(self, nb, uri: str) -> None:
        from jupyter_cache.base import CacheBundleIn

        self._empty = False
        try:
            self._cache.cache_notebook_bundle(CacheBundleIn(nb, uri=uri), check_validity=False, overwrite=True)
        except OSError as err:
            self._drop(nb)   # jupyter-cache records the entry before it writes the file
            raise errors.disk_error(err, f"storing {uri} in the execution cache", self.directory) from None

    def _drop(self, nb) -> None:
        from jupyter_cache.cache.db import NbCacheRecord

        try:
            record = self._cache.match_cache_notebook(nb)
        except KeyError:
            return
        shutil.rmtree(self.directory / "executed" / record.hashkey, ignore_errors=True)
        NbCacheRecord.remove_records([record.pk], self._cache.db)

    def uris(self) -> list[str]:
        return sorted(record.uri for record in self._cache.list_cache_records())
