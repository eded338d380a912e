"""The spec registry: deploys diagram files as immutable versions and caches their parsed specs.

A version is identified by the SHA-256 of its files; deploying unchanged files returns the
existing version, a changed file becomes a new one. Running instances keep their version.
Parsing costs about a millisecond per diagram, so each version is parsed once per process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.diagrams import ParsedProcess, parse_process
from engine.errors import DiagramError, NotFound
from engine.models import ProcessVersion

Checker = Callable[[ParsedProcess, Mapping[str, str]], list[DiagramError]]


def content_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def read_directory(path: Path) -> dict[str, str]:
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(Path(path).iterdir())
        if p.suffix in (".bpmn", ".dmn")
    }


class SpecRegistry:
    def __init__(self, checker: Checker | None = None):
        self.checker = checker
        self._cache: dict[str, ParsedProcess] = {}
        self._by_id: dict[int, ParsedProcess] = {}  # versions are immutable: an id names one spec
        self._lock = threading.Lock()

    def validate(self, process_id: str, files: Mapping[str, str]) -> ParsedProcess:
        """Schema, library parse and saygac's own checks; raises the first problem found."""
        parsed = parse_process(files, process_id, validate=True)
        problems = self.checker(parsed, files) if self.checker else []
        if problems:
            raise problems[0]
        return parsed

    def problems(self, process_id: str, files: Mapping[str, str]) -> list[DiagramError]:
        """Every problem found (the studio shows them all); a schema or parse error stops the rest."""
        try:
            parsed = parse_process(files, process_id, validate=True)
        except DiagramError as err:
            return [err]
        return self.checker(parsed, files) if self.checker else []

    def deploy(
        self,
        session: Session,
        process_id: str,
        files: Mapping[str, str],
        *,
        deployed_by_id: int | None = None,
        reason: str = "",
        scenarios: list[Any] | None = None,
    ) -> ProcessVersion:
        digest = content_hash(files)
        existing = session.scalar(
            select(ProcessVersion).where(ProcessVersion.content_hash == digest)
        )
        if existing is not None:
            if existing.process_id != process_id:
                raise DiagramError(
                    f"these files are already deployed as process {existing.process_id}"
                )
            return existing
        parsed = self.validate(process_id, files)
        number = (
            session.scalar(
                select(func.max(ProcessVersion.version)).where(
                    ProcessVersion.process_id == process_id
                )
            )
            or 0
        ) + 1
        row = ProcessVersion(
            process_id=process_id,
            version=number,
            content_hash=digest,
            files=dict(files),
            deployed_by_id=deployed_by_id,
            reason=reason,
            scenarios=list(scenarios or []),
        )
        session.add(row)
        session.flush()
        with self._lock:
            self._cache[digest] = parsed
        return row

    def latest(self, session: Session, process_id: str) -> ProcessVersion:
        row = session.scalar(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        )
        if row is None:
            raise NotFound(f"process {process_id} has no deployed version")
        return row

    def latest_id(self, session: Session, process_id: str) -> tuple[int, int]:
        """(id, version number) of the newest version, without reading its files."""
        row = session.execute(
            select(ProcessVersion.id, ProcessVersion.version)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if row is None:
            raise NotFound(f"process {process_id} has no deployed version")
        return row.id, row.version

    def parsed_by_id(self, session: Session, version_id: int) -> ParsedProcess:
        """The parsed spec of a version id; the row (with its files) is read once per process."""
        parsed = self._by_id.get(version_id)
        if parsed is None:
            parsed = self.parsed(session.get_one(ProcessVersion, version_id))
            with self._lock:
                self._by_id[version_id] = parsed
        return parsed

    def parsed(self, version: ProcessVersion) -> ParsedProcess:
        """The parsed spec of a version, from the cache (deployed files were validated already)."""
        cached = self._cache.get(version.content_hash)
        if cached is not None:
            return cached
        parsed = parse_process(version.files, version.process_id, validate=False)
        with self._lock:
            self._cache.setdefault(version.content_hash, parsed)
        return self._cache[version.content_hash]
