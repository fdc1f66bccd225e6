"""Replace personal data and secrets in message text with placeholders such as ``[EMAIL]``.

Patterns are precompiled once per process; each family runs only when its trigger (an ``@``, a run of
digits, a known key prefix) occurs in the text, so clean text costs a few substring tests. Candidates
that a pattern alone cannot tell apart from ordinary text are validated: card numbers by the Luhn
check, IP addresses by :mod:`ipaddress`, phone numbers by their digit count. Counts per kind go to
``metadata["redactions"]``.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import unicodedata
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from curation.pipeline.base import Drop, RecordStage
from curation.records import record_messages
from curation.textscan import literal_scanner

Kind = Literal["email", "phone", "api_key", "private_key", "credential", "ip_address", "credit_card", "iban",
               "national_id"]
ALL_KINDS: tuple[str, ...] = ("private_key", "credential", "api_key", "email", "credit_card", "iban", "national_id",
                              "ip_address", "phone")


class RedactConfig(BaseModel):
    """Settings of the ``redact`` stage (on by default: secrets must not reach any file the run writes)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = Field(True, description="Run this stage (on by default; it runs before validation so that "
                                            "rejects, the review store and report examples are redacted too).")
    kinds: list[Kind] = Field(
        default_factory=lambda: list(ALL_KINDS),
        description="What to redact: email, phone, api_key, private_key, credential (passwords in URLs, "
                    "connection strings and assignments), ip_address, credit_card, iban, national_id (US SSN, "
                    "UK NINO).",
    )
    placeholder: str = Field(
        "[{kind}]", description="Replacement text; {kind} becomes the upper-case kind, e.g. [EMAIL], [API_KEY]."
    )
    roles: list[str] | None = Field(None, description="Only redact messages of these roles (None: every role).")
    tool_arguments: bool = Field(
        True, description="Also redact inside tool-call arguments (a secret there is still a secret; the JSON "
                          "stays valid because placeholders hold no quotes)."
    )
    everywhere: bool = Field(
        True, description="Also redact every other string of the record: tool definitions, extra fields and "
                          "metadata (not the id and not metadata.source)."
    )
    keep_local_ips: bool = Field(
        True, description="Keep loopback, unspecified and netmask addresses (127.0.0.1, 0.0.0.0, 255.255.255.0)."
    )
    keep_private_ips: bool = Field(
        True, description="Keep private-network, link-local and documentation addresses (192.168.1.1, 10.0.0.1, "
                          "172.16.0.5, 169.254.1.1, 192.0.2.10, fd00::1, fe80::1, 2001:db8::1): they name no one "
                          "outside one network, and router guides and code samples need them as written.",
    )
    keep_example_emails: bool = Field(
        True, description="Keep addresses at reserved example domains (user@example.com, a@b.test): they can "
                          "belong to no one.",
    )


# --- patterns ---------------------------------------------------------------------------------------
# Hand-written, each behind a cheap substring trigger, validated where a pattern alone over-matches (Luhn,
# IBAN mod-97, SSN area rules, digit counts). The provider token formats follow the published prefixes (the
# same list detect-secrets' and gitleaks' rules use); see the module docstring for why not a library.

_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
)
# (pattern, substrings of which one must occur for the pattern to be tried)
_KEY_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-|admin\d\d-)?)?[A-Za-z0-9_-]{20,}"),
     ("sk-",)),
    (re.compile(r"(?<![A-Za-z0-9_-])(?:[spr]k_(?:live|test)|whsec)_[A-Za-z0-9]{16,}"),
     ("k_live_", "k_test_", "whsec_")),
    (re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
     ("AKIA", "ASIA", "ABIA", "ACCA")),
    (re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,}"), ("gh",)),
    (re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}"), ("github_pat_",)),
    (re.compile(r"(?<![A-Za-z0-9_])gl(?:pat|ptt|dt|rt|soat|cbt|imt|ft|agent)-[A-Za-z0-9_-]{20,}"), ("gl",)),
    (re.compile(r"(?<![A-Za-z0-9_])xox[abposre]-[A-Za-z0-9-]{10,}"), ("xox",)),
    (re.compile(r"(?<![A-Za-z0-9_])xapp-\d-[A-Za-z0-9-]{10,}"), ("xapp-",)),
    (re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{8,}"), ("hooks.slack",)),
    (re.compile(r"https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{20,}"),
     ("/api/webhooks/",)),
    (re.compile(r"https://[a-z0-9-]+\.webhook\.office\.com/[A-Za-z0-9/@_-]{20,}"), ("webhook.office",)),
    (re.compile(r"(?<![A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}"), ("AIza",)),
    (re.compile(r"(?<![A-Za-z0-9_])ya29\.[0-9A-Za-z_-]{20,}"), ("ya29.",)),
    (re.compile(r"(?<![A-Za-z0-9_])GOCSPX-[A-Za-z0-9_-]{20,}"), ("GOCSPX-",)),
    (re.compile(r"(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z0-9]{30,}"), ("hf_", "api_org_")),
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), ("eyJ",)),
    (re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}"), ("npm_",)),
    (re.compile(r"(?<![A-Za-z0-9_])pypi-AgE[A-Za-z0-9_-]{40,}"), ("pypi-",)),
    (re.compile(r"(?<![A-Za-z0-9_])SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"), ("SG.",)),
    (re.compile(r"(?<![A-Za-z0-9])(?:SK|AC)[0-9a-f]{32}(?![A-Za-z0-9])"), ("SK", "AC")),
    (re.compile(r"(?<![A-Za-z0-9_-])key-[0-9a-f]{32}(?![A-Za-z0-9])"), ("key-",)),
    (re.compile(r"(?<![A-Za-z0-9_])sq0(?:atp|csp)-[A-Za-z0-9_-]{22,}"), ("sq0",)),
    (re.compile(r"(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"), ("shp",)),
    (re.compile(r"(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}"), ("_v1_",)),
    (re.compile(r"(?<![A-Za-z0-9_])dapi[0-9a-f]{32}(?:-\d)?"), ("dapi",)),
    (re.compile(r"(?<![A-Za-z0-9_])lin_(?:api|oauth)_[A-Za-z0-9]{32,}"), ("lin_",)),
    (re.compile(r"(?<![\d:])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])"), (":AA",)),
    (re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]{58}"), ("AGE-SECRET-KEY-",)),
    (re.compile(r"(?<![A-Za-z0-9_])NRAK-[A-Z0-9]{27}"), ("NRAK-",)),
    (re.compile(r"(?<![A-Za-z0-9_])PMAK-[a-f0-9]{24}-[a-f0-9]{34}"), ("PMAK-",)),
    (re.compile(r"(?<![A-Za-z0-9_])gl(?:sa|c)_[A-Za-z0-9+/_=]{32,}"), ("glsa_", "glc_")),
    (re.compile(r"(?<![A-Za-z0-9_])dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}"), ("dp.",)),
    (re.compile(r"(?<![A-Za-z0-9_])(?:gsk_[A-Za-z0-9]{40,}|r8_[A-Za-z0-9]{30,}|pplx-[A-Za-z0-9]{40,})"),
     ("gsk_", "r8_", "pplx-")),
    (re.compile(r"(?<![A-Za-z0-9_])pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"), ("pat",)),
    (re.compile(r"(?<![A-Za-z0-9])[0-9a-f]{32}-us\d{1,2}(?![A-Za-z0-9])"), ("-us",)),  # Mailchimp
    (re.compile(r"(?<![A-Za-z0-9_])ATATT3[A-Za-z0-9_=-]{20,}"), ("ATATT3",)),  # Atlassian API token
)
# Each trigger once, with the patterns it gates: a plain loop of substring tests costs a few microseconds.
_KEY_TRIGGERS: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    (trigger, tuple(i for i, (_, triggers) in enumerate(_KEY_PATTERNS) if trigger in triggers))
    for trigger in dict.fromkeys(t for _, triggers in _KEY_PATTERNS for t in triggers)
)


