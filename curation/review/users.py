"""The review team: a users file of names, roles and scrypt password hashes (``curate ui users add``).

The file is JSON, ``{"users": {NAME: {"role", "salt", "hash", "n", "r", "p"}}}``, written atomically with mode
0600. Passwords are never stored, only ``hashlib.scrypt`` of them with a per-user random salt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import CurationError

ROLES = ("reviewer", "admin")
USERS_ENV = "CURATION_UI_USERS"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def default_users_file() -> Path:
    """``$CURATION_UI_USERS``, else ``~/.config/curation/ui-users.json``."""
    env = os.environ.get(USERS_ENV)
    return Path(env) if env else Path.home() / ".config" / "curation" / "ui-users.json"


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


class UsersFile:
    """Read, add to and check against one users file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._data = self._read()

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"users": {}}
        try:
            data = orjson.loads(self.path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise CurationError(f"the users file is not valid JSON ({exc})", where=str(self.path),
                                hint="fix it, or delete it and add the users again") from None  # fmt: skip
        if not isinstance(data, dict) or not isinstance(data.get("users"), dict):
            raise CurationError("the users file has no \"users\" mapping", where=str(self.path),
                                hint="write it with `curate ui users add NAME`")  # fmt: skip
        return data

    def names(self) -> list[str]:
        return sorted(self._data["users"])

    def get(self, name: str) -> User | None:
        entry = self._data["users"].get(name)
        return User(name, str(entry.get("role", "reviewer"))) if entry else None

    def add(self, name: str, password: str, role: str = "reviewer", *, replace: bool = False) -> User:
        if not NAME.match(name or ""):
            raise CurationError(f"user name {name!r} is not allowed",
                                hint="use letters, digits and . _ @ - (up to 64 characters)")  # fmt: skip
        if role not in ROLES:
            raise CurationError(f"unknown role {role!r}", hint="use --role reviewer or --role admin")
        if len(password) < 8:
            raise CurationError("the password is shorter than 8 characters", hint="choose a longer password")
        if name in self._data["users"] and not replace:
            raise CurationError(f"user {name!r} already exists", where=str(self.path),
                                hint="pass --replace to set a new password or role")  # fmt: skip
        salt = os.urandom(16)
        self._data["users"][name] = {"role": role, "salt": salt.hex(), "hash": _hash(password, salt, **SCRYPT).hex(),
                                     **SCRYPT}  # fmt: skip
        self._write()
        return User(name, role)

    def remove(self, name: str) -> None:
        if self._data["users"].pop(name, None) is None:
            raise CurationError(f"no user {name!r}", where=str(self.path), hint=f"users: {', '.join(self.names())}")
        self._write()

    def check(self, name: str, password: str) -> bool:
        """True when the password is the user's (constant-time comparison)."""
        entry = self._data["users"].get(name)
        if not entry:
            _hash(password, b"0" * 16, **SCRYPT)  # the same work for an unknown name
            return False
        digest = _hash(password, bytes.fromhex(entry["salt"]), int(entry["n"]), int(entry["r"]), int(entry["p"]))
        return hmac.compare_digest(digest, bytes.fromhex(entry["hash"]))

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(self._data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        os.replace(tmp, self.path)


__all__ = ["ROLES", "USERS_ENV", "User", "UsersFile", "default_users_file"]
