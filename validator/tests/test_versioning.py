"""A baked project runs the validator version it pins, so a rule fix reaches it as a version bump."""

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import mlops_validator
from validator_fixtures import TEMPLATE, default_project  # noqa: F401 - a fixture


def install(source: Path, venv: Path) -> Path:
    """Install the validator at `source` into a new virtualenv that sees this session's packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, str(source)], check=True, capture_output=True)
    return venv / "bin" / "mlops-validate"


def test_baked_pins_name_the_template_version(default_project):
    # given the version this template's validator carries
    version = mlops_validator.__version__
    # then the baked pre-commit config and Makefile pin exactly that release tag
    precommit = (default_project / ".pre-commit-config.yaml").read_text()
    makefile = (default_project / "Makefile").read_text()
    assert re.search(rf"^\s*rev: v{re.escape(version)}$", precommit, re.M), precommit
    assert f"@v{version}#subdirectory=validator" in makefile, "Makefile VALIDATOR pin differs"
    hooks = (TEMPLATE / ".pre-commit-hooks.yaml").read_text()
    assert "id: mlops-validate" in precommit and "id: mlops-validate" in hooks, "hook ids differ"


def test_rule_change_with_a_version_bump_reaches_a_previously_baked_project(default_project, tmp_path):
    # given a project baked earlier, clean under the current validator
    current = install(TEMPLATE / "validator", tmp_path / "current")
    before = subprocess.run([str(current), str(default_project)], capture_output=True, text=True)
    assert before.returncode == 0, before.stdout + before.stderr
    # when a rule is tightened (every README must name a licence section) and the version bumped
    fixed = tmp_path / "validator"
    shutil.copytree(
        TEMPLATE / "validator", fixed, ignore=shutil.ignore_patterns("tests", "*.egg-info", "build")
    )
    package = fixed / "src" / "mlops_validator"
    init = package / "__init__.py"
    init.write_text(
        init.read_text().replace(f'__version__ = "{mlops_validator.__version__}"', '__version__ = "9.9.9"')
    )
    (package / "rules.py").write_text(
        (package / "rules.py").read_text()
        + "\n\ndef _licence_section(tree):\n"
        + "    from .findings import Finding\n"
        + "    if '## Licence' not in (tree.text('README.md') or ''):\n"
        + "        yield Finding('README.md', 1, 'DOC-LICENCE', 'README has no Licence section')\n\n\n"
        + "RULES = (*RULES, _licence_section)\n"
        + "RULE_IDS = {**RULE_IDS, 'DOC-LICENCE': 'README has a licence'}\n"
    )
    bumped = install(fixed, tmp_path / "bumped")
    # then the same project, checked by the bumped version, gets the new finding
    version = subprocess.run([str(bumped), "--version"], capture_output=True, text=True).stdout
    after = subprocess.run([str(bumped), str(default_project)], capture_output=True, text=True)
    assert "9.9.9" in version, version
    assert after.returncode == 1 and "README.md:1: DOC-LICENCE:" in after.stdout, after.stdout + after.stderr
