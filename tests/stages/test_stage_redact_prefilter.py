"""The redact stage's cheap proof that a text holds nothing to redact (``_may_redact``) never skips a text that
the patterns would change: checked against the patterns themselves on planted secrets, their mutations, real
text and random strings of the characters the patterns care about."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from curation.pipeline.stages import redact
from curation.pipeline.stages.redact import RedactConfig, RedactStage
from curation.readers import read_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted_secrets import SECRETS  # noqa: E402

# Forms the planted corpus lacks: every phone alternative, numbers in non-ASCII digits, names spelt with
# KELVIN SIGN or LONG S, escaped JSON, values after Unicode spaces.
EXTRA = [
    "06 12 34 56 78", "+33 6 12 34 56 78", "(555) 123-4567", "555.123.4567", "020 7946 0958", "138 0013 8000",
    "03-1234-5678", "090-1234-5678", "13800138000", "4111 1111 1111 1111", "123-45-6789", "SSN 123456789",
    "social security no. 123 45 6789", "AB 12 34 56 C", "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000",
    "192.168.1.20", "10.0.0.1", "2001:db8::1", "fe80::1ff:fe23:4567:890a", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    "::1", "user@example.com", "postgres://user:pa55word@host:5432/db", "password=hunter2x",
    "api_key: 'abc123def456'", "Authorization: Bearer abcdefghijklmnop1234", "AccountKey=abcdefghijklmnop1234==",
    "sig=abcdefghijklmnopqrstuv", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "١٢٣-٤٥٦-٧٨٩٠", "０６ １２ ３４ ５６ ７８", "١٢٣٤٥٦٧٨:AAabcdefghijklmnopqrstuvwxyz0123456", "paſſword=abc123xyz",
    "\u212aey=abc123def456", "xapp-١-abcdefghijkl", "https://discord.com/api/webhooks/١٢٣/abcdefghijklmnopqrstuvwxyz",
    "١AKIAABCDEFGHIJKLMNOP", "0123456789abcdef0123456789abcdef-us١", '\\"password\\": \\"abc123xyz\\"',
    "password=١abcdef", "Bearer \u212aabcdefghijklmnopq", "secret_key\u3000=\u3000x1y2z3w4",
]
ALPHABET = list("0123456789 -.:()+/@=_'\"\\#\n\tAaBbKkSsXx") + [
    "\u3000", "\xa0", "١", "٥", "０", "\u212a", "\u017f", "é", "中", "\x1c",
]


def _changes(stage: RedactStage, text: str) -> bool:
    counts: dict[str, int] = {}
    try:
        return stage._redact_each_kind(text, counts) != text or bool(counts)
    except ValueError:  # ipaddress refuses some non-ASCII digits: the record is flagged, and must not skip
        return True


def _mutations(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, 4)):
        i = rng.randint(0, len(chars))
        op = rng.random()
        if op < 0.4 and chars:
            chars[min(i, len(chars) - 1)] = rng.choice(ALPHABET)
        elif op < 0.7:
            chars.insert(i, rng.choice(ALPHABET))
        elif chars:
            del chars[min(i, len(chars) - 1)]
    return "".join(chars)


@pytest.mark.parametrize("config", [RedactConfig(), RedactConfig(keep_local_ips=False)], ids=["default", "all-ips"])
def test_no_text_the_patterns_change_is_proven_clean(config: RedactConfig, real_dir: Path) -> None:
    stage = RedactStage(config)
    seeds = [text for text, _secret in SECRETS.values()] + EXTRA
    rng = random.Random(0)
    texts = list(seeds)
    for _ in range(3000):
        parts = [_mutations(rng, rng.choice(seeds)) for _ in range(rng.randint(1, 3))]
        texts.append(rng.choice(["", " ", "\n", "中文", "é"]).join(parts))
        texts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(5, 40))))
    for path in sorted(real_dir.rglob("*.json*"))[:8]:
        for item in read_path(path):
            if item.record:
                texts += redact._record_strings(item.record)
    changed = [text for text in texts if _changes(stage, text)]
    assert len(changed) > 1500  # the check is exercised on many texts that do get redacted
    assert [text for text in changed if not redact._may_redact(text)] == []
    # and on joined records, as process() asks it
    for i in range(0, len(texts) - 4, 4):
        if any(_changes(stage, text) for text in texts[i:i + 4]):
            assert redact._may_redact("\n".join(texts[i:i + 4]))


def test_most_real_text_is_proven_clean(real_dir: Path) -> None:
    strings = []
    for path in sorted(real_dir.rglob("*.json*")):
        for item in read_path(path):
            if item.record:
                strings += redact._record_strings(item.record)
    clean = sum(not redact._may_redact(text) for text in strings)
    assert clean / len(strings) > 0.95  # the fast path is what runs on ordinary text


def test_a_record_with_nothing_to_redact_is_left_as_it_is(conv) -> None:
    record = conv("What is 2 + 2?", "It is 4.", system="Be brief.")
    before = repr(record)
    assert RedactStage().process(record) is None
    assert repr(record) == before


def test_tables_match_the_regex_engine() -> None:
    # the non-ASCII digits are exactly those \d matches beyond ASCII
    non_ascii = {chr(c) for c in range(0x80, 0x110000) if re.fullmatch(r"\d", chr(c))}
    tabled = {chr(c) for c in range(0x80, 0x110000) if chr(c).isdecimal()}
    assert non_ascii == tabled
    assert [ord(c) for c in sorted(non_ascii)] == redact.non_ascii_decimals()  # the shipped runs, or the scan
    by_lead = dict(redact._NON_ASCII_DIGITS)
    assert all(by_lead[digit.encode()[0]].fullmatch(digit.encode()) for digit in non_ascii)
    assert all(redact._SKELETON[lead] == 0xFF for lead in by_lead)  # the marker the check looks for
    # the only non-ASCII characters that fold to an ASCII letter (that the name checks, on ASCII-lowered bytes,
    # would miss) are KELVIN SIGN, LONG S and the Turkish dotted and dotless I; no name holds an i
    letter = re.compile("(?i)[a-z]")
    folding = {chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000
               and (letter.fullmatch(chr(c)) or any(ch.isascii() for ch in chr(c).lower()))}
    assert folding == {"\u212a", "\u017f", "\u0130", "\u0131"}
    assert {f.decode() for f in redact._CASE_FOLDS_TO_ASCII} == {"\u212a", "\u017f"}
