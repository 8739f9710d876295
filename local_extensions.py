"""Jinja filters that put user text into generated files without breaking them.

cookiecutter loads this module through `_extensions` in cookiecutter.json.
"""

from cookiecutter.utils import simple_filter


def _escape(text: str) -> str:
    # Printable ASCII stays as typed; everything else becomes an escape that
    # YAML and TOML double-quoted strings read back identically.
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    return "".join(out)


@simple_filter
def quoted(value: object) -> str:
    """A double-quoted scalar that YAML and TOML both parse back to `value`."""
    return f'"{_escape(str(value))}"'


@simple_filter
def escaped(value: object) -> str:
    """`value` escaped for the inside of a double-quoted YAML, TOML or Python string."""
    return _escape(str(value))
