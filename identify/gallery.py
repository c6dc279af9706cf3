"""The enrolled faces a probe is matched against: exact numpy search, or an HNSW index (usearch)
for galleries too large to scan per face.

Both answer the same question the same way: the persons whose enrolled embeddings are most
cosine-similar to the probe, best first, one entry per person (a person enrolled from several
photos counts with their best photo). Vectors are unit length, so a dot product is the cosine.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from sqlalchemy.orm import Session
from usearch.index import Index

from pipeline.config import FaceIndex, FacesConfig
from pipeline.store.registry import face_gallery

VECTOR_DTYPE = np.dtype("<f4")
"""How embeddings are stored as bytes in `FaceEmbedding.vector`: little-endian float32."""
ANN_CANDIDATES_PER_HIT = 8
"""Neighbours fetched per wanted person, since one person may own several of the nearest."""


class Gallery(Protocol):
    def add(self, person_id: str, vector: np.ndarray) -> None: ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to k (person id, cosine similarity) pairs, best first, one per person."""
        ...

    def __len__(self) -> int: ...


def _best_per_person(candidates: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    seen: dict[str, float] = {}
    for person_id, score in sorted(candidates, key=lambda hit: -hit[1]):
        seen.setdefault(person_id, score)
        if len(seen) == k:
            break
    return list(seen.items())


class ExactGallery:
    """Every probe against every enrolled vector: exact, and fast enough below ~10,000 vectors."""

    def __init__(self) -> None:
        self._owners: list[str] = []
        self._rows: list[np.ndarray] = []
        self._matrix = np.empty((0, 0), np.float32)

    def add(self, person_id: str, vector: np.ndarray) -> None:
        self._owners.append(person_id)
        self._rows.append(np.asarray(vector, np.float32).reshape(-1))

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if len(self._rows) != len(self._matrix):
            self._matrix = np.stack(self._rows)
        if not self._owners:
            return []
        scores = self._matrix @ np.asarray(vector, np.float32).reshape(-1)
        order = np.argsort(-scores)
        return _best_per_person([(self._owners[i], float(scores[i])) for i in order], k)

    def __len__(self) -> int:
        return len(self._owners)


class AnnGallery:
    """An HNSW graph (usearch): approximate, with search time that grows with log(size)."""

    def __init__(self) -> None:
        self._index: Index | None = None
        self._owners: list[str] = []

    def add(self, person_id: str, vector: np.ndarray) -> None:
        vector = np.asarray(vector, np.float32).reshape(-1)
        if self._index is None:
            # The first vector fixes the dimension, so the gallery needs no model knowledge.
            self._index = Index(ndim=len(vector), metric="cos", dtype="f32")
        self._index.add(len(self._owners), vector)
        self._owners.append(person_id)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if self._index is None:
            return []
        count = min(len(self._owners), k * ANN_CANDIDATES_PER_HIT)
        found = self._index.search(np.asarray(vector, np.float32).reshape(-1), count)
        # usearch's cosine metric is a distance: 1 - similarity.
        candidates = [
            (self._owners[int(key)], 1.0 - float(distance))
            for key, distance in zip(found.keys, found.distances, strict=True)
        ]
        return _best_per_person(candidates, k)

    def __len__(self) -> int:
        return len(self._owners)


def make_gallery(size: int, index: FaceIndex, ann_min_embeddings: int) -> Gallery:
    """The exact gallery unless `index` asks for ANN, or `auto` and `size` reaches the minimum."""
    if index == "ann" or (index == "auto" and size >= ann_min_embeddings):
        return AnnGallery()
    return ExactGallery()


def gallery_from_store(
    session: Session, model_name: str, config: FacesConfig | None = None
) -> Gallery:
    """Every embedding enrolled with `model_name`, in the index the config chooses."""
    config = config or FacesConfig()
    rows = face_gallery(session, model_name)
    gallery = make_gallery(len(rows), config.gallery_index, config.ann_min_embeddings)
    for row in rows:
        gallery.add(row.person_id, np.frombuffer(row.vector, VECTOR_DTYPE))
    return gallery
