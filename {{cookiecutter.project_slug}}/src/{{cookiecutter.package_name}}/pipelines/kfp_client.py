"""Submit the compiled pipeline to a Kubeflow Pipelines cluster, through kfp's public client."""

import json
import logging
import os
import time
import urllib.error
import urllib.request
import warnings
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ProjectError
from .kfp import PIPELINE_NAME

HEALTHZ = "apis/v2beta1/healthz"


def submit(package: Path, host: str, experiment: str, run_name: str | None = None) -> str:
    """Submit a compiled pipeline to the Kubeflow Pipelines API at `host`; return the run id."""
    import kfp
    import kfp_server_api
    import urllib3
    from kfp import client as kfp_client

    package = Path(package)
    if not package.is_file():
        raise ProjectError(f"{package} not found: run compile first, or leave out --package")
    # In a pod with a projected KFP service-account token (multi-user KFP), use it.
    token_path = os.environ.get(kfp_client.KF_PIPELINES_SA_TOKEN_ENV) or kfp_client.KF_PIPELINES_SA_TOKEN_PATH
    token = Path(token_path).read_text(encoding="utf-8").strip() if Path(token_path).is_file() else None
    # kfp.Client's own health check retries five times, five seconds apart, logging a
    # traceback each time: ask once, ourselves, so a wrong host is one line at once.
    check_health(host, token)
    credentials = kfp_client.ServiceAccountTokenVolumeCredentials(token_path) if token else None
    try:
        with _quiet():
            client = kfp.Client(host=host, credentials=credentials)
            result = client.create_run_from_pipeline_package(
                str(package),
                experiment_name=experiment,
                run_name=run_name or f"{PIPELINE_NAME} {time.strftime('%Y-%m-%d %H:%M:%S')}",
            )
    except kfp_server_api.ApiException as exc:
        raise ProjectError(
            f"{host} answered HTTP {exc.status} {exc.reason}: is it the Kubeflow Pipelines API?"
        ) from None
    except (urllib3.exceptions.HTTPError, OSError, ValueError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ProjectError(f"cannot submit to {host}: {reason}") from None
    return result.run_id


def check_health(host: str, token: str | None = None, timeout: float = 10.0) -> dict:
    """Ask the KFP API's health endpoint once; one line when `host` is not a healthy KFP API."""
    url = urlsplit(host)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ProjectError(f"--host {host!r} is not a URL such as http://ml-pipeline.kubeflow:8888")
    health = f"{host.rstrip('/')}/{HEALTHZ}"
    request = urllib.request.Request(health, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise ProjectError(
            f"{host} answered HTTP {exc.code} {exc.reason}: is it the Kubeflow Pipelines API?"
        ) from None
    except TimeoutError:
        raise ProjectError(f"cannot reach Kubeflow Pipelines at {host}: no answer in {timeout:g} s") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        reason = getattr(reason, "strerror", None) or reason
        raise ProjectError(f"cannot reach Kubeflow Pipelines at {host}: {reason}") from None
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise ProjectError(
            f"{host} answered, but not as the Kubeflow Pipelines API (no JSON health)"
        ) from None


@contextmanager
def _quiet():
    """Silence kfp's client warnings and urllib3's retry log: errors become one line."""
    logger = logging.getLogger("urllib3")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
