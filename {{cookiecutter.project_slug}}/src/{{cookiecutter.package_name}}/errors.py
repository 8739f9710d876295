"""The one exception type for mistakes a user can fix (bad data, bad settings)."""


class ProjectError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits 2."""
