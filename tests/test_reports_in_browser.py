"""The governance report and the technical file, opened in a real browser (headless Chromium).

The pages carry a Content-Security-Policy that allows only their own inline
style and SVG, so anything external they tried to load would be blocked and
logged as a console error. `.ci/run` installs Debian's chromium where it is
missing; elsewhere these tests are skipped.
"""

import os
import re
import shutil
import subprocess

import pytest
from conftest import run_project

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)
PAGES = {
    "governance report": "artifacts/reports/governance.html",
    "technical file": "artifacts/reports/technical_file.html",
}
# Chromium logs a page's console messages and refused loads to stderr at this verbosity.
CONSOLE_PROBLEM = re.compile(r"CONSOLE.*|Refused to .*|Failed to load resource.*", re.I)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (.ci/run installs it)"),
]


def open_headless(page, profile) -> subprocess.CompletedProcess:
    """The DOM Chromium built from `page`, with its console on stderr."""
    command = [
        BROWSER,
        "--headless",
        "--no-sandbox",  # CI containers run as root
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--log-level=0",
        "--virtual-time-budget=2000",
        "--dump-dom",
        page.as_uri(),
    ]
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("name", list(PAGES))
def test_report_renders_in_chromium_with_charts_and_no_console_errors(default_project, tmp_path, name):
    # given a default project whose pipeline has run
    page = default_project / PAGES[name]
    if not page.is_file():
        run_project(default_project, "run")
    # when Chromium opens the page from disk
    result = open_headless(page, tmp_path / "profile")
    # then it renders the page's charts and logs no console error or refused load
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("<svg") >= 1 and "</html>" in result.stdout, f"{name}: no chart rendered"
    problems = [line for line in result.stderr.splitlines() if CONSOLE_PROBLEM.search(line)]
    assert not problems, f"{name}: the browser reported:\n" + "\n".join(problems)
