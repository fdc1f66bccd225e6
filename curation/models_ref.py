"""Model references: what `curate eval`, `curate chat` and `curate serve` talk to, and one way to call each.

A reference is one string, optionally followed by ``;key=value`` options::

    ./runs/first/train/<job>/final          a local folder: a full model, or a LoRA adapter (adapter_config.json)
    ft:gpt-4o-mini-2024-07-18:org::abc      an OpenAI model id (``openai:NAME`` for any other name)
    azure:my-deployment                     an Azure OpenAI deployment (AZURE_OPENAI_ENDPOINT)
    http://127.0.0.1:8000/v1#tiny           any OpenAI-compatible endpoint: base URL, ``#``, model name
    job:20261202-150000-abc123              the model a `curate train` job produced
    ...;max_tokens=128;seed=1;key_env=TOGETHER_API_KEY;price_in=0.3;price_out=1.2;label=tuned

Keys come from the environment only (OPENAI_API_KEY, AZURE_OPENAI_API_KEY, or the variable ``key_env`` names);
a reference holds the variable's *name*, never its value, so nothing written by eval can carry a key.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError, CurationError, MissingExtraError

RefKind = Literal["local", "openai", "azure", "endpoint"]

# Inference prices, USD per 1M tokens (input, output), from OpenAI's pricing page (openai.com/api/pricing):
# fine-tuned models are billed at their own, higher rate. Unknown models get no price (cost shown as n/a).
_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "ft:gpt-4o-mini": (0.30, 1.20),
    "gpt-4o": (2.50, 10.00),
    "ft:gpt-4o": (3.75, 15.00),
    "gpt-4.1": (2.00, 8.00),
    "ft:gpt-4.1": (3.00, 12.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "ft:gpt-4.1-mini": (0.80, 3.20),
    "gpt-4.1-nano": (0.10, 0.40),
    "ft:gpt-4.1-nano": (0.20, 0.80),
}

_OPTION_TYPES: dict[str, type] = {
    "max_tokens": int, "seed": int, "key_env": str, "api_version": str, "price_in": float, "price_out": float,
    "label": str, "timeout": float,
}

DEFAULT_MAX_TOKENS = 256
ENDPOINT_KEY_ENV = "CURATION_ENDPOINT_API_KEY"


class ModelRef(BaseModel):
    """A parsed model reference (no secret in it: only the names of environment variables)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    kind: RefKind
    model: str  # local folder, model id, deployment name, or the endpoint's model name
    base_url: str | None = None
    key_env: str | None = None
    api_version: str | None = None
    adapter: bool = False
    max_tokens: int = DEFAULT_MAX_TOKENS
    seed: int = 0
    temperature: float = 0.0
    price_in: float | None = None
    price_out: float | None = None
    timeout: float = 120.0
    label: str = ""

    @property
    def name(self) -> str:
        """What reports call this model."""
        if self.label:
            return self.label
        if self.kind == "local":
            path = Path(self.model)
            return f"{path.parent.name}/{path.name}" if path.name in ("final", "adapter") else path.name
        if self.kind == "azure":
            return f"azure:{self.model}"
        return self.model

    def provenance(self) -> dict[str, Any]:
        """How the answers were made, for recordings and summaries (no secret)."""
        out = self.model_dump(exclude={"label"}, exclude_none=True)
        out["name"] = self.name
        return out

    def prices(self) -> tuple[float | None, float | None]:
        if self.price_in is not None or self.price_out is not None:
            return self.price_in, self.price_out
        if self.kind == "local":
            return 0.0, 0.0
        if self.kind != "openai":
            return None, None
        base = self.model
        fine_tuned = base.startswith("ft:")
        if fine_tuned:
            base = base.split(":")[1]
        base = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", base)
        return _PRICES.get(("ft:" if fine_tuned else "") + base, (None, None))


