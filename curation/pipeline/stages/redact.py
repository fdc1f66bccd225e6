"""Replace personal data and secrets in message text with placeholders such as ``[EMAIL]``.

Patterns are precompiled once per process; each family runs only when its trigger (an ``@``, a run of
digits, a known key prefix) occurs in the text, so clean text costs a few substring tests. Candidates
that a pattern alone cannot tell apart from ordinary text are validated: card numbers by the Luhn
check, IP addresses by :mod:`ipaddress`, phone numbers by their digit count. Counts per kind go to
``metadata["redactions"]``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from curation.pipeline.base import Drop, RecordStage
from curation.records import record_messages

Kind = Literal["email", "phone", "api_key", "private_key", "ip_address", "credit_card"]
ALL_KINDS: tuple[str, ...] = ("private_key", "api_key", "email", "credit_card", "ip_address", "phone")


class RedactConfig(BaseModel):
    """Settings of the ``redact`` stage (off unless enabled)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Run this stage (off by default: redaction rewrites the data).")
    kinds: list[Kind] = Field(
        default_factory=lambda: list(ALL_KINDS),
        description="What to redact: email, phone, api_key, private_key, ip_address, credit_card.",
    )
    placeholder: str = Field(
        "[{kind}]", description="Replacement text; {kind} becomes the upper-case kind, e.g. [EMAIL], [API_KEY]."
    )
    roles: list[str] | None = Field(None, description="Only redact messages of these roles (None: every role).")
    tool_arguments: bool = Field(
        False, description="Also redact inside tool-call arguments (changes the JSON the model learns to emit)."
    )
    keep_local_ips: bool = Field(
        True, description="Keep loopback, unspecified and netmask addresses (127.0.0.1, 0.0.0.0, 255.255.255.0)."
    )


# --- patterns ---------------------------------------------------------------------------------------

