"""Secrets from the environment, from files, or generated once into the data directory.

Imported by settings, so it must not import Django.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet


def env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(value: str) -> list[str]:
    """Split a comma- or newline-separated value, dropping blanks."""
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def secret_from_env(name: str) -> str | None:
    """`NAME` if set, else the contents of the file named by `NAME_FILE`, else None."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return None


def read_or_create_secret(path: Path, kind: Literal["django", "fernet"]) -> str:
    """Read a secret file, creating it with mode 0600 on first use.

    The file is created with O_EXCL so that two processes starting at once cannot write different
    keys; the loser simply reads what the winner wrote.
    """
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(50) if kind == "django" else Fernet.generate_key().decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value
