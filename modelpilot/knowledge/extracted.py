"""What extraction produces (titled sections of text) and how it fails, shared by the dispatcher
(extract.py) and the per-format modules it dispatches to."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_TEXT_CHARS = 5_000_000       # extracted text per document


@dataclass
class Section:
    text: str
    heading: str | None = None
    page: int | None = None


@dataclass
class Extracted:
    title: str
    content_type: str
    sections: list[Section] = field(default_factory=list)
    url: str | None = None

    @property
    def char_count(self) -> int:
        return sum(len(s.text) for s in self.sections)


class ExtractionError(Exception):
    """The content cannot be used; the message tells the user what to do about it."""

    def __init__(self, message: str, code: str = "extraction_failed") -> None:
        super().__init__(message)
        self.message, self.code = message, code

    def __reduce__(self):
        # Raised in a reader process and re-raised in the server: the code must survive pickling.
        return _restore_error, (type(self), self.message, self.code)


def _restore_error(cls: type, message: str, code: str) -> ExtractionError:
    error = cls.__new__(cls)
    ExtractionError.__init__(error, message, code)
    return error


class UnsupportedType(ExtractionError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "unsupported_type")