def key_patterns_by_loop(text: str) -> list[int]:
    """The plain answer: one substring test per trigger (without pyahocorasick, and the reference in tests)."""
    todo: set[int] = set()
    for trigger, indices in _KEY_TRIGGERS:
        if trigger in text:
            todo.update(indices)
    return sorted(todo)


def _key_pattern_finder() -> Any:
    """``text -> sorted pattern indices`` whose triggers occur in ``text``. With pyahocorasick (the ``fast``
    extra) one scan reports every trigger, overlapping ones included, so the answer equals the plain loop's;
    that loop of ~40 substring tests was the stage's largest cost on ordinary text."""
    scan = literal_scanner(dict(_KEY_TRIGGERS))
    if scan is None:
        return key_patterns_by_loop

    def found(text: str) -> list[int]:
        hits = list(scan(text))
        return sorted({i for indices in hits for i in indices}) if hits else []

    return found


_key_patterns_in = _key_pattern_finder()
_ASSIGNED_NAMES = ("pass", "pwd", "secret", "key", "token")
_LETTERS_THEN_DIGITS = re.compile(r"[A-Z]{2} ?\d\d")  # what an IBAN and a NINO both start with
# The token after "Bearer" (the word itself stays so the text still reads right).
_BEARER = re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/-]{16,}=*)")
# Secrets named by their context: the value after the name is replaced, the name stays (quotes may come
# backslash-escaped: JSON inside a JSON string, as in tool-call arguments).
_NAMED_SECRET = re.compile(
    r"(?i)((?:aws_?secret_?access_?key|aws_?secret|secret_?access_?key)\\*[\"']?\s*[:=]\s*\\*[\"']?)"
    r"([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
)
_CONNECTION_KEY = re.compile(r"(?i)((?:AccountKey|SharedAccessKey|SharedSecret|sig)=)([A-Za-z0-9%+/=_-]{16,})")
# scheme://user:password@host -> the password only (DB URLs, basic auth in URLs, redis://:password@).
_URL_PASSWORD = re.compile(r"(?i)((?<![a-z0-9_+.-])[a-z][a-z0-9+.-]{1,20}://[^\s:/@]*:)([^\s@/]{1,200})(@[^\s@]+)")
_ASSIGNED_SECRET = re.compile(
    r"(?i)((?:(?<=_)|\b)(?:password|passwd|pwd|pass|secret|secret_?key|api_?key|apikey|access_?token|auth_?token|"
    r"client_?secret|private_?key|token|x-api-key|api-key)\\*[\"']?\s*[:=]\s*)(\\*[\"']?)([^\s\"',;()\[\]{}<>\\]{6,200})(\2)"
)
# The word for password in languages that do not write it with "pass" (Chinese, Japanese, Korean, Russian),
# then an optional "is" (是, 为, 為, は, 는/은, -) or a colon, and the value, optionally quoted. English-style
# "password: X" is _ASSIGNED_SECRET's; "您的新密码是：aB3#fG6&kL9@" was redacted in the tool's output but left in
# the answer that read it out.
_NATIVE_PASSWORD_NAMES = ("密码", "密碼", "口令", "パスワード", "비밀번호", "암호", "пароль", "Пароль", "ПАРОЛЬ")
_NATIVE_PASSWORD = re.compile(
    r"((?:" + "|".join(_NATIVE_PASSWORD_NAMES) + r")(?:\s*(?:是|为|為|は|는|은|[-—–]))?\s*[:：=]?\s*)"
    r"([\"'“「『]?)([!-~]{6,200}?)(?=[\"'”」』]|[\s，。；、,;)\]}>]|$)"
)
# "my password is Summer2024!", "the wifi password is BlueHorse42", "Mein Passwort ist Sonne123!": the commonest
# secret in support chats, written in prose with no "=" or ":". The value must mix letters and digits
# (_looks_secret), so "my password is incorrect" stays.
_PROSE_PASSWORD = re.compile(
    r"(?i)(\b(?:password|passwort|passcode|mot de passe)\s+(?:is|was|ist|war|est|était)\s+"
    r"(?:now\s+|jetzt\s+|still\s+)?)"
    r"([\"'“«]?)([^\s\"',;”»]{6,64})"
)
# Passwords on a command line: curl's -u user:password, the MySQL client's -pPASSWORD (no space).
_CLI_PASSWORD = re.compile(r"((?:^|\s)(?:-u|--user)\s+[^\s:'\"]+:)([^\s'\"]{4,200})|(\bmysql(?:dump)?\b[^\n]*?\s-p)"
                           r"([^\s'\"-][^\s'\"]{3,200})")
