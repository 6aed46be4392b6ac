"""The embedding store beside the index: a float16 matrix + PMID list, keyed by model digest.

One file (``embeddings-<digest12>.npz`` in ``data_dir/embeddings``) written atomically (temp
file + rename): a crash leaves the previous store, and a reader (a search) that opened the old
file keeps reading it whole. Rows are keyed by PMID and by a hash of the embedded text, so a
changed record is re-embedded and an unchanged one is not. Writers (a harvest and a reindex may
run at once) take a lock, re-read the file and apply only their own changes on top, so neither
loses the other's rows. A corrupt file is one line (CorruptDataError) naming it and the remedy;
writers move it aside and rebuild (``rebuild_if_corrupt``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from index.errors import CorruptDataError, LockedError

log = logging.getLogger("ketlit.embeddings")

LOCK_TIMEOUT_S = 120.0


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def store_path(directory: Path, digest: str) -> Path:
    return Path(directory) / f"embeddings-{digest[:12]}.npz"


def _read(path: Path, dim: int) -> tuple[list[str], list[str], np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            pmids = [str(p) for p in z["pmids"]]
            keys = [str(k) for k in z["keys"]]
            matrix = np.asarray(z["matrix"], dtype=np.float16)
        if matrix.shape != (len(pmids), dim) or len(keys) != len(pmids):
            raise ValueError(f"shapes disagree: {matrix.shape} for {len(pmids)} PMIDs")
    except Exception as e:  # any unreadable file: one line, what to do
        raise CorruptDataError(f"{path}: corrupt embedding store ({e}); run `ketlit reindex` "
                               "to rebuild it (it moves the damaged file aside)") from e
    return pmids, keys, matrix


class EmbeddingStore:
    """The vectors of one model. ``put``/``delete`` change it in memory; ``save`` writes them."""

    def __init__(self, directory: Path, digest: str, dim: int = 384,
                 rebuild_if_corrupt: bool = False) -> None:
        self.path = store_path(directory, digest)
        self.dim = dim
        self.pmids: list[str] = []
        self.keys: list[str] = []
        self.matrix = np.zeros((0, dim), dtype=np.float16)
        self._row: dict[str, int] = {}
        self._pending: dict[str, tuple[str, np.ndarray] | None] = {}  # None: deleted
        self._stamp: tuple[int, int] | None = None
        if self.path.exists():
            try:
                self._load()
            except CorruptDataError as e:
                if not rebuild_if_corrupt:
                    raise
                self._move_aside(e)

    # -- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.pmids)

    def _load(self) -> None:
        st = self.path.stat()
        self.pmids, self.keys, self.matrix = _read(self.path, self.dim)
        self._row = {p: i for i, p in enumerate(self.pmids)}
        self._stamp = (st.st_ino, st.st_mtime_ns)

    def _move_aside(self, err: CorruptDataError) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        os.replace(self.path, aside)
        log.warning("%s; moved to %s and rebuilt: `ketlit reindex` re-embeds every record",
                    str(err).split(";")[0], aside.name)

    def current(self) -> bool:
        """True while the file on disk is the one this store read (or still absent)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return self._stamp is None
        return self._stamp == (st.st_ino, st.st_mtime_ns)

    def stale(self, items: dict[str, str]) -> list[str]:
        """PMIDs (of pmid -> text) whose embedding is missing or was made from other text."""
        return [p for p, t in items.items()
                if (i := self._row.get(p)) is None or self.keys[i] != text_key(t)]

    def get(self, pmids: list[str]) -> tuple[list[str], np.ndarray]:
        """The PMIDs that have a vector, and their vectors (float32)."""
        have = [p for p in pmids if p in self._row]
        return have, self.matrix[[self._row[p] for p in have]].astype(np.float32)

    # -- writing ---------------------------------------------------------------------------------

    def put(self, pmids: list[str], texts: list[str], vectors: np.ndarray) -> None:
        changes = {p: (text_key(t), np.asarray(v, np.float16))
                   for p, t, v in zip(pmids, texts, vectors, strict=True)}
        self._pending.update(changes)
        self._apply(changes)

    def delete(self, pmids: list[str]) -> None:
        changes: dict[str, tuple[str, np.ndarray] | None] = {p: None for p in pmids
                                                              if p in self._row}
        self._pending.update(changes)
        self._apply(changes)

    def keep_only(self, pmids: set[str]) -> None:
        """Delete every row whose PMID is not in ``pmids`` (records gone from the store)."""
        self.delete([p for p in self.pmids if p not in pmids])

    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    def _apply(self, changes: dict[str, tuple[str, np.ndarray] | None]) -> None:
        gone = {p for p, c in changes.items() if c is None and p in self._row}
        if gone:
            keep = [i for i, p in enumerate(self.pmids) if p not in gone]
            self.pmids = [self.pmids[i] for i in keep]
            self.keys = [self.keys[i] for i in keep]
            self.matrix = self.matrix[keep]
            self._row = {p: i for i, p in enumerate(self.pmids)}
        new: list[tuple[str, str, np.ndarray]] = []
        for p, c in changes.items():
            if c is None:
                continue
            i = self._row.get(p)
            if i is None:
                new.append((p, c[0], c[1]))
            else:
                self.keys[i] = c[0]
                self.matrix[i] = c[1]
        if new:
            start = len(self.pmids)
            self.pmids += [p for p, _, _ in new]
            self.keys += [k for _, k, _ in new]
            self.matrix = np.vstack([self.matrix, np.stack([v for _, _, v in new])])
            self._row.update({p: start + j for j, (p, _, _) in enumerate(new)})

    def save(self) -> None:
        """Write the changes made here on top of the file as it is now (another writer may have
        saved meanwhile), atomically. A corrupt file on disk is moved aside, not merged."""
        if not self._pending and self.current() and self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if not self.current():
                pending = self._pending
                self.pmids, self.keys, self._row, self._stamp = [], [], {}, None
                self.matrix = np.zeros((0, self.dim), dtype=np.float16)
                if self.path.exists():
                    try:
                        self._load()
                    except CorruptDataError as e:
                        self._move_aside(e)
                self._apply(pending)
            self._write()
        self._pending = {}

    def _write(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".embeddings-",
                                   suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, pmids=np.array(self.pmids, dtype=str),
                         keys=np.array(self.keys, dtype=str), matrix=self.matrix)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        st = self.path.stat()
        self._stamp = (st.st_ino, st.st_mtime_ns)

    @contextlib.contextmanager
    def _lock(self, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        with lock.open("a") as fh:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as e:
                    if time.monotonic() > deadline:
                        raise LockedError(f"{lock}: another ketlit process has been writing the "
                                          f"embeddings for {timeout:.0f} s; try again later"
                                          ) from e
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


class StoreReader:
    """The store for searching, re-read only when its file changed: a search server keeps one
    of these (per model) across requests instead of loading the matrix for every search."""

    def __init__(self, directory: Path, digest: str, dim: int = 384) -> None:
        self.directory, self.digest, self.dim = Path(directory), digest, dim
        self._store: EmbeddingStore | None = None

    def get(self) -> EmbeddingStore | None:
        """The current store, or None when there is none yet. CorruptDataError when damaged."""
        if not store_path(self.directory, self.digest).exists():
            self._store = None
        elif self._store is None or not self._store.current():
            self._store = EmbeddingStore(self.directory, self.digest, self.dim)
        return self._store
