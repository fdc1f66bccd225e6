"""Serve a local model over an OpenAI-compatible chat API with transformers' own server (`transformers serve`).

The server is transformers' maintained FastAPI/uvicorn app, started as a child process, bound to 127.0.0.1,
offline (HF_HUB_OFFLINE=1: a local folder only), pinned to the one model. A LoRA adapter folder is merged
into its base once (peft ``merge_and_unload``) into ``$CURATION_HOME/served/<hash>/`` and that is served,
since the server loads full models only.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, CurationError, MissingExtraError

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _cache_root() -> Path:
    home = os.environ.get("CURATION_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".curation") / "served"


def merged_adapter(adapter_dir: Path) -> Path:
    """A full model folder for a LoRA adapter: merged once, reused while the adapter is unchanged."""
    weights = [p for p in adapter_dir.iterdir() if p.name.startswith("adapter_model")]
    stamp = json.dumps([str(adapter_dir.resolve())] + [(p.name, p.stat().st_size, p.stat().st_mtime_ns)
                                                        for p in sorted(weights)])
    out = _cache_root() / hashlib.sha256(stamp.encode()).hexdigest()[:16]
    if (out / "config.json").exists():
        return out
    from .models_ref import load_local_model

    model, tokenizer = load_local_model(str(adapter_dir))
    merged = model.merge_and_unload()
    tmp = out.with_name(out.name + ".tmp")
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.replace(out)
    return out


def servable_folder(model_dir: Path) -> Path:
    from .models_ref import _local_fields

    fields = _local_fields(Path(model_dir).expanduser().resolve())
    folder = Path(fields["model"])
    return merged_adapter(folder) if fields.get("adapter") else folder


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    model: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def reference(self) -> str:
        """The model reference `curate eval` and `curate chat` take for this server."""
        return f"{self.base_url}#{self.model}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(model_dir: Path, *, port: int | None = None, device: str = "auto", log: Path | None = None,
          wait_s: float = 180.0) -> Server:
    """Start `transformers serve` on 127.0.0.1 for one local model and wait until it answers /health."""
    try:
        import fastapi  # noqa: F401
        import transformers  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(exc.name or "fastapi", "eval") from None
    folder = servable_folder(model_dir)
    port = port or free_port()
    log = log or _cache_root() / f"serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    command = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(folder), "--host", HOST,
               "--port", str(port), "--device", device]
    with log.open("wb") as fh:
        process = subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, env=env)
    server = Server(process, port, str(folder), log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise CurationError(f"the model server exited ({process.returncode}): {' | '.join(tail)}",
                                hint=f"see {log}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    server.stop()
    raise ConfigError(f"the model server did not answer within {wait_s:.0f} s", hint=f"see {log}")
