"""The embedding store beside the index: a float16 matrix + PMID list, keyed by model digest.

One file (``embeddings-<digest12>.npz``) written atomically (temp file + rename), so a crash
leaves the previous store. Rows are keyed by PMID and by a hash of the embedded text, so a
changed record is re-embedded and an unchanged one is not. A corrupt file is reported in one line.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from index.errors import UsageError


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class EmbeddingStore:
    def __init__(self, directory: Path, digest: str, dim: int = 384) -> None:
        self.path = Path(directory) / f"embeddings-{digest[:12]}.npz"
        self.dim = dim
        self.pmids: list[str] = []
        self.keys: list[str] = []
        self.matrix = np.zeros((0, dim), dtype=np.float16)
        self._row: dict[str, int] = {}
        if self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as z:
                    self.pmids = [str(p) for p in z["pmids"]]
                    self.keys = [str(k) for k in z["keys"]]
                    self.matrix = z["matrix"].astype(np.float16)
                if self.matrix.shape != (len(self.pmids), dim) or len(self.keys) != len(self.pmids):
                    raise ValueError("shapes disagree")
            except Exception as e:  # any unreadable file: one line, what to do
                raise UsageError(f"{self.path}: corrupt embedding store ({e}); delete it and run "
                                 "`ketlit reindex` to rebuild it") from e
            self._row = {p: i for i, p in enumerate(self.pmids)}

    def stale(self, items: dict[str, str]) -> list[str]:
        """PMIDs (of pmid -> text) whose embedding is missing or was made from other text."""
        return [p for p, t in items.items()
                if (i := self._row.get(p)) is None or self.keys[i] != text_key(t)]

    def put(self, pmids: list[str], texts: list[str], vectors: np.ndarray) -> None:
        new = []
        for p, t, v in zip(pmids, texts, vectors, strict=True):
            i = self._row.get(p)
            if i is None:
                new.append((p, t, v))
            else:
                self.keys[i] = text_key(t)
                self.matrix[i] = v
        if new:
            self.pmids += [p for p, _, _ in new]
            self.keys += [text_key(t) for _, t, _ in new]
            self.matrix = np.vstack([self.matrix, np.array([v for _, _, v in new], np.float16)])
            self._row = {p: i for i, p in enumerate(self.pmids)}

    def get(self, pmids: list[str]) -> tuple[list[str], np.ndarray]:
        """The PMIDs that have a vector, and their vectors (float32)."""
        have = [p for p in pmids if p in self._row]
        return have, self.matrix[[self._row[p] for p in have]].astype(np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, pmids=np.array(self.pmids, dtype=str),
                         keys=np.array(self.keys, dtype=str), matrix=self.matrix)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
