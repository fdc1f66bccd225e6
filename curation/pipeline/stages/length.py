"""Length filters: chat tokens for the target model, and the number of user/assistant turns.

Tokens are counted with :mod:`curation.tokens` (offline tiktoken, the cookbook's chat framing), so the
number in ``metadata["tokens"]`` is the one exporters and the cost estimate use. A preference pair
counts its prompt with the longer of its two completions, which is what must fit the model.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from curation import tokens
from curation.pipeline.base import Drop, RecordStage
from curation.records import is_preference

_TURN_ROLES = frozenset({"user", "assistant"})


def _check_bounds(what: str, low: int, high: int | None) -> None:
    # min above max rejects every record, after all the work: say so before any
    if high is not None and low > high:
        raise ValueError(f"min_{what} ({low}) is above max_{what} ({high}): every record would be dropped; lower "
                         f"min_{what} or raise max_{what}")


class LengthConfig(BaseModel):
    """Settings of the ``tokens`` stage."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = Field(True, description="Run this stage.")
    model: str = Field(tokens.DEFAULT_MODEL, description="Target model: its encoding and per-example token limit.")
    models: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="User model definitions by name (as under `models:` in the run config)."
    )
    max_tokens: int | None = Field(
        None, ge=1, description="Drop records over this many chat tokens (None: the model's per-example limit)."
    )
    min_tokens: int = Field(0, ge=0, description="Drop records under this many chat tokens (0 disables).")
    max_message_tokens: int | None = Field(
        None, ge=1, description="Drop records with one message over this many tokens (None disables)."
    )

    @model_validator(mode="after")
    def _bounds(self) -> LengthConfig:
        _check_bounds("tokens", self.min_tokens, self.max_tokens)
        return self


class TurnsConfig(BaseModel):
    """Settings of the ``turns`` stage."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = Field(True, description="Run this stage.")
    min_turns: int = Field(2, ge=0, description="Drop records with fewer user+assistant messages (0 disables).")
    max_turns: int | None = Field(None, ge=1, description="Drop records with more user+assistant messages.")

    @model_validator(mode="after")
    def _bounds(self) -> TurnsConfig:
        _check_bounds("turns", self.min_turns, self.max_turns)
        return self


class TokenLengthStage(RecordStage):
    """Writes ``metadata["tokens"]``; drops over_token_limit, message_too_long and too_short."""

    name: ClassVar[str] = "tokens"

    def __init__(self, config: LengthConfig | None = None) -> None:
        self.config = config or LengthConfig()
        # Resolve now (cheap, pure) so an unknown model is reported before any record moves.
        self.model = tokens.resolve_model(self.config.model, self.config.models or None)
        limit = self.model.max_tokens_per_example
        self.max_tokens = min(limit, self.config.max_tokens) if self.config.max_tokens else limit
        self._limit_source = (
            "max_tokens"
            if self.config.max_tokens and self.config.max_tokens < limit
            else f"limit of {self.model.name}"
        )
        self._encoding: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_encoding"] = None  # each worker builds its own in load()
        return state

    def load(self) -> None:
        if self._encoding is None:
            # The name, not a tiktoken Encoding: with bpe-openai installed no tiktoken vocabulary is built.
            tokens.token_counter(self.model.encoding)
            self._encoding = self.model.encoding

    def count(self, record: dict[str, Any]) -> tuple[int, int, int]:
        """(chat tokens, longest message's tokens, its index in reading order)."""
        total, counts = tokens.chat_token_counts(record, self._encoding,
                                                 reasoning=self.model.provider not in tokens.DROPS_REASONING)
        if not counts or self.config.max_message_tokens is None:
            return total, 0, -1
        longest = max(range(len(counts)), key=counts.__getitem__)
        return total, counts[longest], longest

    def process(self, record: dict[str, Any]) -> Drop | None:
        if self._encoding is None:
            self.load()
        total, longest, index = self.count(record)
        record.setdefault("metadata", {})["tokens"] = total
        if total > self.max_tokens:
            return Drop("over_token_limit", f"{total:,} tokens > {self.max_tokens:,} ({self._limit_source})")
        cap = self.config.max_message_tokens
        if cap is not None and longest > cap:
            return Drop("message_too_long", f"message {index + 1} has {longest:,} tokens > max_message_tokens {cap:,}")
        if total < self.config.min_tokens:
            return Drop("too_short", f"{total:,} tokens < min_tokens {self.config.min_tokens:,}")
        return None


def count_turns(record: dict[str, Any]) -> int:
    """User and assistant messages; a preference pair counts its prompt and chosen side."""
    if is_preference(record):
        messages = [*(record.get("prompt") or []), *(record.get("chosen") or [])]
    else:
        messages = record.get("messages") or []
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") in _TURN_ROLES)


class TurnsStage(RecordStage):
    """Writes ``metadata["turns"]``; drops too_few_turns and too_many_turns."""

    name: ClassVar[str] = "turns"

    def __init__(self, config: TurnsConfig | None = None) -> None:
        self.config = config or TurnsConfig()

    def process(self, record: dict[str, Any]) -> Drop | None:
        turns = count_turns(record)
        record.setdefault("metadata", {})["turns"] = turns
        if turns < self.config.min_turns:
            return Drop("too_few_turns", f"{turns} user/assistant turns < min_turns {self.config.min_turns}")
        if self.config.max_turns is not None and turns > self.config.max_turns:
            return Drop("too_many_turns", f"{turns} user/assistant turns > max_turns {self.config.max_turns}")
        return None
