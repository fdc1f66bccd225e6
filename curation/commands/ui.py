"""`curate ui RUN_DIR`: review, fix and approve a run's curated set in the browser, then export and train."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui_command(
        run_dir: Annotated[Path, typer.Argument(help="Run folder written by `curate run --out`.")] = Path("."),
        host: Annotated[str, typer.Option(help="Interface to bind; loopback unless you mean to share.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to serve on.", min=1, max=65535)] = 7860,
        insecure_no_auth: Annotated[bool, typer.Option(
            "--insecure-no-auth", help="Serve a non-loopback --host without a login (anyone on the network can "
            "review, export and train).")] = False,
    ) -> None:
        """Open the review UI for a run folder (login from CURATION_UI_USER / CURATION_UI_PASSWORD when set)."""
        from ..errors import CurationError

        if not run_dir.is_dir():
            raise CurationError(
                f"run folder {str(run_dir)!r} {'is not a folder' if run_dir.exists() else 'does not exist'}",
                hint="pass the --out folder of `curate run`",
            )
        from .. import run_folder

        run_folder.verify(run_dir)  # an interrupted or changed run folder is refused before the UI opens
        from ..ui_guard import check_serving

        check_serving(host, port, insecure_no_auth=insecure_no_auth)  # before gradio loads: one line, no traceback
        from ui.app import launch  # lazily: nothing in curation/ imports ui/ at module level

        typer.echo(f"review UI for {run_dir} on http://{host}:{port}")
        launch(run_dir, host=host, port=port)
