"""The emergency cut-out: while its file exists, the server refuses to predict (503), at once.

The server looks for the file on every request (one failed open when it is
absent), so switching costs no restart. On the cluster the same file can come
from a ConfigMap volume; `make cluster-stop` stops the InferenceService instead.
"""

from pathlib import Path

from ..errors import ProjectError
from ..files import atomic_path


def reason(path: Path) -> str | None:
    """Why serving is cut out (the file's first line), or None when it is not."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline(500).strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cut-out file {path} is unreadable ({exc.strerror})"
    return first or f"cut out by {path}"


def switch_on(path: Path, why: str) -> None:
    """Cut serving out: write the file atomically, with the reason clients will see."""
    why = " ".join(why.split())
    if not why:
        raise ProjectError("give a reason: clients see it in every 503 answer")
    with atomic_path(path, mode=0o644) as tmp:
        tmp.write_text(why + "\n", encoding="utf-8")


def switch_off(path: Path) -> bool:
    """Serve again; False when serving was not cut out."""
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ProjectError(f"cannot remove {path}: {exc.strerror}") from exc
    return True
