"""Files on disk (or shared storage), addressed by their SHA-256 and recorded in ``stored_file``."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.models import StoredFile


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def save(
        self,
        session: Session,
        data: bytes,
        *,
        media_type: str,
        kind: str,
        owner_id: int | None = None,
        original_name: str | None = None,
        **meta: Any,
    ) -> StoredFile:
        """Write ``data`` durably (write, fsync, rename) and add its row; identical bytes share one file."""
        sha = hashlib.sha256(data).hexdigest()
        path = self._path_for(sha)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        row = StoredFile(
            sha256=sha,
            media_type=media_type,
            kind=kind,
            size=len(data),
            path=str(path.relative_to(self.root)),
            owner_id=owner_id,
            original_name=(original_name or "")[:200] or None,
            **meta,
        )
        session.add(row)
        session.flush()
        return row

    def read(self, stored: StoredFile) -> bytes:
        return (self.root / stored.path).read_bytes()

    def path(self, stored: StoredFile) -> Path:
        return self.root / stored.path
