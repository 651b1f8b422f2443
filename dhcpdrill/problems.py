"""Clear errors for bad input: every problem names the file, the field, what is wrong and the fix."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.what} — {self.fix}"


class PairError(Exception):
    """A pair that cannot be drilled as it stands; raised before any container starts."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class LabError(Exception):
    """The lab could not be brought up (image build, Docker, a server that never got ready)."""


def docker_errors():
    """The Docker SDK's exceptions, imported where an engine is asked, not with the judging code
    (``except (LabError, docker_errors().DockerException)`` evaluates only once something was raised)."""
    import docker.errors
    return docker.errors
