"""A validation issue: where in which file, which field, what is wrong."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Issue(BaseModel):
    """One problem found in governed content, printed as `path:line: field: message`."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


def unreadable(shown: str, exc: OSError) -> Issue:
    """A file the system would not let us read (a directory, a symlink loop, permissions)."""
    reason = exc.strerror or type(exc).__name__
    return Issue(path=shown, line=0, field="-", message=f"cannot be read: {reason}")
