"""Where lineage goes: `openlineage.yml` (or OPENLINEAGE_CONFIG), overridden by the environment.

OPENLINEAGE_URL and OPENLINEAGE__TRANSPORT__* variables override the file; code
never picks a transport. OPENLINEAGE_DISABLED=true turns lineage off.
"""

import json
import logging
import os
import sys
from pathlib import Path

import yaml
from openlineage.client import OpenLineageClient
from openlineage.client.transport import get_default_factory

from ..errors import ProjectError
from ..project import SLUG
from ..settings import read_yaml


def namespace() -> str:
    """The job namespace: OPENLINEAGE_NAMESPACE, or the project."""
    return os.environ.get("OPENLINEAGE_NAMESPACE") or SLUG


def _env_overrides() -> dict:
    """OPENLINEAGE_URL and OPENLINEAGE__A__B=value variables as a nested config dict (empty is unset)."""
    config: dict = {}
    if url := os.environ.get("OPENLINEAGE_URL"):
        transport = {
            "type": "http",
            "url": url,
            "endpoint": os.environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage"),
        }
        if key := os.environ.get("OPENLINEAGE_API_KEY"):
            transport["auth"] = {"type": "api_key", "apiKey": key}
        config["transport"] = transport
    for name, raw in sorted(os.environ.items()):
        if not name.startswith("OPENLINEAGE__") or not raw:
            continue  # a ConfigMap may list a key it leaves empty
        *parents, leaf = name.removeprefix("OPENLINEAGE__").lower().split("__")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        try:
            node[leaf] = json.loads(raw)
        except ValueError:
            node[leaf] = raw
    return config


def transport_config() -> dict:
    """The transport: openlineage.yml, overridden by the environment."""
    path = Path(os.environ.get("OPENLINEAGE_CONFIG") or "openlineage.yml")
    try:
        config = (read_yaml(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"{path} is not readable YAML: {exc}") from exc
    transport = dict(config.get("transport") or {})
    override = _env_overrides().get("transport") or {}
    if override.get("type") not in (None, transport.get("type")):
        transport = {}  # the environment names another kind of transport: the file's keys don't apply
    transport.update(override)
    return transport or {"type": "console"}


def destination() -> str:
    """Where events go, in words: the file, the URL or the transport's kind."""
    transport = transport_config()
    return transport.get("log_file_path") or transport.get("url") or transport.get("type", "console")


def make_client() -> OpenLineageClient:
    """A client for the configured transport (a no-op one when OPENLINEAGE_DISABLED is true)."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return OpenLineageClient()  # the client turns itself into a no-op
    transport = transport_config()
    if transport.get("type") == "file" and transport.get("log_file_path"):
        Path(transport["log_file_path"]).parent.mkdir(parents=True, exist_ok=True)
    if transport.get("type") == "console":
        _show_console_events()
    return OpenLineageClient(transport=get_default_factory().create(transport))


def _show_console_events() -> None:
    """The console transport logs each event at INFO, which Python hides by default: show them on stderr."""
    logger = logging.getLogger("openlineage.client.transport.console")
    if not any(getattr(handler, "lineage_events", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.lineage_events = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # once, even when the application logs INFO itself
