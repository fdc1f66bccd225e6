"""Fixtures for the trainer tests: curated run folders, a tiny model, and a spec-checking fake OpenAI API.

The fake API is a real HTTP server on 127.0.0.1 that the real ``openai`` client talks to. Every
request is checked against tests/data/openai/files-and-fine-tuning.openapi.json (path, method, query
parameters, JSON body or multipart fields against the request schema) and every response it sends is
checked against the response schema; anything off is recorded in ``violations``.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from curation import plugins

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/fake_chat.py

API_KEY = "sk-test-CURATION-7f3a9c2e5b1d4f60"
AZURE_KEY = "azkey-CURATION-0c8e4b2a9d7f1e35"
MGMT_TOKEN = "mgmt-token-CURATION-5e2d8a1c"


# -- curated data --------------------------------------------------------------------------------------------
def _conversations(real_dir: Path, n: int = 40) -> list[list[dict[str, str]]]:
    """User/assistant pairs from a real OASST export (French), trimmed to keep the tiny runs fast."""
    rows = []
    with (real_dir / "bofenghuang__vigogne" / "oasst_20230412_fr_top1.jsonl").open() as fh:
        for line in fh:
            record = json.loads(line)
            msgs = [{"role": m["role"], "content": m["content"][:240]} for m in record["messages"]][:2]
            if [m["role"] for m in msgs] == ["user", "assistant"]:
                rows.append(msgs)
            if len(rows) == n:
                break
    return rows


@pytest.fixture(scope="session")
def conversations(real_dir: Path) -> list[list[dict[str, str]]]:
    return _conversations(real_dir)


def write_openai_export(
    run_dir: Path, convs: list[list[dict[str, str]]], *, dpo: bool = False, n_val: int = 4, fmt: str = "openai"
) -> None:
    out = run_dir / "exports" / fmt
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, conv in enumerate(convs):
        if dpo:
            other = convs[(i + 1) % len(convs)][1]
            row = {"input": {"messages": conv[:1]}, "preferred_output": conv[1:], "non_preferred_output": [other]}
        else:
            row = {"messages": conv}
        lines.append(json.dumps(row, ensure_ascii=False))
    (out / "train.jsonl").write_text("\n".join(lines[n_val:]) + "\n")
    if n_val:
        (out / "validation.jsonl").write_text("\n".join(lines[:n_val]) + "\n")


def write_hf_export(run_dir: Path, convs: list[list[dict[str, str]]], *, dpo: bool = False, n_val: int = 4) -> None:
    from datasets import Dataset, DatasetDict

    if dpo:
        columns = {
            "prompt": [c[:1] for c in convs],
            "chosen": [c[1:] for c in convs],
            "rejected": [convs[(i + 1) % len(convs)][1:] for i in range(len(convs))],
        }
    else:
        columns = {"messages": convs}
    splits = {
        "train": {k: v[n_val:] for k, v in columns.items()},
        "validation": {k: v[:n_val] for k, v in columns.items()},
    }
    DatasetDict({name: Dataset.from_dict(cols) for name, cols in splits.items()}).save_to_disk(
        str(run_dir / "exports" / "hf")
    )


@pytest.fixture
def sft_run(tmp_path: Path, conversations: list[list[dict[str, str]]]) -> Path:
    run = tmp_path / "run"
    write_openai_export(run, conversations[:16])
    write_openai_export(run, conversations[16:32], fmt="azure-openai")  # different rows: which file went up shows
    write_hf_export(run, conversations)
    return run


@pytest.fixture
def dpo_run(tmp_path: Path, conversations: list[list[dict[str, str]]]) -> Path:
    run = tmp_path / "run_dpo"
    write_openai_export(run, conversations[:16], dpo=True)
    write_openai_export(run, conversations[16:32], dpo=True, fmt="azure-openai")
    write_hf_export(run, conversations, dpo=True)
    return run


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    from curation.trainers.tiny import make_tiny_model

    texts = [m["content"] for conv in _conversations(real_dir, 200) for m in conv]
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", texts)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    from curation.trainers.store import JobStore

    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    return JobStore(tmp_path / "home" / "curation.sqlite")


@pytest.fixture(autouse=True)
def only_builtin_trainers() -> Iterator[None]:
    """Keep run-time registrations of one test out of the others."""
    saved = dict(plugins._registered[plugins.TRAINER_GROUP])
    yield
    plugins._registered[plugins.TRAINER_GROUP].clear()
    plugins._registered[plugins.TRAINER_GROUP].update(saved)


# -- OpenAPI checking ----------------------------------------------------------------------------------------
def _normalise(node: Any) -> Any:
    """OpenAI's spec mixes OpenAPI 3.0 idioms into 3.1: turn them into plain JSON Schema 2020-12."""
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _normalise(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"] if isinstance(node["type"], str) else [*node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if node.get(exclusive) is True:
            node[exclusive] = node.pop(bound)
        elif node.get(exclusive) is False:
            node.pop(exclusive)
    return node


class OpenAPIChecker:
    def __init__(self, spec_path: Path) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.doc = _normalise(json.loads(spec_path.read_text()))
        self.registry = Registry().with_resource("urn:spec", Resource.from_contents(self.doc, DRAFT202012))
        self._validator_cls = Draft202012Validator
        self.routes = []
        for template, ops in self.doc["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")
            self.routes.append((pattern, template, ops))

    def route(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]] | None:
        for pattern, template, ops in self.routes:
            found = pattern.match(path)
            if found and method.lower() in ops:
                return template, ops[method.lower()], found.groupdict()
        return None

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        if "$ref" in schema:
            schema = {"$ref": "urn:spec" + schema["$ref"]}
        validator = self._validator_cls(schema, registry=self.registry)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(instance)
        ]