_CLI_PASSWORD_BYTES = re.compile(_CLI_PASSWORD.pattern.encode())  # the same, on the lowered bytes of the gate
# What may not touch a value: a letter or digit of a script that puts spaces between words. Chinese, Japanese,
# Korean and Thai write "邮箱zhangsan@qq.com", "kim@naver.com입니다" and "电话13800138000" with no space, and \w
# matches their letters, so such a value was never found; a Latin or Cyrillic letter glued to digits
# ("café13800138000") is still part of a word.
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
_NOT_AFTER = "(?<![^\\W" + _UNSPACED + "])"  # not after a word character of a spaced script
_NOT_BEFORE = "(?![^\\W" + _UNSPACED + "])"
# Letters an address's local part may hold beside ASCII: Latin accents, Greek, Cyrillic (müller@, иван@).
_LOCAL = "A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_EMAIL = re.compile(_NOT_AFTER + r"(?<![.%+-])[" + _LOCAL + r"][" + _LOCAL + r"._%+-]*@[A-Za-z0-9-]+"
                    r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}" + _NOT_BEFORE)
# 13-19 digits, optionally in groups separated by one space or dash.
# Not inside a longer word: a UUID's "477-9547-4822-863" (after a hex letter) is no card.
_CARD = re.compile(_NOT_AFTER + r"(?<![.,-])\d(?:[ -]?\d){12,18}" + _NOT_BEFORE + r"(?!-|[.,]\d)")
# IBAN: country, check digits, 11-30 alphanumerics, compact or in groups of four; validated by mod-97 below.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_IBAN_TRIGGER = re.compile(r"[A-Z]{2}\d{2}")
# US SSN in its dashed form (area not 000/666/9xx, group not 00, serial not 0000); bare nine digits only after
# a name that says so. UK National Insurance numbers by their letter rules.
_SSN = re.compile(_NOT_AFTER + r"(?<!-)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}" + _NOT_BEFORE + r"(?!-)")
_SSN_NAMED = re.compile(
    r"(?i)(\b(?:ssn|social security(?: number| no\.?| #)?|ss#)\W{0,12})"
    r"((?!000|666|9\d\d)\d{3}[- ]?(?!00)\d{2}[- ]?(?!0000)\d{4})(?!\d)"
)
_NINO = re.compile(r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?"
                   r"\d{2} ?[A-D](?![A-Za-z0-9])")
_IPV4 = re.compile(
    _NOT_AFTER + r"(?<!\.)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    + _NOT_BEFORE + r"(?!\.\d)"
)
# What stands before a dotted quad that is a version, a section or an OID, not a host: "version 1.2.3.4", "v10.0.0.1",
# "torch==2.1.0.1" (a pin, no space: "ip == 8.8.8.8" is a comparison), "AssemblyVersion(\"1.0.0.0\")",
# "\"version\": \"1.0.0.1\"", "<Version>1.2.3.4", "Section 3.2.1.4", "OID 1.3.6.1", "版本1.2.3.4", "バージョン1.2.3.4".
# Not "@": "root@8.8.8.8" is a host.
_NEXT_SENTENCE = re.compile(r"\s+\S")
# A version word right after the number: "升级到1.2.3.4版本", "1.2.3.4 version".
_VERSION_AFTER = re.compile(r"\s*(?:版本|バージョン|버전|version\b)", re.I)
_VERSION_CONTEXT = re.compile(
    r"(?i)(?:(?:\b(?:version|ver\.?|release|build|section|oid)|version\(|<version>|版本号?|バージョン|버전)[\s\"':=(：]*"
    r"|\bv|\w[=~<>]=)$"
)
# Not followed by ".digit": "::ffff:10.1.2.3" is an IPv4 address, found (and kept or redacted) as one.
_IPV6 = re.compile(_NOT_AFTER + r"(?<![:.])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})(?:/\d{1,3})?"
                   + _NOT_BEFORE + r"(?!:|\.\d)")
# International: +CC then 6-14 more digits in groups; national: (555) 123-4567, 555-123-4567, 06 12 34 56 78,
# 020 7946 0958, 138 0013 8000, Japanese 03-1234-5678 / 090-1234-5678; and bare Chinese mobiles (11 digits
# starting 13-19).
_PHONE = re.compile(
    _NOT_AFTER + r"(?<![+.-])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
    r"|\d{3}([-. ])\d{3}\1\d{4}"
    r"|0[1-9](?:([ .-])\d{2})(?:\2\d{2}){3}"
    r"|0\d{2,4} \d{3,4} \d{3,4}"
    r"|0\d{1,4}-\d{1,4}-\d{4}"
    r"|1[3-9]\d(?:[ -]?\d{4}){2}"
    r")" + _NOT_BEFORE + r"(?!-|[.,]\d)"
)
_SEVEN_DIGITS = re.compile(r"\d(?:[ ().-]{0,2}\d){6}")
_IPV4_TRIGGER = re.compile(r"\d\.\d")
# IBAN lengths by country (ISO 13616 registry), so a code-like token with a lucky checksum is still refused.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
    "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
    "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
    "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24,
    "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}


