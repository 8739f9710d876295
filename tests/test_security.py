"""Security of what a bake produces: no secrets, bandit-clean, non-root, pinned."""

import re
import subprocess
import sys
from pathlib import Path

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),
    "assigned secret": re.compile(
        r"(?i)\b(password|passwd|secret|api[_-]?key|token)\b\s*[:=]\s*['\"][^'\"$({<\s]{8,}['\"]"
    ),
}


def test_the_secret_scanner_catches_what_it_looks_for():
    # guard against a scanner that can never fire
    samples = ["-----BEGIN RSA PRIVATE KEY-----", "AKIA" + "ABCDEFGHIJKLMNOP", 'api_key = "s3cr3tvalue9"']
    assert all(any(p.search(s) for p in SECRET_PATTERNS.values()) for s in samples)


def test_no_secret_in_any_generated_file(config, bake):
    project = bake(**config)
    found = []
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [
                f"{path.relative_to(project)}: {name}"
                for name, p in SECRET_PATTERNS.items()
                if p.search(text)
            ]
    assert not found, f"secret-like strings in the baked project: {found}"


def test_bandit_finds_nothing_medium_or_high(default_project):
    bandit = Path(sys.executable).parent / "bandit"
    result = subprocess.run(
        [str(bandit), "--quiet", "--recursive", "--severity-level", "medium", "src"],
        cwd=default_project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_container_runs_as_non_root_and_base_image_is_pinned(default_project):
    dockerfile = (default_project / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}, "the image's last USER is root"
    for image in re.findall(r"^FROM\s+(\S+)", dockerfile, re.M):
        assert ":" in image and not image.endswith(":latest"), f"unpinned base image {image}"


def test_security_policy_is_there(default_project):
    text = (default_project / "SECURITY.md").read_text()
    assert "mlops-team@example.com" in text, "SECURITY.md names no contact"
