"""The one exception type for mistakes a user can fix (bad data, bad settings)."""


class ProjectError(Exception):
    """A problem the user can fix; the CLI prints it (one line per problem) and exits 2."""


class InvalidFile(ProjectError):
    """A settings or policy file breaks its schema.

    `problems` lists (location, message) pairs, location being the path of keys
    to the value at fault, so a tool (the repository validator) can point at lines.
    """

    def __init__(self, message: str, problems: list[tuple[tuple, str]]):
        super().__init__(message)
        self.problems = problems


class GateFailed(ProjectError):
    """The model broke the governance policy; `summary` is govern's full result.

    govern writes all its reports before raising, so the evidence is on disk;
    lineage and the orchestrators read `summary` to attach it to the failed run.
    The message is one line per failed gate.
    """

    def __init__(self, message: str, summary: dict):
        super().__init__(message)
        self.summary = summary
