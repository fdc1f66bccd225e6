"""The `curate` command line: thin; parses, calls the library, prints.

Each command lives in ``curation/commands/<name>.py`` and exposes ``register(app)``. A user mistake
surfaces as a :class:`~curation.errors.CurationError` and is printed as one line with its fix.
"""

from __future__ import annotations

import importlib
import sys

import typer

from .errors import CurationError

app = typer.Typer(
    name="curate",
    help="Curate raw chat logs into clean, deduplicated, provider-ready fine-tuning data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = ("inspect", "run", "export", "train", "model", "ui")

for _name in COMMAND_MODULES:
    importlib.import_module(f"curation.commands.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``curate`` console script."""
    try:
        # In standalone_mode=False typer *returns* the code of a `typer.Exit` (and 130 for a KeyboardInterrupt
        # it caught) instead of raising it: the return value is the exit code.
        code = app(args=argv, standalone_mode=False)
    except CurationError as exc:
        prefix = "" if exc.exit_code == 130 else "error: "
        typer.secho(f"{prefix}{exc}", err=True, fg=typer.colors.RED)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        # Usage errors (missing argument, bad option) arrive here in standalone_mode=False. typer ships its
        # own copy of click, so they are recognised by shape rather than by click's class.
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        raise
    if code == 130:
        typer.echo("interrupted", err=True)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
