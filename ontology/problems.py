"""Located problems found while validating a source (a catalogue file, a load file).

Every problem carries where it is (file, row, column, field) so that a maintainer can open the
file and fix the exact cell; the code is a stable English key for scripts, the message Chinese
for people."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    severity: str = "error"  # "error" blocks a load; "warning" is reported only

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列 {self.column}")
        if self.field and not self.column:   # a located column already names the field in Chinese
            parts.append(f"字段 {self.field}")
        return " ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        tag = "错误" if self.severity == "error" else "警告"
        return f"[{tag} {self.code}] {loc + '：' if loc else ''}{self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
