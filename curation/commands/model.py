"""`curate model tiny OUT_DIR`: a small local model and tokenizer to try `curate train` with, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Enough text for a byte-level BPE to learn the chat markup and common words; byte-level BPE encodes any text.
_DEFAULT_TEXTS = [
    "Hello, how can I help you today?", "Bonjour, comment puis-je vous aider ?", "Thank you, that works.",
    "The answer is in the documentation.", "Can you explain it step by step?", "Voici la réponse.",
    "你好，我可以帮你什么？", "Here is a short summary of the conversation.",
]


def _texts_from(path: Path) -> list[str]:
    """Message texts of a JSONL file or a run folder's train split (canonical records)."""
    import orjson

    if path.is_dir():
        path = path / "splits" / "train.jsonl"
    texts: list[str] = []
    with path.open("rb") as fh:
        for line in fh:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            messages = record.get("messages") if isinstance(record, dict) else None
            for message in messages or []:
                if isinstance(message, dict) and isinstance(message.get("content"), str):
                    texts.append(message["content"])
    return texts


def register(app: typer.Typer) -> None:
    model_app = typer.Typer(help="Local models for `curate train --backend hf-local`.", no_args_is_help=True)
    app.add_typer(model_app, name="model")

    @model_app.command("tiny")
    def tiny(
        out_dir: Annotated[Path, typer.Argument(help="Folder to write the model and tokenizer into.")],
        texts: Annotated[
            Path | None,
            typer.Option("--texts", help="JSONL records (or a run folder) whose texts train the tokenizer."),
        ] = None,
        vocab_size: Annotated[int, typer.Option("--vocab-size", help="Tokenizer vocabulary size.")] = 512,
        force: Annotated[bool, typer.Option("--force", help="Overwrite a non-empty folder.")] = False,
    ) -> None:
        """Build the tiny Llama-like model and byte-level tokenizer the tests use (random weights, ChatML
        template with generation markers; nothing is downloaded). Then:
        curate train RUN --backend hf-local --model OUT_DIR"""
        from ..errors import ConfigError, InputError
        from ..trainers.tiny import make_tiny_model

        if out_dir.exists() and any(out_dir.iterdir()) and not force:
            raise ConfigError(f"{out_dir} is not empty", hint="choose another folder or pass --force")
        corpus = list(_DEFAULT_TEXTS)
        if texts is not None:
            if not texts.exists():
                raise InputError(f"{texts} does not exist", hint="give a JSONL file or a run folder")
            corpus += _texts_from(texts)
        path = make_tiny_model(out_dir, corpus, vocab_size=vocab_size)
        typer.echo(f"wrote a tiny model to {path}; train with: curate train RUN_DIR --backend hf-local --model {path}")
