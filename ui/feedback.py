"""What people thought of the answers: 👍/👎 with an optional comment, stored server-side in SQLite.

Each record holds the question, the answer text, its citations, the answer mode and who rated it (a key
fingerprint or an address, never a key), so a maintainer can see which answers failed and why
(``GET /v1/feedback`` for admins, ``govqa feedback export``). A separate file (``DATA_DIR/feedback.sqlite``)
from the index, so re-indexing never loses it. Every field is bounded: a client cannot grow it without
limit per request.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Rating = Literal["up", "down"]
MAX_TEXT = 4000
MAX_COMMENT = 2000
MAX_CITATIONS = 20

_SCHEMA = """CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created TEXT NOT NULL,
  rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
  comment TEXT NOT NULL DEFAULT '',
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  citations TEXT NOT NULL DEFAULT '[]',
  mode TEXT NOT NULL DEFAULT '',
  refused INTEGER NOT NULL DEFAULT 0,
  who TEXT NOT NULL DEFAULT ''
)"""


@dataclass
class Feedback:
    rating: Rating
    question: str
    answer: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    mode: str = ""
    refused: bool = False
    comment: str = ""
    who: str = ""
    id: int = 0
    created: str = ""

    def bounded(self) -> Feedback:
        cites = [
            {k: (v[:MAX_TEXT] if isinstance(v, str) else v) for k, v in c.items()}
            for c in self.citations[:MAX_CITATIONS]
            if isinstance(c, dict)
        ]
        return Feedback(
            rating=self.rating,
            question=self.question[:MAX_TEXT],
            answer=self.answer[:MAX_TEXT],
            citations=cites,
            mode=self.mode[:40],
            refused=bool(self.refused),
            comment=self.comment[:MAX_COMMENT],
            who=self.who[:80],
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    def add(self, item: Feedback) -> Feedback:
        row = item.bounded()
        row.created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            cur = self._db().execute(
                "INSERT INTO feedback (created, rating, comment, question, answer, citations, mode, refused, who)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.created,
                    row.rating,
                    row.comment,
                    row.question,
                    row.answer,
                    json.dumps(row.citations, ensure_ascii=False),
                    row.mode,
                    int(row.refused),
                    row.who,
                ),
            )
            row.id = int(cur.lastrowid or 0)
        return row

    def list(self, limit: int = 100, offset: int = 0) -> list[Feedback]:
        """The newest first."""
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT id, created, rating, comment, question, answer, citations, mode, refused, who"
                    " FROM feedback ORDER BY id DESC LIMIT ? OFFSET ?",
                    (max(0, limit), max(0, offset)),
                )
                .fetchall()
            )
        return [_from_row(r) for r in rows]

    def all(self) -> Iterator[Feedback]:
        """Every record, oldest first (for export)."""
        offset = 0
        while True:
            with self._lock:
                rows = (
                    self._db()
                    .execute(
                        "SELECT id, created, rating, comment, question, answer, citations, mode, refused, who"
                        " FROM feedback ORDER BY id LIMIT 500 OFFSET ?",
                        (offset,),
                    )
                    .fetchall()
                )
            if not rows:
                return
            yield from (_from_row(r) for r in rows)
            offset += len(rows)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _from_row(r: tuple[Any, ...]) -> Feedback:
    return Feedback(
        id=r[0],
        created=r[1],
        rating=r[2],
        comment=r[3],
        question=r[4],
        answer=r[5],
        citations=json.loads(r[6] or "[]"),
        mode=r[7],
        refused=bool(r[8]),
        who=r[9],
    )
