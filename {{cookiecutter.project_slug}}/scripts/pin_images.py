"""Pin every third-party container image to its current digest: `make pin-images`.

A tag (`python:3.11-slim`) moves when its publisher rebuilds it; a digest does
not. This rewrites each image reference in the Dockerfile, the CI file{% if cookiecutter.orchestrators != "kfp" %} and the
Tekton defaults{% endif %} to `name:tag@sha256:...`, asking each registry (anonymously,
over its v2 API) what the tag points to now. Run it again to take newer
images, in a reviewed commit. The project's own image is built by the
pipeline and is left alone. Standard library only; needs the network.
"""

import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

FILES = ("Dockerfile", ".gitlab-ci.yml"{% if cookiecutter.orchestrators != "kfp" %}, "tekton/**/*.yaml"{% endif %})
# FROM x, image: x, default: x where x looks like an image with a tag (and maybe a digest).
REFERENCE = re.compile(
    r"(?P<lead>^\s*(?:FROM\s+|image:\s*|-?\s*default:\s*)[\"']?)"
    r"(?P<name>[a-z0-9][a-z0-9._/-]*):(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
    r"(?:@sha256:[0-9a-f]{64})?",
    re.M,
)
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def registry_and_repository(name: str) -> tuple[str, str]:
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return ("registry-1.docker.io" if first == "docker.io" else first), rest
    return "registry-1.docker.io", name if rest else f"library/{name}"


def _token(challenge: str, repository: str) -> str:
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    query = urllib.parse.urlencode(
        {"service": fields.get("service", ""), "scope": fields.get("scope", f"repository:{repository}:pull")}
    )
    with urllib.request.urlopen(f"{fields['realm']}?{query}", timeout=30) as response:  # noqa: S310
        body = json.load(response)
    return body.get("token") or body["access_token"]


def registry_digest(name: str, tag: str) -> str:
    """The digest `name:tag` points to now, from its registry's v2 API."""
    registry, repository = registry_and_repository(name)
    url = f"https://{registry}/v2/{repository}/manifests/{tag}"
    headers = {"Accept": ACCEPT}
    for _ in range(2):
        request = urllib.request.Request(url, method="HEAD", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.headers["Docker-Content-Digest"]
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "")
            if exc.code != 401 or not challenge.startswith("Bearer"):
                raise SystemExit(f"error: {name}:{tag}: the registry answered {exc.code}") from None
            headers["Authorization"] = f"Bearer {_token(challenge, repository)}"
    raise SystemExit(f"error: {name}:{tag}: the registry refused an anonymous pull")


def pin_text(text: str, resolve: Callable[[str, str], str], own: str = "") -> tuple[str, list[str]]:
    """`text` with every image reference pinned by `resolve`; also the references changed."""
    changed = []

    def pin(match: re.Match) -> str:
        name, tag = match["name"], match["tag"]
        if "/" not in name and not match["lead"].lstrip().startswith(("FROM", "image")):
            return match[0]  # a bare `default: word:word` is not an image
        if own and f"{name}:{tag}" == own:
            return match[0]
        pinned = f"{match['lead']}{name}:{tag}@{resolve(name, tag)}"
        if pinned != match[0]:
            changed.append(f"{name}:{tag}")
        return pinned

    return REFERENCE.sub(pin, text), changed


def main(root: Path = Path("."), resolve: Callable[[str, str], str] = registry_digest) -> int:
    answers = root / ".cookiecutter.json"
    own = json.loads(answers.read_text()).get("image", "") if answers.exists() else ""
    for pattern in FILES:
        for path in sorted(root.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            pinned, changed = pin_text(text, resolve, own)
            if pinned != text:
                path.write_text(pinned, encoding="utf-8")
            for reference in changed:
                print(f"{path}: pinned {reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
