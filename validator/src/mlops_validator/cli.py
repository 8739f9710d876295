"""`mlops-validate [ROOT] [--format text|json]`: exit 1 on findings, 2 on a usage error."""

import argparse
import json
import sys
from pathlib import Path

from . import __version__, check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mlops-validate",
        description="Check a baked project's manifests, Tekton graph, security settings and policy files.",
    )
    parser.add_argument("root", nargs="?", default=".", type=Path, help="project root (default: .)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--version", action="version", version=f"mlops-validate {__version__}")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a folder")
    report = check(args.root)
    if args.format == "json":
        print(json.dumps([finding.as_dict() for finding in report.findings], indent=2))
    else:
        for finding in report.findings:
            print(finding.format())
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        if report.findings:
            print(f"{len(report.findings)} finding(s)", file=sys.stderr)
        else:
            print(f"validate: no findings (mlops-validate {__version__})")
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