# -- the fake provider ---------------------------------------------------------------------------------------
def _error(
    status: int, message: str, code: str | None, type_: str = "invalid_request_error", param: str | None = None
):
    return status, {"error": {"message": message, "type": type_, "param": param, "code": code}}


class FakeOpenAI:
    """State of the fake provider: files, jobs (advanced one step per retrieve), events and checkpoints."""

    def __init__(self, checker: OpenAPIChecker, *, azure: bool) -> None:
        self.checker = checker
        self.azure = azure
        self.violations: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.checkpoints: dict[str, list[dict[str, Any]]] = {}
        self.deployments: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.lock = threading.Lock()

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}abc"

    def _event(self, job_id: str, message: str, *, level: str = "info", type_: str = "message", data=None) -> None:
        event = {
            "object": "fine_tuning.job.event",
            "id": self._id("ftevent-"),
            "created_at": int(time.time()),
            "level": level,
            "message": message,
            "type": type_,
            "data": data or {},
        }
        self.events[job_id].append(event)

    # each request handled here returns (status, json body)
    def handle(self, method: str, op_path: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        if op_path == "/files" and method == "POST":
            file_id = self._id("file-")
            self.contents[file_id] = body["_content"]
            self.files[file_id] = {
                "id": file_id,
                "object": "file",
                "bytes": len(body["_content"]),
                "created_at": int(time.time()),
                "filename": body["_filename"],
                "purpose": body["purpose"],
                "status": "processed",
            }
            return 200, self.files[file_id]
        if op_path == "/fine_tuning/jobs" and method == "POST":
            return self._create_job(body)
        job_id = params.get("fine_tuning_job_id", "")
        if job_id and job_id not in self.jobs:
            return _error(404, f"Could not find fine tune: {job_id}", "fine_tune_not_found")
        if op_path == "/fine_tuning/jobs/{fine_tuning_job_id}" and method == "GET":
            self._advance(job_id)
            return 200, self.jobs[job_id]
        if op_path.endswith("/cancel"):
            job = self.jobs[job_id]
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return _error(400, f"Job {job_id} has already completed", "invalid_state")
            job["status"] = "cancelled"
            job["finished_at"] = int(time.time())
            self._event(job_id, "Fine-tuning job cancelled")
            return 200, job
        if op_path.endswith("/events"):
            newest_first = list(reversed(self.events[job_id]))
            limit = int(params.get("limit", 20))
            return 200, {"object": "list", "data": newest_first[:limit], "has_more": len(newest_first) > limit}
        if op_path.endswith("/checkpoints"):
            data = list(reversed(self.checkpoints[job_id]))
            return 200, {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": False,
            }
        return _error(404, "not implemented by the fake", None)

    def _create_job(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body["model"] == "quota-model":
            return _error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if body["model"].startswith("gpt-4-"):
            return _error(
                400,
                f"Model {body['model']} is not available for fine-tuning or does not exist.",
                "model_not_available",
                param="model",
            )
        for key in ("training_file", "validation_file"):
            if body.get(key) and body[key] not in self.files:
                return _error(400, f"invalid {key}: {body[key]}", "invalid_file", param=key)
        method = body.get("method", {"type": "supervised"})
        first = json.loads(self.contents[body["training_file"]].splitlines()[0])
        if method["type"] == "dpo" and "messages" in first:
            return _error(
                400,
                f"Input file {body['training_file']} is in the fine-tune-chat format, but the specified "
                "fine-tuning job is not using 'supervised' as the training method (provided method=dpo).",
                "invalid_file_format",
                param="training_file",
            )
        job_id = self._id("ftjob-")
        hyper = method.get(method["type"], {}).get("hyperparameters", {})
        job = {
            "object": "fine_tuning.job",
            "id": job_id,
            "model": body["model"],
            "created_at": int(time.time()),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": "org-test",
            "result_files": [],
            "status": "validating_files",
            "validation_file": body.get("validation_file"),
            "training_file": body["training_file"],
            "hyperparameters": {
                "n_epochs": hyper.get("n_epochs", "auto"),
                "batch_size": hyper.get("batch_size", "auto"),
                "learning_rate_multiplier": hyper.get("learning_rate_multiplier", "auto"),
            },
            "trained_tokens": None,
            "error": None,
            "seed": body.get("seed", 1234),
            "method": method,
            "metadata": None,
            "estimated_finish": None,
            "integrations": [],
        }
        self.jobs[job_id] = job
        self.events[job_id] = []
        self.checkpoints[job_id] = []
        self._event(job_id, f"Created fine-tuning job: {job_id}")
        self._event(job_id, f"Validating training file: {body['training_file']}")
        return 200, job

    def _advance(self, job_id: str) -> None:
        job = self.jobs[job_id]
        n_examples = len([x for x in self.contents[job["training_file"]].splitlines() if x.strip()])
        status = job["status"]
        if status == "validating_files":
            if n_examples < 10:
                job["status"] = "failed"
                job["finished_at"] = int(time.time())
                job["error"] = {
                    "code": "invalid_n_examples",
                    "param": "training_file",
                    "message": f"Training file has {n_examples} example(s), but must have at least 10 examples",
                }
                self._event(job_id, job["error"]["message"], level="error")
                return
            job["status"] = "queued"
            self._event(job_id, "Files validated, moving job to queued state")
        elif status == "queued":
            job["status"] = "running"
            self._event(job_id, "Fine-tuning job started")
        elif status == "running":
            for step, loss in ((1, 2.1), (2, 1.4), (3, 0.9)):
                data = {
                    "step": step,
                    "train_loss": loss,
                    "valid_loss": loss + 0.2,
                    "total_steps": 3,
                    "train_mean_token_accuracy": 0.5 + step / 10,
                }
                self._event(job_id, f"Step {step}/3: training loss={loss}", type_="metrics", data=data)
                self.checkpoints[job_id].append(
                    {
                        "object": "fine_tuning.job.checkpoint",
                        "id": self._id("ftckpt_"),
                        "created_at": int(time.time()),
                        "fine_tuned_model_checkpoint": f"ft:{job['model']}:org-test::{job_id[-6:]}:ckpt-step-{step}",
                        "fine_tuning_job_id": job_id,
                        "step_number": step,
                        "metrics": {"step": step, "train_loss": loss, "valid_loss": loss + 0.2},
                    }
                )
            job["status"] = "succeeded"
            job["finished_at"] = int(time.time())
            job["trained_tokens"] = 5768
            job["fine_tuned_model"] = f"ft:{job['model']}:org-test::{job_id[-6:]}"
            job["result_files"] = [self._id("file-")]
            self._event(job_id, f"New fine-tuned model created: {job['fine_tuned_model']}")
            self._event(job_id, "The job has successfully completed")


def _make_handler(fake: FakeOpenAI):
    checker = fake.checker

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            record = {
                "method": method,
                "path": url.path,
                "query": dict(query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "raw": raw,
            }
            with fake.lock:
                fake.requests.append(record)
                status, body = self._handle(method, url.path, query, raw, record)
            self._send(status, body)

        def _handle(self, method: str, path: str, query: dict[str, str], raw: bytes, record: dict[str, Any]):
            if path.startswith("/subscriptions/") and method in ("PUT", "GET", "DELETE"):
                return self._deploy(path, query, raw, method)
            prefix = "/openai" if fake.azure else "/v1"
            if not path.startswith(prefix + "/"):
                fake.violations.append(f"{method} {path}: not under {prefix}")
                return _error(404, "Resource not found", "404")
            if fake.azure:
                if not query.pop("api-version", None):
                    fake.violations.append(f"{method} {path}: no api-version")
                    return _error(404, "Resource not found", "404")
                if self.headers.get("api-key") != AZURE_KEY:
                    return _error(
                        401,
                        "Access denied due to invalid subscription key or wrong API endpoint. Make "
                        "sure to provide a valid key for an active subscription.",
                        "401",
                    )
            elif self.headers.get("Authorization") != f"Bearer {API_KEY}":
                given = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                # The real API masks the key; this fake echoes it whole so the redaction is really tested.
                return _error(
                    401,
                    f"Incorrect API key provided: {given}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_api_key",
                )
            chat = re.match(r"^/openai/deployments/(?P<name>[^/]+)/chat/completions$", path)
            if fake.azure and chat and method == "POST":  # the smoke test: the official client's own types
                from fake_chat import answer_problems, completion, request_problems

                if not any(d["name"] == chat["name"] and not d.get("deleted") for d in fake.deployments):
                    return _error(404, "The API deployment for this resource does not exist.", "DeploymentNotFound")
                body = json.loads(raw or b"null")
                problems = request_problems({**body, "model": chat["name"]})
                if problems:
                    fake.violations.extend(f"chat {chat['name']}: {p}" for p in problems)
                    return _error(400, "; ".join(problems), "invalid_request")
                answer = completion({**body, "model": chat["name"]}, {"content": "Hello there!"}, len(fake.requests))
                fake.violations.extend(answer_problems(answer))
                return 200, answer
            found = checker.route(method, path[len(prefix) :])
            if found is None:
                fake.violations.append(f"{method} {path}: no such operation in the spec")
                return _error(404, "no such operation", None)
            template, op, path_params = found
            record["operation"] = f"{method} {template}"
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            for name in query:
                if name not in declared:
                    fake.violations.append(f"{method} {template}: undeclared query parameter {name!r}")
            body: Any = None
            content = (op.get("requestBody") or {}).get("content", {})
            ctype = self.headers.get("Content-Type", "")
            if "application/json" in content:
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    fake.violations.append(f"{method} {template}: body is not JSON")
                    return _error(400, "body is not JSON", None)
                problems = checker.errors(content["application/json"]["schema"], body)
            elif "multipart/form-data" in content:
                body, problems = self._multipart(ctype, raw, content["multipart/form-data"]["schema"])
            else:
                problems = [f"unexpected body {raw[:80]!r}"] if raw.strip() not in (b"", b"{}") else []
            if problems:
                fake.violations.extend(f"{method} {template}: {p}" for p in problems)
                return _error(400, "; ".join(problems), "invalid_request")
            status, answer = fake.handle(method, template, {**query, **path_params}, body)
            if status == 200:
                schema = op["responses"]["200"]["content"]["application/json"]["schema"]
                fake.violations.extend(f"response {template}: {p}" for p in checker.errors(schema, answer))
            return status, answer

        def _multipart(self, ctype: str, raw: bytes, schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
            if not ctype.startswith("multipart/form-data"):
                return {}, [f"content type {ctype!r} is not multipart/form-data"]
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + raw
            )
            fields: dict[str, Any] = {}
            body: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None:
                    fields[name] = "<binary>"
                    body["_content"], body["_filename"] = payload, filename
                else:
                    fields[name] = payload.decode()
            problems = checker.errors(schema, fields)
            if "_content" in body:
                for number, line in enumerate(body["_content"].splitlines(), 1):
                    if line.strip() and not isinstance(json.loads(line), dict):
                        problems.append(f"uploaded file line {number} is not a JSON object")
            else:
                problems.append("no file part with a filename")
            return {**fields, **body}, problems

        def _deploy(self, path: str, query: dict[str, str], raw: bytes, method: str = "PUT") -> tuple[int, Any]:
            pattern = (
                r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                r"Microsoft\.CognitiveServices/accounts/(?P<account>[^/]+)/deployments/(?P<name>[^/]+)$"
            )
            found = re.match(pattern, path)
            if not found or query.get("api-version") != "2024-10-01":
                fake.violations.append(f"{method} {path}?{query}: not the deployments API")
                return _error(404, "not found", "NotFound")
            if self.headers.get("Authorization") != f"Bearer {MGMT_TOKEN}":
                return 401, {
                    "error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}
                }
            live = [d for d in fake.deployments if d["name"] == found["name"] and not d.get("deleted")]
            if method == "PUT":
                body = json.loads(raw)
                fake.deployments.append({**found.groupdict(), "body": body, "gets": 0})
                return 200, {
                    "id": path,
                    "name": found["name"],
                    "sku": body["sku"],
                    "properties": {**body["properties"], "provisioningState": "Creating"},
                }
            if not live:
                return 404, {"error": {"code": "DeploymentNotFound", "message": "Deployment not found."}}
            deployment = live[-1]
            if method == "DELETE":
                deployment["deleted"] = True
                return 200, {}
            deployment["gets"] += 1  # Creating for two reads, then Succeeded
            state = "Creating" if deployment["gets"] <= 2 else "Succeeded"
            return 200, {"id": path, "name": found["name"], "sku": deployment["body"]["sku"],
                         "properties": {**deployment["body"]["properties"], "provisioningState": state}}

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

    return Handler


@pytest.fixture(scope="session")
def spec_checker(data_dir: Path) -> OpenAPIChecker:
    return OpenAPIChecker(data_dir / "openai" / "files-and-fine-tuning.openapi.json")


def _serve(checker: OpenAPIChecker, azure: bool) -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(checker, azure=azure)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_openai(spec_checker: OpenAPIChecker, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    for fake, url in _serve(spec_checker, azure=False):
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        fake.url = url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def fake_azure(spec_checker: OpenAPIChecker, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_AD_TOKEN", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    for fake, url in _serve(spec_checker, azure=True):
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", url)
        monkeypatch.setenv("AZURE_MANAGEMENT_TOKEN", MGMT_TOKEN)
        monkeypatch.setenv("CURATION_AZURE_MANAGEMENT_URL", url)
        fake.url = url  # type: ignore[attr-defined]
        yield fake
