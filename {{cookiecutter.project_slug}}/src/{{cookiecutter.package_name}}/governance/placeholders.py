"""Text people were asked to write but did not: template wording left in place."""

import re

# Left by a template or a person who meant to come back: TODO, TBD, FIXME, XXX,
# "replace with/this", "lorem ipsum" and <angle-bracket> prompts.
PLACEHOLDER = re.compile(
    r"\b(TODO|TBD|FIXME|XXX)\b|\breplace (with|this|me)\b|lorem ipsum|<[a-z][a-z _-]*>", re.IGNORECASE
)


def find_placeholder(text: str) -> str | None:
    """The first placeholder in `text`, or None."""
    found = PLACEHOLDER.search(text)
    return found.group(0) if found else None
