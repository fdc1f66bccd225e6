"""`curate ui RUN_DIR`: review, fix and approve a run's curated set in the browser, then export and train.

`curate ui users add NAME --role reviewer|admin` manages the people who log in (a users file of scrypt hashes).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup


class _DefaultServe(TyperGroup):
    """`curate ui RUN_DIR ...` means `curate ui serve RUN_DIR ...`; `curate ui users ...` manages the users."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


ui_app = typer.Typer(cls=_DefaultServe, help="Review a run folder in the browser (and manage who may log in).",
                     no_args_is_help=False, add_completion=False)  # fmt: skip
users_app = typer.Typer(help="People who log in to the review UI: name, role and a hashed password.")
ui_app.add_typer(users_app, name="users")

UsersOption = Annotated[
    Path | None,
    typer.Option(
        "--users", "--file", help="Users file (default $CURATION_UI_USERS or ~/.config/curation/ui-users.json)."
    ),
]


def _users_path(path: Path | None) -> Path:
    from ..review.users import default_users_file

    return path or default_users_file()


@ui_app.command("serve")
def serve(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by `curate run --out`.")] = Path("."),
    host: Annotated[
        str, typer.Option(help="Interface to bind; anything but loopback needs a users file.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.", min=1, max=65535)] = 7860,
    users: UsersOption = None,
    insecure_no_auth: Annotated[bool, typer.Option(
        "--insecure-no-auth", help="Serve a non-loopback --host without a login (anyone on the network can "
        "review, export and train).")] = False,
) -> None:
    """Open the review UI for a run folder. Everyone in the users file logs in and is the reviewer of record;
    with no users file nobody logs in and the UI binds to 127.0.0.1 only."""
    from ..errors import CurationError

    if not run_dir.is_dir():
        raise CurationError(
            f"run folder {str(run_dir)!r} {'is not a folder' if run_dir.exists() else 'does not exist'}",
            hint="pass the --out folder of `curate run`",
        )
    from .. import run_folder

    run_folder.verify(run_dir)  # an interrupted or changed run folder is refused before the UI opens
    path = _users_path(users)
    if users is not None and not path.exists():
        raise CurationError(f"users file {str(path)!r} does not exist", hint="create it: curate ui users add NAME")
    from ..ui_guard import check_serving

    # before gradio loads: one line, no traceback (host, port, and a login wherever others can reach it)
    check_serving(host, port, insecure_no_auth=insecure_no_auth, has_users=path.exists())
    from ui.app import launch  # lazily: nothing in curation/ imports ui/ at module level

    typer.echo(
        f"review UI for {run_dir} on http://{host}:{port}" + (f" (logins from {path})" if path.exists() else "")
    )
    launch(run_dir, host=host, port=port, users_file=path if path.exists() else None,
           insecure_no_auth=insecure_no_auth)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name (the reviewer of record for their decisions).")],
    role: Annotated[str, typer.Option(help="reviewer or admin (admins set the overlap and resolve conflicts).")] = (
        "reviewer"
    ),
    users: UsersOption = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Set a new password or role for an existing user.")
    ] = False,
) -> None:
    """Add a user (the password is asked twice, or read from stdin; only its scrypt hash is stored)."""
    from ..errors import CurationError
    from ..review.users import UsersFile

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise CurationError("empty password", hint="type a password of at least 8 characters")
    path = _users_path(users)
    user = UsersFile(path).add(name, password, role, replace=replace)
    typer.echo(f"{user.name} ({user.role}) in {path}")


@users_app.command("list")
def users_list(users: UsersOption = None) -> None:
    """Names and roles in the users file."""
    from ..review.users import UsersFile

    file = UsersFile(_users_path(users))
    for name in file.names():
        typer.echo(f"{name}\t{file.get(name).role}")  # type: ignore[union-attr]


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="Login name to remove.")], users: UsersOption = None
) -> None:
    """Remove a user (their decisions stay in the review log)."""
    from ..review.users import UsersFile

    UsersFile(_users_path(users)).remove(name)
    typer.echo(f"removed {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(ui_app, name="ui")