def parse_ref(text: str, *, max_tokens: int | None = None, seed: int | None = None, cwd: Path | None = None,
              store: Any = None) -> ModelRef:
    """Parse a reference string; raises :class:`ConfigError` with the accepted forms when it is none of them."""
    raw = text.strip()
    if not raw:
        raise ConfigError("empty model reference", hint=_FORMS)
    head, *option_parts = raw.split(";")
    options: dict[str, Any] = {}
    for part in option_parts:
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in _OPTION_TYPES:
            raise ConfigError(f"model reference {text!r}: unknown option {part!r}",
                              hint=f"options are {', '.join(sorted(_OPTION_TYPES))} (key=value after ';')")
        try:
            options[key] = _OPTION_TYPES[key](value.strip())
        except ValueError:
            raise ConfigError(f"model reference {text!r}: {key}={value!r} is not a {_OPTION_TYPES[key].__name__}",
                              hint=f"write e.g. {key}=1") from None
    if max_tokens is not None:
        options.setdefault("max_tokens", max_tokens)
    if seed is not None:
        options.setdefault("seed", seed)
    fields = _head_fields(head.strip(), cwd or Path.cwd(), store)
    try:
        return ModelRef(**{**fields, **options})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"model reference {text!r}: {first['msg']}", hint=_FORMS) from None


_FORMS = ("a local model folder, ft:... or openai:NAME, azure:DEPLOYMENT, http(s)://HOST/v1#MODEL, or job:JOB_ID, "
          "optionally followed by ;max_tokens=N;seed=N;key_env=VAR")


def _head_fields(head: str, cwd: Path, store: Any) -> dict[str, Any]:
    if head.startswith("job:"):
        return _job_fields(head[4:], cwd, store)
    if head.startswith(("http://", "https://")):
        url, sep, model = head.partition("#")
        if not sep or not model:
            raise ConfigError(f"endpoint {head!r} names no model", hint="write BASE_URL#MODEL, e.g. "
                              "http://127.0.0.1:8000/v1#my-model")
        return {"kind": "endpoint", "model": model, "base_url": url.rstrip("/"), "key_env": ENDPOINT_KEY_ENV}
    if head.startswith("azure:"):
        return {"kind": "azure", "model": head[6:], "base_url": os.environ.get("AZURE_OPENAI_ENDPOINT") or None,
                "key_env": "AZURE_OPENAI_API_KEY"}
    if head.startswith("openai:"):
        return {"kind": "openai", "model": head[7:], "key_env": "OPENAI_API_KEY"}
    if head.startswith("ft:") or re.match(r"^(gpt-|o\d|chatgpt-)", head):
        return {"kind": "openai", "model": head, "key_env": "OPENAI_API_KEY"}
    path = Path(head).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_dir():
        return _local_fields(path.resolve())
    raise ConfigError(f"model reference {head!r} is no folder here and no known form", hint=_FORMS)


def _local_fields(path: Path) -> dict[str, Any]:
    if (path / "final").is_dir() and not (path / "config.json").exists():  # an hf-local job folder
        path = path / "final"
    if (path / "adapter_config.json").exists():
        return {"kind": "local", "model": str(path), "adapter": True}
    if not (path / "config.json").exists():
        raise ConfigError(f"{path} holds no model (no config.json or adapter_config.json)",
                          hint="give the final/ folder of an hf-local job, or a folder from `curate model tiny`")
    return {"kind": "local", "model": str(path)}


def _job_fields(job_id: str, cwd: Path, store: Any) -> dict[str, Any]:
    from .trainers.store import JobStore

    job = (store or JobStore()).get(job_id)
    if job.status != "succeeded" or not job.output_model:
        raise ConfigError(f"job {job.id} has no model (status {job.status})",
                          hint="wait until `curate jobs show` says succeeded")
    if job.backend == "azure-openai":
        deployment = job.info.get("deployment", {}).get("name")
        if not deployment:
            raise ConfigError(f"job {job.id}'s model is not deployed", hint=f"curate jobs deploy {job.id} ...")
        return _head_fields(f"azure:{deployment}", cwd, store)
    return _head_fields(job.output_model if job.backend != "openai" else f"openai:{job.output_model}", cwd, store)


