"""make pin-images: third-party images pinned by digest, the project's own image left alone."""

import importlib.util
import json
import shutil
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("pin_images", PROJECT / "scripts/pin_images.py")
pin_images = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pin_images)

DIGEST = "sha256:" + "a" * 64
NEWER = "sha256:" + "b" * 64


def test_every_third_party_image_gets_a_digest_and_the_projects_own_does_not(tmp_path):
    # given the project's Dockerfile, CI file{% if cookiecutter.orchestrators != "kfp" %} and Tekton tasks{% endif %} as generated
    for name in ("Dockerfile", ".gitlab-ci.yml", ".cookiecutter.json"{% if cookiecutter.orchestrators != "kfp" %}, "tekton"{% endif %}):
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        elif source.exists():
            shutil.copy(source, tmp_path / name)
    asked = []

    def resolve(name: str, tag: str) -> str:
        asked.append(f"{name}:{tag}")
        return DIGEST

    # when the images are pinned (with a stand-in for the registries)
    pin_images.main(tmp_path, resolve)
    # then every FROM and every image default that is not ours carries the digest
    own = json.loads((PROJECT / ".cookiecutter.json").read_text())["image"]
    assert own not in asked, "the project's own image was pinned"
    assert any(reference.startswith("python:") for reference in asked), asked
    dockerfile = (tmp_path / "Dockerfile").read_text()
    assert f"-slim@{DIGEST}" in dockerfile, dockerfile


def test_pinning_again_replaces_the_digest_and_keeps_the_tag():
    # given one image pinned already and one not, and a registry that now has newer builds
    text = f"FROM python:3.11-slim@{DIGEST}\nimage: registry.k8s.io/kubectl:v1.31.4\n"
    # when pinned
    pinned, changed = pin_images.pin_text(text, lambda name, tag: NEWER)
    # then both carry the new digest after their tag
    expected = f"FROM python:3.11-slim@{NEWER}\nimage: registry.k8s.io/kubectl:v1.31.4@{NEWER}\n"
    assert pinned == expected, pinned
    assert changed == ["python:3.11-slim", "registry.k8s.io/kubectl:v1.31.4"], changed


def test_a_default_that_is_not_an_image_is_left_alone():
    text = "      default: main:latest\n      default: $(params.image)\n"
    assert pin_images.pin_text(text, lambda name, tag: NEWER)[0] == text, "a non-image default was rewritten"


def test_docker_hub_names_expand_to_their_registry_and_library():
    hub = "registry-1.docker.io"
    assert pin_images.registry_and_repository("python") == (hub, "library/python")
    assert pin_images.registry_and_repository("bitnami/kubectl") == (hub, "bitnami/kubectl")
    assert pin_images.registry_and_repository("registry.k8s.io/kubectl") == ("registry.k8s.io", "kubectl")
