"""Format the template's Python files with ruff, through a bake.

Template files hold Jinja (`from {{ cookiecutter.package_name }}...`) that
ruff cannot parse, so: bake with every option on, `ruff format` and
`ruff check --fix` the baked tree, then copy each file back with the baked
names turned into Jinja again. Files with other Jinja are reported, not
touched: format those by hand.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
BIN = Path(sys.executable).parent
NAMES = {  # Jinja expression -> the value it bakes to below
    "{{ cookiecutter.package_name | upper }}": "ZQ_FMT",
    "{{ cookiecutter.package_name }}": "zq_fmt",
    "{{ cookiecutter.project_slug }}": "zq-fmt",
    "{{ cookiecutter.project_name | escaped }}": "Zq Fmt",  # in Python, user text is always escaped
}
OPTIONS = ["orchestrators=tekton-and-kfp", "experiment_tracking=mlflow", "data_versioning=dvc"]


def main() -> int:
    out = Path(tempfile.mkdtemp())
    try:
        subprocess.run(
            [
                str(BIN / "cookiecutter"),
                "--no-input",
                "-o",
                str(out),
                str(TEMPLATE),
                "project_name=Zq Fmt",
                *OPTIONS,
            ],
            check=True,
        )
        baked = out / "zq-fmt"
        subprocess.run([str(BIN / "ruff"), "format", "-q", "src", "tests"], cwd=baked, check=True)
        subprocess.run([str(BIN / "ruff"), "check", "-q", "--fix", "src", "tests"], cwd=baked, check=False)
        for source in PROJECT.rglob("*.py"):
            text = source.read_text()
            rest = text
            for expression in NAMES:
                rest = rest.replace(expression, "")
            rel = source.relative_to(PROJECT).as_posix().replace("{{cookiecutter.package_name}}", "zq_fmt")
            if not (baked / rel).exists():
                continue
            if "{{" in rest or "{%" in rest:
                print(f"not formatted (other Jinja): {rel}")
                continue
            formatted = (baked / rel).read_text()
            for expression, value in sorted(NAMES.items(), key=lambda item: -len(item[1])):
                formatted = formatted.replace(value, expression)
            if formatted != text:
                source.write_text(formatted)
                print(f"formatted {rel}")
    finally:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