def base_model_ref(job: Any) -> str | None:
    """The reference of the model a job started from (for `curate train --eval`)."""
    model = job.params.get("model")
    if not model:
        return None
    if job.backend in ("openai",):
        return f"openai:{model}"
    return str(model)


# -- calling a model -----------------------------------------------------------------------------------------
@dataclass
class Answer:
    """One generation: text, tool calls (OpenAI shape), latency and token usage; ``error`` when it failed."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    error: str | None = None

    def message(self) -> dict[str, Any]:
        """The answer as a canonical assistant message."""
        out: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = self.tool_calls
        return out


class ChatClient(Protocol):
    ref: ModelRef

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                 max_tokens: int | None = None) -> Answer: ...


_API_MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal")


def api_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as the chat-completions API takes them (no ``weight``, no empty fields)."""
    out = []
    for message in messages:
        clean = {k: message[k] for k in _API_MESSAGE_KEYS if message.get(k) is not None}
        if clean.get("role") == "assistant" and "content" not in clean and "tool_calls" not in clean:
            clean["content"] = ""
        out.append(clean)
    return out


def _secret(name: str | None) -> str | None:
    value = os.environ.get(name) if name else None
    return value.strip() if value and value.strip() else None


class OpenAIChatClient:
    """OpenAI, Azure OpenAI or any OpenAI-compatible endpoint, through the official ``openai`` client."""

    def __init__(self, ref: ModelRef) -> None:
        self.ref = ref
        try:
            import openai
        except ImportError:
            raise MissingExtraError("openai", "train") from None
        key = _secret(ref.key_env)
        if ref.kind == "azure":
            if not key:
                raise ConfigError("AZURE_OPENAI_API_KEY is not set", hint="export AZURE_OPENAI_API_KEY=...")
            if not ref.base_url:
                raise ConfigError("no Azure OpenAI endpoint", hint="export AZURE_OPENAI_ENDPOINT=https://<resource>"
                                  ".openai.azure.com")
            self.client = openai.AzureOpenAI(
                api_key=key, azure_endpoint=ref.base_url, max_retries=2, timeout=ref.timeout,
                api_version=ref.api_version or os.environ.get("OPENAI_API_VERSION") or "2024-10-21")
        elif ref.kind == "openai":
            if not key:
                raise ConfigError(f"{ref.key_env} is not set", hint=f"export {ref.key_env}=...")
            self.client = openai.OpenAI(api_key=key, max_retries=2, timeout=ref.timeout)
        else:  # a local server needs no key; the client wants one, vLLM's convention is any string
            self.client = openai.OpenAI(api_key=key or "EMPTY", base_url=ref.base_url, max_retries=2,
                                        timeout=ref.timeout)
        self._secrets = [key]

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                 max_tokens: int | None = None) -> Answer:
        import openai

        from .trainers.base import redact

        kwargs: dict[str, Any] = {
            "model": self.ref.model, "messages": api_messages(messages), "temperature": self.ref.temperature,
            "seed": self.ref.seed, "max_tokens": max_tokens or self.ref.max_tokens,
        }
        if tools:
            kwargs["tools"] = tools
        start = time.perf_counter()
        try:
            response = self.client.chat.completions.create(**kwargs)
        except openai.OpenAIError as exc:
            return Answer(latency_s=time.perf_counter() - start,
                          error=redact(f"{type(exc).__name__}: {exc}", self._secrets)[:500])
        latency = time.perf_counter() - start
        choice = response.choices[0]
        calls = [{"id": c.id, "type": "function",
                  "function": {"name": c.function.name, "arguments": c.function.arguments}}
                 for c in (choice.message.tool_calls or []) if getattr(c, "function", None)]
        usage = response.usage
        return Answer(content=choice.message.content or "", tool_calls=calls, latency_s=latency,
                      prompt_tokens=usage.prompt_tokens if usage else 0,
                      completion_tokens=usage.completion_tokens if usage else 0,
                      finish_reason=choice.finish_reason)


