"""Checks before the review UI serves: who may log in, and whether the host and port can be bound.

A non-loopback host without a login would let anyone on the network review, export and train, so it is
refused unless ``--insecure-no-auth`` says so; a user without a password (or the reverse) is an error rather
than a silently disabled login. The host is resolved and the port bound once here, so a bad one is one line
instead of a traceback from deep inside the web server.
"""

from __future__ import annotations

import ipaddress
import os
import socket

from .errors import CurationError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def login_from_env() -> tuple[str, str] | None:
    """``(user, password)`` from CURATION_UI_USER / CURATION_UI_PASSWORD, None when neither is set."""
    user, password = os.environ.get("CURATION_UI_USER"), os.environ.get("CURATION_UI_PASSWORD")
    if user and password:
        return (user, password)
    if password and not user:
        raise CurationError("CURATION_UI_PASSWORD is set but CURATION_UI_USER is not", hint="set both or neither")
    if user and not password:
        raise CurationError("CURATION_UI_USER is set but CURATION_UI_PASSWORD is not (the login would be off)",
                            hint="set CURATION_UI_PASSWORD too, or unset CURATION_UI_USER")
    return None


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_serving(host: str, port: int, *, insecure_no_auth: bool = False, has_users: bool = False) -> None:
    """Raise CurationError (one line) when the UI must not or cannot serve on ``host:port``."""
    login = login_from_env()
    if not is_loopback(host) and login is None and not has_users and not insecure_no_auth:
        raise CurationError(
            f"--host {host} serves the review UI beyond this machine without a login",
            hint="add reviewers with `curate ui users add NAME`, use --host 127.0.0.1, or pass --insecure-no-auth",
        )
    if not 1 <= port <= 65535:
        raise CurationError(f"--port {port} is out of range", hint="use a port from 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CurationError(f"--host {host!r} cannot be resolved ({exc})",
                            hint="use an IP address or a name of this machine, e.g. 127.0.0.1") from None
    family, _type, _proto, _name, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # as the web server binds: a port left in TIME_WAIT by a killed server is free, a listening one is not
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CurationError(f"cannot serve on {host}:{port}: {exc.strerror or exc}",
                                hint="choose another --port (or stop what is using it)") from None