def _iban_ok(match: re.Match[str]) -> bool:
    raw = match.group(0).replace(" ", "")
    if _IBAN_LENGTHS.get(raw[:2]) != len(raw):
        return False
    moved = raw[4:] + raw[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


# An operator between two numbers: "2212954769 + 2000000000 = 4212883012996" is arithmetic (math datasets are
# full of 13-19 digit operands, one in ten of which passes the Luhn check).
_OPERATORS = frozenset("+-*/=×÷^<>")
_OPERAND_EDGE = frozenset("0123456789)(")
# A calculation somewhere in the text ("256626720691 + 1646615806005 =", "12 * 7"; a minus or a slash only with
# spaces, so that dates and ranges are none): its result may stand paragraphs away ("The result is: ...").
_CALCULATION = re.compile(r"\d[ \t]*[+*×÷=^][ \t]*\d|\d[ \t]+[-/][ \t]+\d")


def _in_arithmetic(match: re.Match[str]) -> bool:
    """Whether a bare digit run (a leading ``+`` allowed) is an operand or a result: an operator sits next to it
    (spaces and line breaks between them allowed) with a number on the operator's other side, or, for an unsigned
    run, the text holds a calculation (a worked sum puts its result after "The result is:"). A formatted number
    (``555-123-4567``, ``4111 1111 1111 1111``) never is: lists of such numbers are joined by ``/`` or ``-``."""
    raw, text = match.group(0), match.string
    signed = raw.startswith("+")
    if not (raw[1:] if signed else raw).isdigit():
        return False

    def back(i: int) -> str:  # the first character before ``i`` that is not a space
        while i > 0 and text[i - 1].isspace():
            i -= 1
        return text[i - 1] if i > 0 else ""

    def ahead(i: int) -> tuple[str, int]:
        while i < len(text) and text[i].isspace():
            i += 1
        return (text[i], i) if i < len(text) else ("", i)

    start = match.start()
    if signed:  # "+960397912423686" under a number on the line above: an addition written in a column
        if back(start) in _OPERAND_EDGE:
            return True
    else:
        before = back(start)
        if before in _OPERATORS and back(text.rindex(before, 0, start)) in _OPERAND_EDGE:
            return True
    after, at = ahead(match.end())
    if after in _OPERATORS and ahead(at + 1)[0] in _OPERAND_EDGE:
        return True
    return not signed and _CALCULATION.search(text) is not None


def _card_grouping_ok(raw: str) -> bool:
    """A card written with separators is in its printed groups: fours (the last one shorter on 13-19 digit
    cards), or Amex/Diners' 4-6-5 and 4-6-4. "355909190063-746" (12 and 3 digits) is a subtraction."""
    groups = [len(g) for g in re.split(r"[ -]", raw)]
    if len(groups) == 1:
        return True
    if groups in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4


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


# --- the proof that a text has nothing to redact -----------------------------------------------------
# Almost every text holds no secret, yet the patterns above cost ~100 us per conversation when each one
# scans every string. ``_may_redact`` answers False only when no pattern of ``redact_text`` can match (then
# the text comes back unchanged and uncounted: patterns run one after another, but while none matches the
# text stays the original one). Each check below is a *necessary* condition of one family's match or
# gate, written so that CPython answers it in one fast C pass: a substring test, or a regex with a literal
# first character, on the UTF-8 bytes or on a "skeleton" of them (every digit as 0, upper-case letter as
# A, lower-case letter as a). The conditions only ever over-approximate, so a False is a proof and a True
# merely sends the text down the exact path. Every condition that holds for a string holds for the same
# string joined with others by "\n" (no condition gets weaker from more text, and "\n" belongs to no class
# a condition relies on), which lets ``process`` prove a whole record clean with one call.
# tests/stages/test_stage_redact_prefilter.py checks these claims against the patterns themselves.

# The first code point of each run of ten non-ASCII decimal digits (0-9) in Unicode 14.0.0, the version of
# Python 3.11's unicodedata. Scanning 1.1M code points for them cost every worker process ~0.15 CPU-s at
# import; another Unicode version scans (tests/stages/test_stage_redact_prefilter.py checks the table).
_DECIMAL_RUNS_UNICODE = "14.0.0"
_DECIMAL_RUN_STARTS = (
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0,
    0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50,
    0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0,
    0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50,
    0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140,
    0x1E2F0, 0x1E950, 0x1FBF0,
)


def non_ascii_decimals() -> list[int]:
    """Every non-ASCII code point ``str.isdecimal`` (and so ``\\d``) accepts, in order."""
    if unicodedata.unidata_version == _DECIMAL_RUNS_UNICODE:
        return [start + digit for start in _DECIMAL_RUN_STARTS for digit in range(10)]
    return [c for c in range(0x80, 0x110000) if chr(c).isdecimal()]


# UTF-8 lead bytes of the non-ASCII decimal digits (``\d`` in the patterns matches every one of them): the
# skeleton marks them 0xFF, a byte UTF-8 never holds, so one substring test rules most scripts out.
_NON_ASCII_DIGITS: tuple[tuple[int, re.Pattern[bytes]], ...] = tuple(
    (lead[0], re.compile(re.escape(lead) + b"(?:" + b"|".join(re.escape(e[1:]) for e in encodings) + b")"))
    for lead, encodings in itertools.groupby(
        sorted(chr(c).encode() for c in non_ascii_decimals()), key=lambda e: e[:1]
    )
    for encodings in [list(encodings)]
)
# KELVIN SIGN folds to "k" (``(?i)`` and ``str.lower``) and LONG S to "s" (``(?i)``): the name checks read
# ASCII-lowered bytes, so a text holding either takes the exact path. Their lead bytes are marked 0xFE.
_CASE_FOLDS_TO_ASCII = ("\u212a".encode(), "\u017f".encode())
_SKELETON = bytes(
    0x30 if 0x30 <= i <= 0x39 else 0x41 if 0x41 <= i <= 0x5A else 0x61 if 0x61 <= i <= 0x7A
    else 0xFF if i in {lead for lead, _ in _NON_ASCII_DIGITS}
    else 0xFE if i in {folded[0] for folded in _CASE_FOLDS_TO_ASCII} else i
    for i in range(256)
)
# Runs of the characters key patterns are made of ([A-Za-z0-9_-] plus the . / + = @ of dotted, URL and
# base64 forms): every provider key pattern's match holds such a run of 15 or more (``xox?-`` + 10 is the
# shortest), its digits counted in (non-ASCII ones are first overwritten with as many "0" bytes).
_KEY_RUN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./+=@"
_KEY_RUNS = bytes(0x77 if i in _KEY_RUN_CHARS else 0x20 for i in range(256))
_KEY_RUN_MIN = b"w" * 15
# Context a key match may take from before its run (a Telegram token's bot id: up to 10 digits of 4 bytes
# each, a colon and one look-behind character) and after it (one look-ahead character).
_KEY_RUN_BEFORE, _KEY_RUN_AFTER = 48, 8
# Hex digits, decimal digits and colons for the IPv6 check: an accepted address holds a digit and either
# "::" or seven colons (what ipaddress accepts, and the pattern holds no dots).
_HEX_SKELETON = bytes(
    0x30 if 0x30 <= i <= 0x39 else 0x68 if (0x41 <= i <= 0x46 or 0x61 <= i <= 0x66) else 0x3A if i == 0x3A else 0x20
    for i in range(256)
)
_IPV6_DOUBLE_COLON_THEN_DIGIT = re.compile(rb"::[h:]*0")  # on the skeleton, and on it reversed: digit before
_IPV6_SEVEN_COLONS = re.compile(rb":[h0]{1,4}:[h0]{1,4}:[h0]{1,4}:[h0]{1,4}:[h0]{1,4}:[h0]{1,4}:")
# A name that ends password, passwd, pass, pwd, secret, key, token or sig, then the ``\\*["']?\s*[:=]`` of
# the credential patterns and gates; searched in the reversed lowered bytes so that the scan starts at the
# rare ":" or "=". ``\s`` there is Unicode: any non-ASCII byte and \x1c-\x1f stand in for it.
_NAMES_BACKWARDS = rb"[\s\x1c-\x1f\x80-\xff]*[\"']?\\*(?:drowssap|dwssap|ssap|dwp|terces|yek|nekot|gis)"
_NAME_BEFORE_ASSIGNMENT = {b":": re.compile(b":" + _NAMES_BACKWARDS), b"=": re.compile(b"=" + _NAMES_BACKWARDS)}
# What follows the ":" or "=": every credential value is 6+ characters of this class (ASSIGNED, the
# loosest), and holds a digit (``_looks_secret``; ``isdigit`` is Unicode, any non-ASCII byte stands in)
# unless it is 16+ long (connection-string keys, AWS secrets).
_ASSIGNED_VALUE = re.compile(rb"[\s\x1c-\x1f\x80-\xff]*\\*[\"']?[^\s\"',;()\[\]{}<>\\]{6,}")
_VALUE_DIGIT = re.compile(rb"[0-9\x80-\xff]")
# The bearer token after its word: 16+ characters (``(?i)`` lets KELVIN SIGN and LONG S in: non-ASCII bytes).
_BEARER_SHAPE = re.compile(rb"earer[\s\x1c-\x1f\x80-\xff]+[a-z0-9._~+/\x80-\xff-]{16}")
_URL_PASSWORD_SHAPE = re.compile(rb"://[^\s:/@]*:[^\s@/]+@")
_EMAIL_DOMAIN_SHAPE = re.compile(rb"@[aA0-]+(?:\.[aA0-]+)*\.[aA][aA]")
# One scan from each digit for every number family (a literal first character: the fast scan), then the
# shapes one by one: SSN (dashed, or nine digits after its name), IBAN and NINO (two capitals, then
# digits), IPv4, and the gate of cards and phones.
_ANY_NUMBER_SHAPE = re.compile(
    rb"0(?:00[- ]?00[- ]?0000|(?<=AA0)0|(?<=AA 0)0|\.0{1,3}\.0{1,3}\.0|(?:[ ().-]{0,2}0){6})"
)
_SSN_SHAPE = re.compile(rb"000[- ]?00[- ]?0000")
_SSN_NAME = re.compile(rb"s(?:s[n#]|ocial security)")  # the gate of _SSN_NAMED, on ASCII-lowered bytes
_IBAN_OR_NINO_SHAPE = re.compile(rb"AA(?:00(?: ?[A0]){11}| ?00 ?00 ?00 ?A)")
_IPV4_SHAPE = re.compile(rb"0\.0{1,3}\.0{1,3}\.0")
_SEVEN_DIGITS_SHAPE = re.compile(rb"0(?:[ ().-]{0,2}0){6}")
# Card (13+ digits) and the phone alternatives of ``_PHONE``, one for one, with digits as 0.
_CARD_OR_PHONE_SHAPE = re.compile(
    rb"0(?:[ -]?0){12}"
    rb"|\+0{1,3}[ .-]?(?:\(0{1,4}\)[ .-]?)?0{1,4}(?:[ .-]?0{2,4}){1,4}"
    rb"|\(000\)[ .-]?000[ .-]0000"
    rb"|000(?P<a>[-. ])000(?P=a)0000"
    rb"|00(?P<b>[ .-])00(?P=b)00(?P=b)00(?P=b)00"
    rb"|000 0000? 000"
    rb"|00-0{1,4}-0000"
    rb"|000[ -]?0000[ -]?0000"
)


_NATIVE_PASSWORD_BYTES = tuple(name.encode("utf-8") for name in _NATIVE_PASSWORD_NAMES)

_SHORT, _SHORT_VERDICTS_MAX = 24, 4096
_SHORT_VERDICTS: dict[str, bool] = {}  # short text -> _may_redact(text), per process


def _non_ascii_digits_as(data: bytes, digit: Callable[[re.Match[bytes]], bytes]) -> bytes:
    for lead, pattern in _NON_ASCII_DIGITS:
        if lead in data:
            data = pattern.sub(digit, data)
    return data


# Cheap proofs that the prose and command-line password patterns cannot match: "pass" is found by one fast scan
# (~1 ns a byte) and only its places are tried (code and prose hold "pass" often: a search of the whole text
# cost ~8 us a kilobyte); the command-line patterns run only beside "mysql" or a "-u" and a colon.
_PROSE_AFTER_PASS = re.compile(rb"(?:word|wort|code|e)\s+(?:is|was|ist|war|est|\xc3\xa9tait)\s")


def _prose_or_cli_password(lowered: bytes, colons: int) -> bool:
    at = lowered.find(b"pass")
    while at != -1:
        if _PROSE_AFTER_PASS.match(lowered, at + 4):
            return True
        at = lowered.find(b"pass", at + 4)
    if b"mysql" in lowered or (colons and b"-u" in lowered):
        return bool(_CLI_PASSWORD_BYTES.search(lowered))
    return False


def _may_redact(text: str) -> bool:
    """False only if ``redact_text`` would return ``text`` unchanged with no count, under any config."""
    data = text.encode("utf-8", "surrogatepass")
    skeleton = data.translate(_SKELETON)
    digits = None  # data with each non-ASCII digit as one "0" byte, when it holds any
    if b"\xff" in skeleton:
        digits = _non_ascii_digits_as(data, lambda _match: b"0")
        if len(digits) != len(data):
            skeleton = digits.translate(_SKELETON)
        else:
            digits = None
    if b"\xfe" in skeleton and any(folded in data for folded in _CASE_FOLDS_TO_ASCII):
        return True
    # private keys, credentials, bearer tokens
    if b"-----BEGIN" in data:
        return True
    lowered = data.lower()
    colons = data.count(b":")
    if colons or b"=" in data:
        backwards = lowered[::-1]
        for sign, name_before in _NAME_BEFORE_ASSIGNMENT.items():
            if sign == b":" and not colons:
                continue
            for match in name_before.finditer(backwards):
                value = _ASSIGNED_VALUE.match(data, len(data) - match.start())  # just after the sign
                # the whole match: its leading class may have taken non-ASCII characters of the value
                if value and (len(value.group(0)) >= 16 or _VALUE_DIGIT.search(value.group(0))):
                    return True
    if b"earer" in lowered and _BEARER_SHAPE.search(lowered):
        return True
    if not data.isascii() and any(name in data for name in _NATIVE_PASSWORD_BYTES):
        return True
    if _prose_or_cli_password(lowered, colons):
        return True
    # e-mail addresses and passwords in URLs
    if b"@" in data and (_EMAIL_DOMAIN_SHAPE.search(skeleton) or _URL_PASSWORD_SHAPE.search(data)):
        return True
    # numbers: SSN, IBAN, NINO, IPv4, cards and phones
    if _ANY_NUMBER_SHAPE.search(skeleton) and (
        b"000-00-0000" in skeleton or (_SSN_SHAPE.search(skeleton) and _SSN_NAME.search(lowered))
        or _IBAN_OR_NINO_SHAPE.search(skeleton) or _IPV4_SHAPE.search(skeleton)
        or (_SEVEN_DIGITS_SHAPE.search(skeleton) and _CARD_OR_PHONE_SHAPE.search(skeleton))
    ):
        return True
    # IPv6
    if colons >= 7 or (colons >= 2 and b"::" in data):
        hexes = data.translate(_HEX_SKELETON)
        if (_IPV6_SEVEN_COLONS.search(hexes) or _IPV6_DOUBLE_COLON_THEN_DIGIT.search(hexes)
                or _IPV6_DOUBLE_COLON_THEN_DIGIT.search(hexes[::-1])):
            return True
    # provider keys: only near a long run of key characters, where the exact trigger scan and patterns run
    runs = (data if digits is None else _non_ascii_digits_as(data, lambda m: b"0" * len(m.group()))
            ).translate(_KEY_RUNS)  # same offsets as data
    start = runs.find(_KEY_RUN_MIN)
    if start < 0:
        return False
    windows: list[str] = []
    while start >= 0:
        end = runs.find(b" ", start + len(_KEY_RUN_MIN))
        if end < 0:
            end = len(runs)
        windows.append(
            data[max(0, start - _KEY_RUN_BEFORE): end + _KEY_RUN_AFTER].decode("utf-8", "replace"))
        start = runs.find(_KEY_RUN_MIN, end)
    joined = "\n".join(windows)
    return any(_KEY_PATTERNS[i][0].search(joined) for i in _key_patterns_in(joined))

class RedactStage(RecordStage):
    """Replace personal data and secrets in every string of a record with placeholders such as ``[EMAIL]``."""

    name: ClassVar[str] = "redact"
    # Before validation, so that a record validation rejects is written to rejects.jsonl (and from there to the
    # review store and the report's examples) already redacted. It never drops; it copes with any shape.
    before_validation: ClassVar[bool] = True

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

    def _sub_value(self, pattern: re.Pattern[str], text: str, kind: str, counts: dict[str, int], value: int = 2,
                   accept: Callable[[str], bool] | None = None) -> str:
        """Replace only group ``value`` of each match: the name before a secret (``password=``) stays."""
        placeholder = self._placeholder(kind)

        def repl(match: re.Match[str]) -> str:
            secret = match.group(value)
            if accept is not None and not accept(secret):
                return match.group(0)
            counts[kind] = counts.get(kind, 0) + 1
            start, end = match.span(value)
            # "your new password: 4&7j#9@1Q6*. Please save it": an unquoted value's last full stop, with the next
            # sentence after it, closes the sentence (the password is still replaced; the stop stays). A "!" or "?"
            # ending a value is the value's own ("DB_PASSWORD=Sup3rS3cret!").
            if (secret[-1:] == "." and end == match.end() and len(secret) > 6
                    and _NEXT_SENTENCE.match(match.string, end)):
                end -= 1
            whole = match.group(0)
            return whole[: start - match.start()] + placeholder + whole[end - match.start() :]

        return pattern.sub(repl, text)

    def _sub_cli_password(self, text: str, counts: dict[str, int]) -> str:
        placeholder = self._placeholder("credential")

        def repl(match: re.Match[str]) -> str:
            head, secret = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            if secret.startswith(("[", "$", "%", "<")) or secret.lower() in _PLACEHOLDER_PASSWORDS:
                return match.group(0)  # a placeholder, a shell variable
            counts["credential"] = counts.get("credential", 0) + 1
            return head + placeholder

        return _CLI_PASSWORD.sub(repl, text)

    def redact_text(self, text: str, counts: dict[str, int]) -> str:
        """Redact one string, adding to ``counts`` per kind."""
        if len(text) > _SHORT:
            return self._redact_each_kind(text, counts) if _may_redact(text) else text
        # Roles, part types and names recur in every record: their verdict is remembered.
        verdict = _SHORT_VERDICTS.get(text)
        if verdict is None:
            verdict = _may_redact(text)
            if len(_SHORT_VERDICTS) < _SHORT_VERDICTS_MAX:
                _SHORT_VERDICTS[text] = verdict
        return self._redact_each_kind(text, counts) if verdict else text

    def _redact_each_kind(self, text: str, counts: dict[str, int]) -> str:
        """Every pattern behind its gate, in order (what ``redact_text`` does to a text that may hold one)."""
        kinds = self._kinds
        if "private_key" in kinds and "-----BEGIN" in text:
            text = self._sub(_PEM, text, "private_key", counts)
        if "credential" in kinds:
            if "://" in text and "@" in text:
                text = self._sub_value(_URL_PASSWORD, text, "credential", counts,
                                       accept=lambda v: not v.startswith("[") and "://" not in v
                                       and v.lower().strip("<>{}$") not in _PLACEHOLDER_PASSWORDS)
            if "=" in text or ":" in text:
                lowered = text.lower()
                if "key=" in lowered or "secret=" in lowered or "sig=" in lowered:
                    text = self._sub_value(_CONNECTION_KEY, text, "credential", counts)
                if "secret" in lowered:
                    text = self._sub_value(_NAMED_SECRET, text, "credential", counts)
                if any(name in lowered for name in _ASSIGNED_NAMES):
                    text = self._sub_value(_ASSIGNED_SECRET, text, "credential", counts, value=3,
                                           accept=_looks_secret)
            if not text.isascii() and any(name in text for name in _NATIVE_PASSWORD_NAMES):
                text = self._sub_value(_NATIVE_PASSWORD, text, "credential", counts, value=3, accept=_looks_secret)
            if "ass" in text or "ASS" in text:  # Password, PASSWORT, mot de passe
                text = self._sub_value(_PROSE_PASSWORD, text, "credential", counts, value=3, accept=_looks_secret)
            if "mysql" in text or "-u" in text:
                text = self._sub_cli_password(text, counts)
        if "api_key" in kinds:
            for i in _key_patterns_in(text):
                text = self._sub(_KEY_PATTERNS[i][0], text, "api_key", counts)
            if "earer" in text or "EARER" in text:
                placeholder = self._placeholder("api_key")

                def bearer(match: re.Match[str]) -> str:
                    if match.group(2).startswith("["):  # already a placeholder
                        return match.group(0)
                    counts["api_key"] = counts.get("api_key", 0) + 1
                    return match.group(1) + placeholder

                text = _BEARER.sub(bearer, text)
        if "email" in kinds and "@" in text:
            text = self._sub(_EMAIL, text, "email", counts, self._email_ok)
        letters_digits = ("iban" in kinds or "national_id" in kinds) and _LETTERS_THEN_DIGITS.search(text)
        if "iban" in kinds and letters_digits and _IBAN_TRIGGER.search(text):
            text = self._sub(_IBAN, text, "iban", counts, _iban_ok)
        if "national_id" in kinds:
            if "-" in text:
                text = self._sub(_SSN, text, "national_id", counts)
            lowered = text.lower()
            if "ssn" in lowered or "social security" in lowered or "ss#" in lowered:
                text = self._sub_value(_SSN_NAMED, text, "national_id", counts)
            if letters_digits:
                text = self._sub(_NINO, text, "national_id", counts)
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
        return (13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn_ok(digits) and len(set(digits)) > 1
                and _card_grouping_ok(raw) and not _in_arithmetic(match))

    def _ipv4_ok(self, match: re.Match[str]) -> bool:
        if _CIDR_AFTER.match(match.string, match.end()):
            return False  # 52.94.76.0/22 is a network, not a host (and [IP_ADDRESS]/22 a broken CIDR)
        # "version 1.2.3.4" and "v10.0.0.1" are versions, not hosts.
        if _VERSION_CONTEXT.search(match.string, max(0, match.start() - 20), match.start()) or _VERSION_AFTER.match(
                match.string, match.end()):
            return False
        if not (self.config.keep_local_ips or self.config.keep_private_ips):
            return True
        address = ipaddress.IPv4Address(match.group(0))
        if self.config.keep_local_ips and (
                address.is_loopback or address.is_unspecified or match.group(0).startswith("255.")):
            return False
        return not (self.config.keep_private_ips and _private_or_documentation(address))

    def _ipv6_ok(self, match: re.Match[str]) -> bool:
        raw = match.group(0).split("/")[0]
        if not any(c.isdigit() for c in raw):
            return False  # "dead::beef"-like identifiers and C++ scopes are not addresses
        try:
            address = ipaddress.IPv6Address(raw)
        except ValueError:
            return False
        if self.config.keep_private_ips and _private_or_documentation(address):
            return False
        return not (self.config.keep_local_ips and (address.is_loopback or address.is_unspecified))

    def _email_ok(self, match: re.Match[str]) -> bool:
        if not self.config.keep_example_emails:
            return True
        domain = match.group(0).rsplit("@", 1)[1].lower()
        return not (domain in _EXAMPLE_DOMAINS or domain.endswith(_EXAMPLE_SUFFIXES))

    @staticmethod
    def _phone_ok(match: re.Match[str]) -> bool:
        raw = match.group(0)
        digits = sum(c.isdigit() for c in raw)
        # "0001 1010 1111" is binary, not a number to call
        return 7 <= digits <= 15 and bool(set(raw) - set("01 .-()+")) and not _in_arithmetic(match)

    def _redact_message(self, message: dict[str, Any], counts: dict[str, int]) -> None:
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = self.redact_text(content, counts)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    part["text"] = self.redact_text(part["text"], counts)
        if isinstance(message.get("reasoning"), str):  # reasoning is trained on where exported: redact it too
            message["reasoning"] = self.redact_text(message["reasoning"], counts)
        if self.config.tool_arguments:
            calls = [c.get("function") for c in message.get("tool_calls") or [] if isinstance(c, dict)] \
                if isinstance(message.get("tool_calls"), list) else []
            calls.append(message.get("function_call"))
            for call in calls:
                if isinstance(call, dict) and isinstance(call.get("arguments"), str):
                    call["arguments"] = self.redact_text(call["arguments"], counts)

    def _redact_tree(self, node: Any, counts: dict[str, int]) -> Any:
        """Every string under ``node`` redacted (dict keys stay); records nest at most 64 levels (readers)."""
        if isinstance(node, str):
            return self.redact_text(node, counts)
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str | dict | list):
                    node[key] = self._redact_tree(value, counts)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, str | dict | list):
                    node[i] = self._redact_tree(value, counts)
        return node

    def process(self, record: dict[str, Any]) -> Drop | None:
        strings = _record_strings(record)
        if not strings or not _may_redact("\n".join(strings)):
            return None  # one check for the whole record: nothing anywhere in it can match
        counts: dict[str, int] = {}
        messages = record_messages(record)
        for message in messages:
            if isinstance(message, dict) and (self._roles is None or message.get("role") in self._roles):
                if self._roles is None and self.config.everywhere:
                    self._redact_tree(message, counts)  # names, tool results, unknown keys too
                else:
                    self._redact_message(message, counts)
        if self.config.everywhere:
            seen = {id(m) for m in messages}
            for key, value in record.items():
                if key in ("id", "metadata") or not isinstance(value, str | dict | list):
                    continue
                if isinstance(value, list) and any(id(m) in seen for m in value):
                    continue  # the turns, done above with the role filter
                record[key] = self._redact_tree(value, counts)
            metadata = record.get("metadata")
            if isinstance(metadata, dict):
                for key, value in metadata.items():
                    if key != "source" and isinstance(value, str | dict | list):
                        metadata[key] = self._redact_tree(value, counts)
        if counts:
            metadata = record.setdefault("metadata", {})
            if not isinstance(metadata, dict):
                return None
            merged = dict(metadata.get("redactions") or {})
            for kind, n in counts.items():
                merged[kind] = merged.get(kind, 0) + n
            metadata["redactions"] = dict(sorted(merged.items()))
        return None


