"""The users file: scrypt hashes, roles, and `curate ui users add`."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest

from curation.errors import CurationError
from curation.review.users import UsersFile


def test_add_check_and_roles(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    users = UsersFile(path)
    users.add("alice", "correct horse", "admin")
    users.add("bob", "battery staple")
    again = UsersFile(path)
    assert again.check("alice", "correct horse") and not again.check("alice", "battery staple")
    assert not again.check("nobody", "correct horse")
    assert again.get("alice").admin and not again.get("bob").admin and again.names() == ["alice", "bob"]
    raw = path.read_text()
    assert "correct horse" not in raw and orjson.loads(raw)["users"]["alice"]["n"] == 2**14
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(CurationError, match="already exists"):
        users.add("alice", "another password")
    with pytest.raises(CurationError, match="unknown role"):
        users.add("carol", "long enough", "owner")
    with pytest.raises(CurationError, match="not allowed"):
        users.add("bad name", "long enough")
    users.remove("bob")
    assert UsersFile(path).names() == ["alice"]


def test_cli_users_add_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from curation.cli import main

    path = tmp_path / "u.json"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert main(["ui", "users", "add", "ann", "--role", "admin", "--users", str(path), "--password-stdin"]) == 0
    assert UsersFile(path).check("ann", "s3cret-pass")
    assert main(["ui", "users", "list", "--users", str(path)]) == 0
    assert "ann\tadmin" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["ui", "users", "add", "bo", "--users", str(path), "--password-stdin"]) == 2
    assert main(["ui", str(tmp_path / "missing")]) == 2


def test_sharing_without_logins_is_refused(tmp_path: Path) -> None:
    from curation.review.synthetic import write_synthetic_run
    from ui.app import launch

    run = write_synthetic_run(tmp_path / "run", n=20)
    with pytest.raises(CurationError, match="without logins"):
        launch(run, host="0.0.0.0", prevent_thread_lock=True, quiet=True)
    with pytest.raises(CurationError, match="no users"):
        launch(run, users_file=tmp_path / "empty.json", prevent_thread_lock=True, quiet=True)
