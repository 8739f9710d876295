"""Jinja filters that put user text into generated files without breaking them, and
an extension that refuses an answer cookiecutter could not even read.

cookiecutter loads this module through `_extensions` in cookiecutter.json.
"""

import sys

from cookiecutter.utils import simple_filter
from jinja2 import Environment, TemplateSyntaxError
from jinja2.ext import Extension


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


_PLAIN = Environment()  # parses without the extensions, so without calling back into this one


class RefuseBrokenAnswers(Extension):
    """One line and exit 1, instead of a Jinja traceback, for an answer that is broken Jinja.

    cookiecutter renders every answer as a Jinja template from a string
    (`--no-input 'description={{ x'` included) before any hook runs, so the
    pre-generation hook, which refuses Jinja in answers, never sees this one.
    Templates from files are the template's own and are left alone.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name is None and filename is None:
            try:
                _PLAIN.parse(source)
            except TemplateSyntaxError as exc:
                marks = ", ".join(("{" + "{", "{" + "%", "{" + "#"))
                print(
                    f"error: answer {source!r}: must not contain {marks} (cookiecutter evaluates Jinja: "
                    f"{exc.message})",
                    file=sys.stderr,
                )
                raise SystemExit(1) from None
        return source