def _record_strings(record: dict[str, Any]) -> list[str]:
    """Every string ``process`` may redact, whatever the config: all values under the record's keys but the id,
    and under metadata's keys but the source (more than a config with ``roles`` or without ``everywhere``
    redacts, which only makes the check over them stricter)."""
    found: list[str] = []
    stack: list[Any] = []
    for key, value in record.items():
        if key == "id" or key == "metadata":
            continue
        if type(value) is list:  # the turns: a list of flat dicts, walked without the stack
            for item in value:
                if type(item) is dict:
                    for field in item.values():
                        if type(field) is str:
                            found.append(field)
                        else:
                            stack.append(field)
                else:
                    stack.append(item)
        else:
            stack.append(value)
    metadata = record.get("metadata")
    if isinstance(metadata, dict):
        stack.extend(value for key, value in metadata.items() if key != "source")
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


# RFC 2606 / 6761: names that can never be anyone's address ("user@example.com" in a code sample or a template).
_EXAMPLE_DOMAINS = frozenset({"example.com", "example.net", "example.org", "example.edu"})
_EXAMPLE_SUFFIXES = (".example.com", ".example.net", ".example.org", ".example", ".test", ".invalid", ".localhost")
# RFC 1918 / 4193 private networks and the RFC 5737 / 3849 blocks reserved for documentation.
_PRIVATE_OR_DOCUMENTATION_NETS = tuple(ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))


