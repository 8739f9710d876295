"""Post an event to the project's Tekton EventListener, signed as its github interceptor expects.

The monitoring CronJob sends `monitor` (start the monitoring Pipeline) and the
monitoring Pipeline sends `retrain` when a gate in monitoring.retrain_on failed
(start the training Pipeline). The body has the shape of a push event
(repository.clone_url, after, ref), so one TriggerBinding serves every trigger,
and the HMAC-SHA256 signature uses the webhook Secret the push trigger checks.
"""

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from ..errors import ProjectError

EVENTS = ("monitor", "retrain")
SECRET_ENV = "WEBHOOK_TOKEN"  # noqa: S105 - the variable's name, not a secret


def body(git_url: str, git_revision: str) -> bytes:
    if not git_url:
        raise ProjectError("--git-url is empty: set the repository to build (GIT_URL in the CronJob)")
    # The listener's CEL filters read ref (branch) and deleted, as on a push.
    payload = {
        "repository": {"clone_url": git_url},
        "after": git_revision,
        "ref": f"refs/heads/{git_revision}",
        "deleted": False,
    }
    return json.dumps(payload, sort_keys=True).encode()


def signature(data: bytes, token: str) -> str:
    """GitHub's X-Hub-Signature-256 header value for `data`."""
    return "sha256=" + hmac.new(token.encode(), data, hashlib.sha256).hexdigest()


def send(listener: str, event: str, git_url: str, git_revision: str, token: str, timeout: float = 10) -> int:
    """POST the event; return the listener's HTTP status (202 when a trigger accepted it)."""
    if event not in EVENTS:
        raise ProjectError(f"event {event!r} is not one of {', '.join(EVENTS)}")
    if not token:
        raise ProjectError(f"{SECRET_ENV} is empty: mount the webhook Secret's token")
    if not listener.startswith(("http://", "https://")):
        raise ProjectError(f"--listener {listener!r} is not an http(s) URL")
    data = body(git_url, git_revision)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        listener,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-Hub-Signature-256": signature(data, token),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return response.status
    except urllib.error.HTTPError as exc:
        raise ProjectError(f"{listener} answered {exc.code} to the {event} event") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProjectError(f"cannot reach {listener}: {getattr(exc, 'reason', exc)}") from None
