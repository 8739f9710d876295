"""A finding: where a rule was broken, which rule, and what to do."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    rule: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)