def _private_or_documentation(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A LAN, link-local or documentation address: it names no one outside one network, and a router guide
    ("open 192.168.1.1") or a code sample needs it as written."""
    return address.is_link_local or any(address.version == net.version and address in net
                                        for net in _PRIVATE_OR_DOCUMENTATION_NETS)


# Words documentation writes in place of a secret ("postgresql://user:password@localhost/db"). Published test
# values (4111 1111 1111 1111, AKIAIOSFODNN7EXAMPLE, 8.8.8.8) are still redacted: a real log holds them too.
_PLACEHOLDER_PASSWORDS = frozenset({"password", "passwd", "pass", "pwd", "secret", "yourpassword", "your_password",
                                    "your-password", "mypassword", "my_password", "password123", "xxx", "xxxx",
                                    "xxxxxx", "****", "******", "pw", "pass123"})
_CIDR_AFTER = re.compile(r"/(?:[0-9]|[12][0-9]|3[01])(?![\d.])")


def _looks_secret(value: str) -> bool:
    """A value after ``password=`` / ``api_key:`` that is a secret, not code or prose: letters and digits mixed,
    not a placeholder, not a call or attribute (``get_password()``, ``os.environ``)."""
    if value.startswith("[") or value.startswith("$") or value.startswith("%") or "." in value[:1]:
        return False
    lowered = value.lower()
    if lowered in ("none", "null", "true", "false", "required", "optional", "string", "example", "changeme"):
        return False
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)

