"""Typed readers for settings that come from the environment.

Each helper refuses a bad value with ImproperlyConfigured naming the variable and what it accepts,
so a typo in a deployment fails at start-up rather than behaving oddly later.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    return (os.environ if environ is None else environ).get(name)


def env_str(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """Return the variable as text, or the default when it is unset."""
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """Return the variable as a boolean; accept only true/false, yes/no, on/off or 1/0."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use one of true/false, yes/no, on/off, 1/0."
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Return the variable as a whole number within [minimum, maximum]."""
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
    return number


def env_list(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path, *, environ: Mapping[str, str] | None = None) -> Path:
    """Return the variable as an absolute path."""
    value = _raw(name, environ)
    if value is None:
        return default.resolve()
    if not value.strip():
        raise ImproperlyConfigured(f"{name} is set but empty: give a directory path.")
    return Path(value).expanduser().resolve()


def env_secret(name: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """Return a secret from NAME, or from the file that NAME_FILE points to (Docker secrets)."""
    value = _raw(name, environ)
    file_name = _raw(f"{name}_FILE", environ)
    if value is not None and file_name is not None:
        raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
    if file_name is not None:
        try:
            value = Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    if value is not None and not value.strip():
        raise ImproperlyConfigured(f"{name} is set but empty.")
    return value


def secret_key_from(var_dir: Path, *, environ: Mapping[str, str] | None = None) -> str:
    """Return SECRET_KEY from the environment, else from var/secret_key (made on first run)."""
    return generated_secret("SECRET_KEY", var_dir, environ=environ)


def generated_secret(name: str, var_dir: Path, *, environ: Mapping[str, str] | None = None) -> str:
    """Return a secret from NAME / NAME_FILE, else from var/<name>, generating it on first run."""
    configured = env_secret(name, environ=environ)
    if configured is not None:
        if len(configured) < 32:
            raise ImproperlyConfigured(f"{name} must be at least 32 characters long.")
        return configured
    key_file = var_dir / name.lower()
    if key_file.exists():
        return _key_from_file(key_file)
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: if two processes start at once, the loser reads the winner's key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _key_from_file(key_file)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _key_from_file(key_file: Path) -> str:
    # A short or empty file (edited by hand, or cut off by a full disk) must not become the key.
    key = key_file.read_text().strip()
    if len(key) < 32:
        raise ImproperlyConfigured(
            f"{key_file} holds a key shorter than 32 characters: delete it to make a new one."
        )
    return key
