"""The small family of exceptions feedsvc raises, each carrying the context needed to act on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FeedsvcError(Exception):
    """Base class for every error feedsvc raises on purpose."""


class ConfigError(FeedsvcError):
    """A configuration value is missing or invalid; the message says how to fix it."""


class Severity(enum.Enum):
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One thing wrong with one article file, located by path and line (0 = the file as a whole)."""

    path: str
    line: int
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity.value}: {self.message}"


class ContentError(FeedsvcError):
    """An article file cannot be turned into an article."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.problem = ContentProblem(path, line, message, Severity.ERROR)

    @property
    def path(self) -> str:
        return self.problem.path

    @property
    def line(self) -> int:
        return self.problem.line

    @property
    def reason(self) -> str:
        return self.problem.message