_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)


def parse_tool_calls(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Tool calls a local model wrote as ``<tool_call>{"name":..,"arguments":..}</tool_call>`` (Hermes/Qwen)
    or ``<tool_call>name {json}</tool_call>`` (the tiny model's template); returns the rest of the text too."""
    calls: list[dict[str, Any]] = []
    for number, found in enumerate(_TOOL_CALL.finditer(text)):
        body = found.group(1).strip()
        name, arguments = "", "{}"
        try:
            value = json.loads(body)
            if isinstance(value, dict) and isinstance(value.get("name"), str):
                name = value["name"]
                args = value.get("arguments", value.get("parameters", {}))
                arguments = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        except ValueError:
            head, _, rest = body.partition(" ")
            name, arguments = head.strip(), rest.strip() or "{}"
        if name:
            calls.append({"id": f"call_{number}", "type": "function",
                          "function": {"name": name, "arguments": arguments}})
    return (_TOOL_CALL.sub("", text).strip() if calls else text.strip()), calls


class LocalChatClient:
    """A local transformers model (full, or a LoRA adapter over its base), greedy decoding on CPU or GPU."""

    def __init__(self, ref: ModelRef) -> None:
        self.ref = ref
        self._lock = threading.Lock()
        self.model, self.tokenizer = load_local_model(ref.model)

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                 max_tokens: int | None = None) -> Answer:
        import torch

        start = time.perf_counter()
        try:
            inputs = self.tokenizer.apply_chat_template(
                api_messages(messages), tools=tools or None, add_generation_prompt=True, return_dict=True,
                return_tensors="pt")
        except Exception as exc:  # a template that cannot render this conversation
            return Answer(error=f"chat template failed: {type(exc).__name__}: {exc}"[:500])
        inputs = {k: v.to(self.model.device) for k, v in inputs.items()}
        with self._lock, torch.no_grad():
            torch.manual_seed(self.ref.seed)
            out = self.model.generate(**inputs, max_new_tokens=max_tokens or self.ref.max_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        new = out[0][inputs["input_ids"].shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        content, calls = parse_tool_calls(text)
        eos = self.tokenizer.eos_token_id
        finish = "stop" if len(new) and int(new[-1]) == eos else "length"
        return Answer(content=content, tool_calls=calls, latency_s=time.perf_counter() - start,
                      prompt_tokens=int(inputs["input_ids"].shape[1]), completion_tokens=int(len(new)),
                      finish_reason=finish)


def load_local_model(folder: str) -> tuple[Any, Any]:
    """Model and tokenizer from a local folder; a LoRA adapter loads over its base (local files only)."""
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise MissingExtraError("transformers", "train") from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars would fill the eval output
    path = Path(folder)
    try:
        if (path / "adapter_config.json").exists():
            try:
                from peft import PeftModel
            except ImportError:
                raise MissingExtraError("peft", "train") from None
            base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
            if not base:
                raise ConfigError(f"{path}/adapter_config.json names no base model",
                                  hint="set base_model_name_or_path to the base model's folder")
            model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, local_files_only=True),
                                              str(path))
            has_tokenizer = any((path / name).exists() for name in ("tokenizer.json", "tokenizer_config.json"))
            tokenizer = AutoTokenizer.from_pretrained(str(path) if has_tokenizer else base, local_files_only=True)
        else:
            model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ConfigError(f"cannot load the model in {path}: {first}",
                          hint="give a folder saved with save_pretrained (the final/ of an hf-local job)") from None
    model.eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def make_client(ref: ModelRef) -> ChatClient:
    if ref.kind == "local":
        return LocalChatClient(ref)
    return OpenAIChatClient(ref)


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


__all__ = ["Answer", "ChatClient", "CurationError", "ModelRef", "make_client", "parse_ref", "parse_tool_calls"]