_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
)
# (pattern, substrings of which one must occur for the pattern to be tried)
_KEY_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"), ("sk-",)),
    (re.compile(r"(?<![\w-])[spr]k_(?:live|test)_[A-Za-z0-9]{16,}"), ("k_live_", "k_test_")),
    (re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"), ("AKIA", "ASIA")),
    (re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,}"), ("gh",)),
    (re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}"), ("github_pat_",)),
    (re.compile(r"(?<![A-Za-z0-9_])xox[abposre]-[A-Za-z0-9-]{10,}"), ("xox",)),
    (re.compile(r"(?<![A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}"), ("AIza",)),
    (re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}"), ("hf_",)),
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), ("eyJ",)),
)
# The token after "Bearer" (the word itself stays so the text still reads right).
_BEARER = re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/-]{16,}=*)")
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")
# 13-19 digits, optionally in groups separated by one space or dash.
_CARD = re.compile(r"(?<![\d.,-])\d(?:[ -]?\d){12,18}(?![\d-]|[.,]\d)")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)"
)
_VERSION_CONTEXT = re.compile(r"(?i)(?:\b(?:version|ver\.?|release|build)\s*|\bv)$")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})(?:/\d{1,3})?(?![\w:])")
# International: +CC then 6-14 more digits in groups; national: (555) 123-4567, 555-123-4567, 06 12 34 56 78,
# 020 7946 0958, 138 0013 8000; and bare Chinese mobiles (11 digits starting 13-19).
_PHONE = re.compile(
    r"(?<![\w+.-])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
    r"|\d{3}([-. ])\d{3}\1\d{4}"
    r"|0[1-9](?:([ .-])\d{2})(?:\2\d{2}){3}"
    r"|0\d{2,4} \d{3,4} \d{3,4}"
    r"|1[3-9]\d(?:[ -]?\d{4}){2}"
    r")(?![\w-]|[.,]\d)"
)
_SEVEN_DIGITS = re.compile(r"\d(?:[ ().-]{0,2}\d){6}")
_IPV4_TRIGGER = re.compile(r"\d\.\d")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class RedactStage(RecordStage):
    """Replace emails, phone numbers, API keys, private keys, IP addresses and card numbers."""

    name: ClassVar[str] = "redact"

    def __init__(self, config: RedactConfig | None = None) -> None:
        self.config = config or RedactConfig()
        self._kinds = frozenset(self.config.kinds)
        self._roles = frozenset(self.config.roles) if self.config.roles is not None else None

    def _placeholder(self, kind: str) -> str:
        return self.config.placeholder.replace("{kind}", kind.upper())

    def _sub(
        self,
        pattern: re.Pattern[str],
        text: str,
        kind: str,
        counts: dict[str, int],
        accept: Callable[[re.Match[str]], bool] | None = None,
    ) -> str:
        placeholder = self._placeholder(kind)

        def repl(match: re.Match[str]) -> str:
            if accept is not None and not accept(match):
                return match.group(0)
            counts[kind] = counts.get(kind, 0) + 1
            return placeholder

        return pattern.sub(repl, text)

    def redact_text(self, text: str, counts: dict[str, int]) -> str:
        """Redact one string, adding to ``counts`` per kind."""
        kinds = self._kinds
        if "private_key" in kinds and "-----BEGIN" in text:
            text = self._sub(_PEM, text, "private_key", counts)
        if "api_key" in kinds:
            for pattern, triggers in _KEY_PATTERNS:
                if any(t in text for t in triggers):
                    text = self._sub(pattern, text, "api_key", counts)
            if "earer" in text or "EARER" in text:
                placeholder = self._placeholder("api_key")

                def bearer(match: re.Match[str]) -> str:
                    counts["api_key"] = counts.get("api_key", 0) + 1
                    return match.group(1) + placeholder

                text = _BEARER.sub(bearer, text)
        if "email" in kinds and "@" in text:
            text = self._sub(_EMAIL, text, "email", counts)
        if "ip_address" in kinds:
            if text.count(".") >= 3 and _IPV4_TRIGGER.search(text):
                text = self._sub(_IPV4, text, "ip_address", counts, self._ipv4_ok)
            if "::" in text or text.count(":") >= 7:
                text = self._sub(_IPV6, text, "ip_address", counts, self._ipv6_ok)
        if ("credit_card" in kinds or "phone" in kinds) and _SEVEN_DIGITS.search(text):
            # cards and phones both need 7+ digits close together
            if "credit_card" in kinds:
                text = self._sub(_CARD, text, "credit_card", counts, self._card_ok)
            if "phone" in kinds:
                text = self._sub(_PHONE, text, "phone", counts, self._phone_ok)
        return text

    @staticmethod
    def _card_ok(match: re.Match[str]) -> bool:
        raw = match.group(0)
        separators = {c for c in raw if not c.isdigit()}
        if len(separators) > 1:
            return False
        digits = raw.replace(" ", "").replace("-", "")
        # Issuer prefixes (Visa 4, Mastercard 2/5, Amex 3, Discover/UnionPay 6) and the check digit.
        return 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn_ok(digits) and len(set(digits)) > 1

    def _ipv4_ok(self, match: re.Match[str]) -> bool:
        # "version 1.2.3.4" and "v10.0.0.1" are versions, not hosts.
        if _VERSION_CONTEXT.search(match.string, max(0, match.start() - 12), match.start()):
            return False
        if self.config.keep_local_ips:
            address = ipaddress.IPv4Address(match.group(0))
            if address.is_loopback or address.is_unspecified or match.group(0).startswith("255."):
                return False
        return True

    def _ipv6_ok(self, match: re.Match[str]) -> bool:
        raw = match.group(0).split("/")[0]
        if not any(c.isdigit() for c in raw):
            return False  # "dead::beef"-like identifiers and C++ scopes are not addresses
        try:
            address = ipaddress.IPv6Address(raw)
        except ValueError:
            return False
        return not (self.config.keep_local_ips and (address.is_loopback or address.is_unspecified))

    @staticmethod
    def _phone_ok(match: re.Match[str]) -> bool:
        digits = sum(c.isdigit() for c in match.group(0))
        return 7 <= digits <= 15

    def _redact_message(self, message: dict[str, Any], counts: dict[str, int]) -> None:
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = self.redact_text(content, counts)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    part["text"] = self.redact_text(part["text"], counts)
        if self.config.tool_arguments:
            calls = [c.get("function") for c in message.get("tool_calls") or [] if isinstance(c, dict)]
            calls.append(message.get("function_call"))
            for call in calls:
                if isinstance(call, dict) and isinstance(call.get("arguments"), str):
                    call["arguments"] = self.redact_text(call["arguments"], counts)

    def process(self, record: dict[str, Any]) -> Drop | None:
        counts: dict[str, int] = {}
        for message in record_messages(record):
            if isinstance(message, dict) and (self._roles is None or message.get("role") in self._roles):
                self._redact_message(message, counts)
        if counts:
            metadata = record.setdefault("metadata", {})
            merged = dict(metadata.get("redactions") or {})
            for kind, n in counts.items():
                merged[kind] = merged.get(kind, 0) + n
            metadata["redactions"] = dict(sorted(merged.items()))
        return None
