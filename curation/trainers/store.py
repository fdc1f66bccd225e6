"""The job store: training jobs in the project's embedded SQLite database (WAL mode).

Jobs outlive the CLI and UI processes that start them. The database path comes from an explicit
argument, else ``$CURATION_HOME/curation.sqlite``, else ``~/.curation/curation.sqlite``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ..errors import CurationError
from .base import Job

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trainer_jobs (
    id TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_job_id TEXT,
    pid INTEGER,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trainer_jobs_created ON trainer_jobs(created_at);
"""


def default_db_path() -> Path:
    home = os.environ.get("CURATION_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".curation"
    return base / "curation.sqlite"


class JobStore:
    """Jobs by id; every method opens its own short connection so threads and processes can share the file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_db_path()
        if self.path.exists() and not self.path.is_file():
            raise CurationError("the job database is not a regular file", hint="pass --db a .sqlite file path",
                                where=str(self.path))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            try:
                with conn:
                    conn.executescript(_SCHEMA)
            finally:
                conn.close()
        except (OSError, sqlite3.Error) as exc:  # not a database, unwritable, a folder in the way
            raise CurationError(f"cannot open the job database: {exc}",
                                hint="pass --db a new or existing curation .sqlite file (or set CURATION_HOME)",
                                where=str(self.path)) from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def save(self, job: Job) -> Job:
        job.updated_at = time.time()
        conn = self._connect()
        try:
            with conn:
                conn.execute(
                    "INSERT INTO trainer_jobs (id, backend, run_dir, status, provider_job_id, pid, created_at,"
                    " updated_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                    " status=excluded.status, provider_job_id=excluded.provider_job_id, pid=excluded.pid,"
                    " updated_at=excluded.updated_at, record=excluded.record",
                    (
                        job.id,
                        job.backend,
                        job.run_dir,
                        job.status,
                        job.provider_job_id,
                        job.pid,
                        job.created_at,
                        job.updated_at,
                        job.model_dump_json(),
                    ),
                )
        finally:
            conn.close()
        return job

    def get(self, job_id: str) -> Job:
        """A job by its id, or by a unique prefix / suffix of it (ids are long to type)."""
        conn = self._connect()
        try:
            row = conn.execute("SELECT record FROM trainer_jobs WHERE id = ?", (job_id,)).fetchone()
            rows = (
                [row]
                if row
                else conn.execute(
                    "SELECT record FROM trainer_jobs WHERE id LIKE ? OR id LIKE ? OR provider_job_id = ?",
                    (f"{job_id}%", f"%{job_id}", job_id),
                ).fetchall()
            )
        finally:
            conn.close()
        if len(rows) != 1:
            what = "no job" if not rows else f"{len(rows)} jobs"
            raise CurationError(f"{what} matching {job_id!r} in {self.path}", hint="see `curate jobs list`")
        return Job.model_validate_json(rows[0][0])

    def list(self, *, run_dir: str | Path | None = None, status: str | None = None) -> list[Job]:
        query, args = "SELECT record FROM trainer_jobs WHERE 1=1", []
        if run_dir is not None:
            query += " AND run_dir = ?"
            args.append(str(Path(run_dir).resolve()))
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        conn = self._connect()
        try:
            rows = conn.execute(query + " ORDER BY created_at DESC", args).fetchall()
        finally:
            conn.close()
        return [Job.model_validate_json(r[0]) for r in rows]

    def delete(self, job_id: str) -> None:
        conn = self._connect()
        try:
            with conn:
                conn.execute("DELETE FROM trainer_jobs WHERE id = ?", (job_id,))
        finally:
            conn.close()
