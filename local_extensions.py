"""Jinja filters that put user text into generated files without breaking them, an
extension that refuses an answer cookiecutter could not render, and one that keeps
compiled templates between bakes.

cookiecutter loads this module through `_extensions` in cookiecutter.json.
"""

import sys
from pathlib import Path

from cookiecutter.utils import simple_filter
from jinja2 import Environment, FileSystemBytecodeCache, TemplateSyntaxError, meta
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


@simple_filter
def repository(image: object) -> str:
    """The repository of an image reference, without its tag or digest (a registry port stays)."""
    name = str(image).split("@", 1)[0]
    folder, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{folder}/{last}" if folder else last


# Resolved when cookiecutter imports this module, from the folder the user ran it in: a
# template given as a relative path (`cookiecutter .`) is relative to that folder.
CHECKOUT = str(Path(__file__).resolve().parent)
CONTEXT = {"cookiecutter", "_cookiecutter", "template_checkout"}  # the names templates render with


class RefuseBrokenAnswers(Extension):
    """One line and exit 1, instead of cookiecutter's traceback or context dump, for an
    answer it cannot render: broken Jinja, or Jinja naming a variable that does not exist.

    cookiecutter renders every answer as a Jinja template from a string
    (`--no-input 'description={{ x'` included) before any hook runs, so the
    pre-generation hook, which refuses Jinja in answers, never sees these. The
    template's own strings (path names, hooks) parse and name only CONTEXT;
    templates from files are left alone.
    """

    def __init__(self, environment: Environment):
        super().__init__(environment)
        self.plain: Environment | None = None

    def _parse(self, source: str):
        if self.plain is None:
            # Without the extensions (so without calling back into this one), with the filters.
            self.plain = Environment()
            self.plain.filters.update(self.environment.filters)
            self.plain.tests.update(self.environment.tests)
        return self.plain.parse(source)

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name is None and filename is None:
            try:
                unknown = meta.find_undeclared_variables(self._parse(source)) - CONTEXT
                reason = f"{sorted(unknown)[0]!r} is undefined" if unknown else None
            except TemplateSyntaxError as exc:
                reason = exc.message
            if reason:
                marks = ", ".join(("{" + "{", "{" + "%", "{" + "#"))
                rule = f"must not contain {marks} (cookiecutter evaluates Jinja: {reason})"
                print(f"error: answer {source!r}: {rule}", file=sys.stderr)
                raise SystemExit(1)
        return source


class TemplateCheckout(Extension):
    """`template_checkout`: the folder this template is checked out in, so the hooks can import
    the template's own modules from it (a hook runs from a temporary copy of itself and cannot
    import what sits beside it, cookiecutter#824). cookiecutter also passes the folder as
    `cookiecutter._repo_dir`; cruft does not, and for a remote template `_template` is a URL.
    """

    def __init__(self, environment: Environment):
        super().__init__(environment)
        environment.globals["template_checkout"] = CHECKOUT


class CompiledTemplateCache(Extension):
    """Compiled templates kept between bakes, in Jinja's own per-user folder under the
    temporary directory (FileSystemBytecodeCache's default): compiling the template's
    files is about 40% of a bake. Jinja uses a cached template only while the checksum of
    its source is unchanged, so an edited template is compiled again.
    """

    def __init__(self, environment: Environment):
        super().__init__(environment)
        environment.bytecode_cache = FileSystemBytecodeCache()
