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
    help="Curate raw chat logs into clean, deduplicated, provider-ready fine-tuning data. Exit codes: 0 success, "
    "1 refused under --strict, no export written, or a followed training job failed, 2 usage/config/input error, "
    "130 interrupted, 143 terminated (SIGTERM).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"curate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Curate raw chat logs into clean, deduplicated, provider-ready fine-tuning data."""
    # The environment is checked before any command does work: a misspelt value was silently ignored.
    from .targets import check_env_table
    from .tokens import token_counter_setting

    check_env_table()
    token_counter_setting()


def spread_inputs(argv: list[str]) -> list[str]:
    """``run --input a b c`` (what a shell glob gives) -> ``--input a --input b --input c``; a YAML file after
    them stays the config argument."""
    if not argv or argv[0] != "run":
        return argv
    out: list[str] = []
    i = 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] in ("--input", "-i") and i + 1 < len(argv):
            out.append(argv[i + 1])
            i += 2
            while i < len(argv) and not argv[i].startswith("-") and not argv[i].endswith((".yaml", ".yml")):
                out += ["--input", argv[i]]
                i += 1
            continue
        i += 1
    return out

COMMAND_MODULES = ("inspect", "run", "export", "train", "model", "ui", "models", "retarget", "eval", "serve")

for _name in COMMAND_MODULES:
    importlib.import_module(f"curation.commands.{_name}").register(app)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of a broken or full stdout stays silent."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``curate`` console script."""
    from .stopping import installed

    # Ctrl-C and SIGTERM stop a command once, quietly. Called as the process's entry point (no argv), signals
    # after the command stay ignored until the process exits; an in-process caller gets its handlers back.
    with installed(entry_point=argv is None):
        return _main(argv)


_TERMINATED = "terminated (SIGTERM)"  # README's exit-code table promises this line for exit 143


def _stopped_code(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 (128 + SIGTERM) for a KeyboardInterrupt raised by SIGTERM, however wrapped."""
    from .errors import Terminated

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Terminated):
            return 143
        seen = seen.__cause__ or seen.__context__
    return 130


def _main(argv: list[str] | None) -> int:
    try:
        # In standalone_mode=False typer *returns* the code of a `typer.Exit` (and 130 for a KeyboardInterrupt
        # it caught) instead of raising it: the return value is the exit code.
        code = app(args=spread_inputs(list(sys.argv[1:] if argv is None else argv)), standalone_mode=False)
    except CurationError as exc:
        prefix = "" if exc.exit_code in (130, 143) else "error: "
        typer.secho(prefix + " ".join(str(exc).split()), err=True, fg=typer.colors.RED)  # always one line
        return exc.exit_code
    except BrokenPipeError:  # `curate inspect x | head`: the reader left; say so once, on stderr
        _quiet_stdout()
        typer.echo("error: the output pipe was closed before curate finished writing", err=True)
        return 1
    except OSError as exc:  # the environment, not a bug: a full disk, a read-only folder, stdout on /dev/full
        from .run_folder import os_error

        _quiet_stdout()
        typer.secho(f"error: {os_error(exc, exc.filename or 'output', 'check the disk and permissions')}",
                    err=True, fg=typer.colors.RED)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt) as exc:  # Abort: click's own wrapping of a KeyboardInterrupt
        code = _stopped_code(exc)
        word = _TERMINATED if code == 143 else "aborted" if isinstance(exc, typer.Abort) else "interrupted"
        typer.echo(word, err=True)
        return code
    except Exception as exc:
        # Usage errors (missing argument, bad option) arrive here in standalone_mode=False. typer ships its
        # own copy of click, so they are recognised by shape rather than by click's class.
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        raise
    if code == 130:  # typer's own code for any KeyboardInterrupt a command let through, SIGTERM's as well
        import signal

        from .stopping import stopped_by

        code = 143 if stopped_by() == signal.SIGTERM else 130
        typer.echo(_TERMINATED if code == 143 else "interrupted", err=True)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
