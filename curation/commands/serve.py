"""`curate serve MODEL_DIR` (OpenAI-compatible API on 127.0.0.1) and `curate chat REF` (terminal chat)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .eval import REF_HELP


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model_dir: Annotated[Path, typer.Argument(help="a local model folder (final/ of an hf-local job, or a LoRA "
                                                  "adapter folder)")],
        port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1")] = 8000,
        device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:0")] = "auto",
    ) -> None:
        """Serve a local model over an OpenAI-compatible chat API on 127.0.0.1 (transformers' own server);
        stop with Ctrl-C."""
        import signal

        from .. import serving

        def stop(signum: int, frame: object) -> None:
            raise SystemExit(0)  # `kill PID` stops the server too (the finally below), not only Ctrl-C

        signal.signal(signal.SIGTERM, stop)
        server = serving.start(model_dir, port=port, device=device)
        typer.echo(f"serving {server.model} at {server.base_url} (chat completions; log {server.log})")
        typer.echo(f"model reference: {server.reference}")
        typer.echo(f"  curate chat '{server.reference}'")
        typer.echo(f"  curate eval RUN --model '{server.reference}'")
        try:
            code = server.process.wait()
        finally:
            server.stop()
        if code not in (0, -15):
            raise typer.Exit(1)

    @app.command("chat")
    def chat(
        ref: Annotated[str, typer.Argument(help=REF_HELP)],
        system: Annotated[str | None, typer.Option("--system", help="a system prompt")] = None,
        once: Annotated[str | None, typer.Option("--once", help="send this one message, print the answer, exit")
                        ] = None,
        max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1)] = None,
    ) -> None:
        """Chat with a model in the terminal (/reset starts over, /exit or Ctrl-D leaves)."""
        from ..errors import CurationError
        from ..models_ref import make_client, parse_ref

        model = parse_ref(ref, max_tokens=max_tokens)
        client = make_client(model)
        history: list[dict] = [{"role": "system", "content": system}] if system else []

        def turn(text: str) -> None:
            history.append({"role": "user", "content": text})
            answer = client.complete(history, None, model.max_tokens)
            if answer.error:
                history.pop()
                raise CurationError(f"{model.name}: {answer.error}", hint="check the reference and the server")
            history.append(answer.message())
            shown = answer.content
            for call in answer.tool_calls:
                shown += f"\n[tool call] {call['function']['name']}({call['function']['arguments']})"
            typer.echo(shown)
            typer.secho(f"({answer.latency_s:.2f} s, {answer.prompt_tokens}+{answer.completion_tokens} tokens)",
                        fg=typer.colors.BRIGHT_BLACK, err=True)

        if once is not None:
            turn(once)
            return
        typer.echo(f"chatting with {model.name}; /reset starts over, /exit leaves", err=True)
        while True:
            try:
                text = input("> ")
            except EOFError:
                typer.echo("", err=True)
                return
            if text.strip() in ("/exit", "/quit"):
                return
            if text.strip() == "/reset":
                del history[1 if system else 0:]
                continue
            if text.strip():
                try:
                    turn(text)
                except CurationError as exc:
                    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
