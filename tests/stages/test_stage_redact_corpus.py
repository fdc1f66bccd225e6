"""The planted-secrets corpus through a default run: 0 kinds leak into any file the run writes.

Each of the 91 kinds is planted in seven places: a user turn, tool-call arguments, a tool result, an extra
top-level field, metadata, a record that fails validation (no assistant turn) and an unparseable line. The
run uses the default config (redaction is on by default), exports openai and hf, then `curate export` writes
every exporter (with --skip-invalid, so skipped.jsonl files exist too) and the review store is built; then
every file under the run folder is searched for every needle, as bytes and as JSON escapes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from curation import plugins
from curation.cli import main
from curation.review.store import ReviewStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted_secrets import SECRETS  # noqa: E402

EXPORTERS = ["openai", "azure-openai", "bedrock-claude", "bedrock-nova", "vertex-gemini", "together", "mistral", "hf"]


def _records(kind: str, sentence: str, n: int) -> list[bytes]:
    ask = f"Question {n} about {kind.replace('_', ' ')}: what should I do with this? {sentence}"
    call = {"id": f"call_{n}", "type": "function", "function": {"name": "store", "arguments": orjson.dumps(
        {"note": sentence, "n": n}).decode()}}
    tool_turns = [{"role": "user", "content": f"save note {n} for {kind}"},
                  {"role": "assistant", "content": None, "tool_calls": [call]},
                  {"role": "tool", "tool_call_id": f"call_{n}", "content": f"stored note {n}: {sentence}"},
                  {"role": "assistant", "content": f"Saved note number {n} in the {kind} folder."}]
    plain = [{"role": "user", "content": f"tell me about topic {kind} number {n}"},
             {"role": "assistant", "content": f"Topic {kind} {n} is about many interesting things, in depth."}]
    return [
        orjson.dumps({"messages": [{"role": "user", "content": ask},
                                   {"role": "assistant", "content": f"Answer {n}: keep {kind} private."}]}),
        orjson.dumps({"messages": tool_turns}),
        orjson.dumps({"messages": plain, "note": sentence, "ticket": {"body": [sentence]}}),
        orjson.dumps({"messages": plain[:1] + [{"role": "assistant", "content": f"Meta {n} {kind}."}],
                      "metadata": {"origin": sentence}}),
        orjson.dumps({"messages": [{"role": "user", "content": f"no reply here {n} {sentence}"}]}),
        b'{"messages": [{"role": "user", "content": ' + orjson.dumps(sentence) + b"}, broken",
    ]


def _searchable(path: Path) -> bytes:
    """The file's bytes, plus its rows as JSON for parquet (compressed pages could hide a needle)."""
    blob = path.read_bytes()
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        blob += orjson.dumps(pq.read_table(path).to_pylist(), default=str)
    return blob


def _needles(needle: str) -> list[bytes]:
    escaped = orjson.dumps(needle)[1:-1]
    return sorted({needle.encode(), escaped, needle.encode("unicode_escape")})


def test_default_run_leaks_no_planted_kind(tmp_path: Path) -> None:
    assert len(SECRETS) >= 60
    assert sorted(EXPORTERS) == sorted(plugins.available("curation.exporters"))  # every built-in exporter
    lines: list[bytes] = []
    for n, (kind, (sentence, _needle)) in enumerate(sorted(SECRETS.items())):
        lines.extend(_records(kind, sentence, n))
    data = tmp_path / "chats.jsonl"
    data.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "run"
    code = main(["run", "-i", str(data), "--out", str(out), "-q", "--export", "openai,hf", "--workers", "1"])
    assert code == 0
    # Every exporter, and what --skip-invalid leaves out of each (skipped.jsonl), is searched too.
    assert main(["export", str(out), "--to", ",".join(EXPORTERS), "--skip-invalid"]) == 0
    ReviewStore(out).close()  # builds review.sqlite from the splits and rejects
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.relative_to(out).as_posix() for p in files}
    assert {"rejects.jsonl", "review.sqlite", "report.json", "report.html", "report.md",
            "exports/openai/sft/train.jsonl"} <= names, names
    for exporter in EXPORTERS:
        assert any(name.startswith(f"exports/{exporter}/") for name in names), exporter
    blobs = {p.relative_to(out).as_posix(): _searchable(p) for p in files}
    leaked = {kind: [name for name, blob in blobs.items() if any(n in blob for n in _needles(needle))]
              for kind, (_sentence, needle) in SECRETS.items()}
    leaked = {kind: where for kind, where in leaked.items() if where}
    assert leaked == {}, f"{len(leaked)} of {len(SECRETS)} kinds leak: {leaked}"
    # The rejects really hold the planted records (redacted), not nothing.
    rejects = [orjson.loads(line) for line in blobs["rejects.jsonl"].splitlines()]
    assert sum(r["reason"] == "not_json" for r in rejects) == len(SECRETS)
    assert all("[" in (r.get("raw") or "[") for r in rejects)
