"""A local OpenAI-compatible chat-completions fake that checks every request and answer against the official
``openai`` client's own types (``CompletionCreateParamsNonStreaming`` and ``ChatCompletion``).

Used by tests/evals (an endpoint model reference, a judge) and tests/trainers (the Azure deployment smoke
test). ``answer(request) -> message dict`` scripts the replies; anything off lands in ``violations``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, get_args, get_type_hints

from pydantic import TypeAdapter, ValidationError


def _consume(value: Any) -> Any:
    """pydantic validates ``Iterable[...]`` fields lazily: walking them runs the element validators."""
    if isinstance(value, dict):
        return {k: _consume(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_consume(v) for v in value]
    if hasattr(value, "__iter__") and not isinstance(value, str | bytes):
        return [_consume(v) for v in value]
    return value


def _message_keys() -> dict[str, set[str]]:
    from openai.types.chat import ChatCompletionMessageParam

    keys: dict[str, set[str]] = {}
    for kind in get_args(ChatCompletionMessageParam):
        hints = get_type_hints(kind)
        role = get_args(hints["role"])[0]
        keys[role] = set(hints)
    return keys


def request_problems(body: Any) -> list[str]:
    """What in a chat-completions request the official client's types do not allow."""
    from openai.types.chat import completion_create_params

    params = completion_create_params.CompletionCreateParamsNonStreaming
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    problems = [f"unknown parameter {key!r}" for key in body if key not in get_type_hints(params)]
    for name in ("model", "messages"):
        if name not in body:
            problems.append(f"missing {name!r}")
    try:
        _consume(TypeAdapter(params).validate_python(body))
    except ValidationError as exc:
        problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
    allowed = _message_keys()
    for index, message in enumerate(body.get("messages") or []):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in allowed:
            problems.append(f"messages.{index}: role {role!r} is not a chat role")
            continue
        problems += [f"messages.{index}: unknown key {k!r}" for k in message if k not in allowed[role]]
    return problems


def completion(body: dict[str, Any], message: dict[str, Any], number: int) -> dict[str, Any]:
    prompt_tokens = sum(len(json.dumps(m).split()) for m in body.get("messages", []))
    completion_tokens = len((message.get("content") or "").split()) + 3 * len(message.get("tool_calls") or [])
    return {
        "id": f"chatcmpl-{number:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [{"index": 0, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                     "logprobs": None, "message": {"role": "assistant", "content": None, **message}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def answer_problems(answer: dict[str, Any]) -> list[str]:
    from openai.types.chat import ChatCompletion

    try:
        ChatCompletion.model_validate(answer, strict=False)
    except ValidationError as exc:
        return [f"answer {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
    return []


class FakeChat:
    def __init__(self, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""
        self.lock = threading.Lock()

    def handle(self, body: Any) -> tuple[int, dict[str, Any]]:
        """Check a request, script the answer, check the answer; (status, JSON body)."""
        with self.lock:
            self.requests.append(body)
            number = len(self.requests)
        problems = request_problems(body)
        if problems:
            self.violations += problems
            return 400, {"error": {"message": "; ".join(problems), "type": "invalid_request_error",
                                   "param": None, "code": None}}
        reply = completion(body, self.answer(body), number)
        self.violations += answer_problems(reply)
        return 200, reply


def _handler(fake: FakeChat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.rstrip("/") != "/v1/chat/completions":
                status, body = 404, {"error": {"message": f"no route {self.path}"}}
                fake.violations.append(f"POST {self.path}: not chat completions")
            else:
                try:
                    status, body = fake.handle(json.loads(raw or b"null"))
                except ValueError:
                    status, body = 400, {"error": {"message": "body is not JSON"}}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve_fake_chat(answer: Callable[[dict[str, Any]], dict[str, Any]]) -> Iterator[FakeChat]:
    fake = FakeChat(answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
