"""Adversarial pass over the `curate` command line: bad inputs, configs, output folders, run folders, UI flags,
job stores and environments, each tried as a subprocess under a timeout.

Every invocation is classified:

- ``clean``: a non-zero exit with one error line on stderr (or click's usage box) and no traceback;
- ``ok``: exit 0 (for cases where working is the right answer, a check of the result says whether it is right);
- ``traceback``: "Traceback (most recent call last)" anywhere in the output;
- ``hang``: still running at the timeout (killed);
- ``unclear``: a non-zero exit with several lines and no traceback, or killed by a signal;
- ``wrong``: the case expected a refusal and got exit 0, or expected success and got an error / a bad result.

    python scripts/adversarial.py            # all cases, prints the table and one line per case
    python scripts/adversarial.py --only ui  # cases whose group or name contains "ui"
    python scripts/adversarial.py --json out.json

Exit code 0 when there are no tracebacks, hangs, unclear or wrong outcomes, else 1. Some cases need root (a
read-only or full filesystem is made with a small tmpfs mount); without it they are listed as skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
CURATE = [sys.executable, "-m", "curation.cli"]
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Case:
    group: str
    name: str
    argv: list[str]
    expect: str = "error"  # "error", "ok" or "any"
    timeout: float = 60.0
    env: dict[str, str | None] = field(default_factory=dict)
    fsize: int | None = None  # RLIMIT_FSIZE in bytes (ulimit -f)
    stdout: str | None = None  # a path to send stdout to (/dev/full), or "closed-pipe"
    check: Callable[[subprocess.CompletedProcess[str]], str | None] | None = None
    needs: str | None = None  # why it was skipped, when a precondition is missing
    serves: bool = False  # a server (the UI): still running at the timeout after saying it serves is ok


@dataclass
class Outcome:
    case: Case
    kind: str
    code: int | None
    seconds: float
    line: str


# ------------------------------------------------------------------------------------------------ fixtures


def _record(i: int, salt: str = "r") -> dict:
    return {"id": f"{salt}{i}", "messages": [
        {"role": "user", "content": f"{salt} question {i}: why does the river number {i * 7} bend to the east?"},
        {"role": "assistant", "content": f"{salt} answer {i}: the valley {i * 13} slopes that way over time."}]}


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def _deep(depth: int) -> bytes:
    return b'{"a": ' * depth + b'"leaf"' + b"}" * depth


def _manifest_reseal(run: Path) -> None:
    """After damaging a split, seal the manifest again so the damage reaches the exporter's reader."""
    sys.path.insert(0, str(ROOT))
    from curation import run_folder

    manifest = orjson.loads((run / "manifest.json").read_bytes())
    run_folder.write_manifest(run, manifest)


@contextlib.contextmanager
def _tmpfs(path: Path, options: str):
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    try:
        yield done.returncode == 0
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _records_in(run: Path, want: int) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
    def check(_proc: subprocess.CompletedProcess[str]) -> str | None:
        try:
            got = orjson.loads((run / "manifest.json").read_bytes())["records"]["in"]
        except (OSError, KeyError, orjson.JSONDecodeError) as exc:
            return f"no readable manifest ({exc})"
        return None if got == want else f"records in {got}, want {want}"
    return check


def _says(*words: str) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
    def check(proc: subprocess.CompletedProcess[str]) -> str | None:
        text = " ".join((proc.stdout + proc.stderr).split())
        return None if any(w in text for w in words) else f"the output names none of {words}"
    return check


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_cases(work: Path, good_run: Path, mounts: dict[str, Path]) -> list[Case]:
    cases: list[Case] = []
    good = _jsonl(work / "good.jsonl", [_record(i) for i in range(12)])

    def run_args(inp: str | Path, out_name: str, *extra: str) -> list[str]:
        return ["run", "-i", str(inp), "--out", str(work / "out" / out_name), "-q", "--export", "none",
                "--workers", "1", *extra]

    # --- defect 1: JSON arrays that never advance, endless or special files
    broken = {"bracket_brace": "[}", "object_extra_brace": '[{"a":1}}', "trailing_comma": '[{"a":1},]',
              "unclosed_array": '[{"a":1}', "open_nest": "[[[[", "close_only": "]", "open_only": "[",
              "comma_only": "[,]", "missing_comma": '[{"a":1} {"b":2}]', "brace_bracket": "{]",
              "messages_brace": '{"messages": [}', "array_of_numbers": "[1,2,3]"}
    for name, text in broken.items():
        path = work / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        cases.append(Case("input", f"inspect {name} {text!r}", ["inspect", str(path)], expect="any", timeout=20))
        cases.append(Case("input", f"run {name} {text!r}", run_args(path, name), expect="any", timeout=30))
        forced = work / f"{name}.yaml"
        forced.write_text(f"inputs:\n  - path: {path}\n    format: openai\nout: {work / 'out' / (name + '_f')}\n"
                          "export:\n  formats: []\n", encoding="utf-8")
        cases.append(Case("input", f"run forced-format {name}", ["run", str(forced), "-q"], expect="any",
                          timeout=30))
    fifo = work / "fifo.jsonl"
    os.mkfifo(fifo)
    # A special file is a file-level reject (inspect lists it, run skips it with a warning, --strict fails).
    said = _says("not a data file", "FIFO", "a device")
    cases += [Case("input", "inspect FIFO", ["inspect", str(fifo)], expect="any", timeout=20, check=said),
              Case("input", "run FIFO", run_args(fifo, "fifo")[:-5] + ["--export", "none"], expect="any",
                   timeout=30, check=said),
              Case("input", "run FIFO --strict", run_args(fifo, "fifo_strict", "--strict"), timeout=30)]
    for dev in ("/dev/zero", "/dev/urandom", "/dev/null"):
        cases += [Case("input", f"inspect {dev}", ["inspect", dev], expect="any", timeout=20, check=said),
                  Case("input", f"run {dev}", [a for a in run_args(dev, Path(dev).name) if a != "-q"],
                       expect="any", timeout=30, check=said),
                  Case("input", f"run {dev} --strict", run_args(dev, Path(dev).name + "_strict", "--strict"),
                       timeout=30)]
    nest = work / "nest.json"
    nest.write_text("[" * 200_000, encoding="utf-8")
    cases += [Case("input", "inspect 200k open brackets", ["inspect", str(nest)], expect="any", timeout=20),
              Case("input", "run 200k open brackets", run_args(nest, "nest"), expect="any", timeout=30)]
    deep_record = work / "deep_record.jsonl"
    deep = orjson.dumps(_record(0))[:-1] + b', "metadata": ' + _deep(300) + b"}"
    deeper = orjson.dumps(_record(1)).replace(b'"content":', b'"content": ' + _deep(2000) + b', "x":', 1)
    deep_record.write_bytes(deep + b"\n" + deeper + b"\n"
                            + b"".join(orjson.dumps(_record(i)) + b"\n" for i in range(2, 12)))
    cases.append(Case("input", "run record nested 300 and 2000 deep", run_args(deep_record, "deep_record"),
                      expect="ok", check=_records_in(work / "out" / "deep_record", 12)))
    cases.append(Case("input", "inspect record nested 2000 deep", ["inspect", str(deep_record)], expect="ok"))
    big = work / "big_line.jsonl"
    with big.open("wb") as fh:
        fh.write(b'{"messages": [{"role": "user", "content": "')
        chunk = b"x" * (1 << 20)
        for _ in range(66):
            fh.write(chunk)
        fh.write(b'"}]}\n')
        fh.write(b"".join(orjson.dumps(_record(i)) + b"\n" for i in range(12)))
    cases.append(Case("input", "run a 66 MiB line", run_args(big, "big_line"), expect="ok",
                      check=_records_in(work / "out" / "big_line", 13)))
    odd: dict[str, bytes] = {
        "empty": b"", "bom_only": b"\xef\xbb\xbf", "nul_bytes": b"\x00" * 4096, "binary": bytes(range(256)) * 64,
        "utf16": json.dumps(_record(0)).encode("utf-16"), "latin1": '{"messages": "caf\xe9"}\n'.encode("latin-1"),
        "preferred_output_true": b'{"preferred_output": true}\n', "chosen_number": b'{"prompt": "p", "chosen": 1, '
        b'"rejected": 2}\n',
        "role_list": b'{"messages": [{"role": ["user"], "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n',
        "role_dict": b'{"messages": [{"role": {"a": 1}, "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n',
        "content_dict": b'{"messages": [{"role": "user", "content": {"x": [1]}}, {"role": "assistant", '
        b'"content": 5}]}\n',
        "messages_string": b'{"messages": "hello"}\n', "top_level_number": b"42\nnull\n[]\n\"s\"\n",
        "huge_number": b'{"messages": [{"role": "user", "content": "a"}], "n": 1' + b"0" * 5000 + b"}\n",
        "nan_infinity": b'{"messages": [{"role": "user", "content": "a"}], "x": NaN, "y": Infinity}\n',
        "lone_surrogate": b'{"messages": [{"role": "user", "content": "\\ud800"}, {"role": "assistant", '
        b'"content": "\\udfff"}]}\n',
    }
    for name, data in odd.items():
        path = work / f"{name}.jsonl"
        path.write_bytes(data)
        cases.append(Case("input", f"inspect {name}", ["inspect", str(path)], expect="any", timeout=30))
        cases.append(Case("input", f"run {name}", run_args(path, name), expect="any"))
    (work / "corrupt.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 100 + b"PAR1")
    (work / "not_arrow.arrow").write_bytes(b"this is not arrow\n" * 20)
    (work / "truncated.jsonl.gz").write_bytes(gzip.compress(good.read_bytes())[:40])
    (work / "fake.parquet").write_bytes(b"just text\n")
    for name in ("corrupt.parquet", "not_arrow.arrow", "truncated.jsonl.gz", "fake.parquet"):
        cases.append(Case("input", f"inspect {name}", ["inspect", str(work / name)], expect="any", timeout=30))
        cases.append(Case("input", f"run {name}", run_args(work / name, name), expect="any"))
    arrow_dir = work / "arrow_dir"
    arrow_dir.mkdir()
    (arrow_dir / "dataset_info.json").write_text("{}")
    (arrow_dir / "state.json").write_text('{"_data_files": [{"filename": "data-00000.arrow"}]}')
    (arrow_dir / "data-00000.arrow").write_bytes(b"ARROW1\x00\x00garbage")
    cases.append(Case("input", "run save_to_disk folder with bad .arrow", run_args(arrow_dir, "arrow_dir"),
                      expect="any"))

    # --- defect 8: filesystem oddities of inputs
    loop = work / "loop"
    loop.mkdir()
    _jsonl(loop / "a.jsonl", [_record(i) for i in range(12)])
    (loop / "self").symlink_to(".")
    cases.append(Case("fs", "run dir with symlink loop self -> .", run_args(loop, "loop"), expect="ok",
                      check=_records_in(work / "out" / "loop", 12)))
    cases.append(Case("fs", "inspect dir with symlink loop", ["inspect", str(loop)], expect="ok"))
    cases.append(Case("fs", "run same file twice", run_args(good, "twice", "-i", str(good)), expect="ok",
                      check=_records_in(work / "out" / "twice", 12)))
    (work / "dangling.jsonl").symlink_to(work / "nowhere.jsonl")
    cases.append(Case("fs", "run dangling symlink", run_args(work / "dangling.jsonl", "dangling")))
    cases.append(Case("fs", "run missing input", run_args(work / "missing.jsonl", "missing")))
    (work / "empty_dir").mkdir()
    cases.append(Case("fs", "run empty folder", run_args(work / "empty_dir", "empty_dir")))
    cases.append(Case("fs", "inspect missing input", ["inspect", str(work / "missing.jsonl")]))

    # --- configs and seeds
    configs = {
        "garbage_yaml": "[}", "yaml_list": "- a\n- b\n", "unknown_key": f"inputs: [{good}]\nbogus: 1\n",
        "seed_negative": f"inputs: [{good}]\nseed: -1\n", "seed_huge": f"inputs: [{good}]\nseed: {2**70}\n",
        "split_seed_huge": f"inputs: [{good}]\nsplit:\n  seed: {2**64}\n",
        "minhash_seed_negative": f"inputs: [{good}]\nnear_dedup:\n  seed: -5\n",
        "seed_string": f"inputs: [{good}]\nseed: abc\n", "tab_indented": "inputs:\n\t- x\n",
        "binary_yaml": "\x00\x01\x02", "inputs_number": "inputs: 5\n",
        "ratio_too_big": f"inputs: [{good}]\nsplit:\n  validation: 2\n",
    }
    for name, text in configs.items():
        path = work / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        cases.append(Case("config", f"run config {name}", ["run", str(path), "--out", str(work / "out" / name),
                                                           "-q", "--export", "none"]))
    cases += [
        Case("config", "run --seed -1", run_args(good, "seed_flag", "--seed", "-1")),
        Case("config", "run --seed 2**70", run_args(good, "seed_flag2", "--seed", str(2**70))),
        Case("config", "run --workers 0", ["run", "-i", str(good), "--out", str(work / "out" / "w0"), "-q",
                                           "--export", "none", "--workers", "0"], expect="any"),
        Case("config", "run --workers -3", ["run", "-i", str(good), "--out", str(work / "out" / "w3"), "-q",
                                            "--export", "none", "--workers", "-3"]),
        Case("config", "run --set without =", run_args(good, "set1", "--set", "nonsense")),
        Case("config", "run --set unknown.key=1", run_args(good, "set2", "--set", "unknown.key=1")),
        Case("config", "run config is a folder", ["run", str(work), "-q"]),
        Case("config", "run config missing", ["run", str(work / "nope.yaml"), "-q"]),
        Case("config", "run --export unknown", ["run", "-i", str(good), "--out", str(work / "out" / "xu"), "-q",
                                                "--export", "nosuch"]),
        Case("config", "run --train unknown backend", run_args(good, "train_unknown", "--train", "nosuch")),
    ]

    # --- defect 6: output folders
    (work / "a_file").write_text("x")
    cases += [
        Case("out", "run --out is a file", ["run", "-i", str(good), "--out", str(work / "a_file"), "-q",
                                            "--export", "none"]),
        Case("out", "run --out under a file", ["run", "-i", str(good), "--out", str(work / "a_file" / "sub"), "-q",
                                               "--export", "none"]),
        Case("out", "run --out /dev/null", ["run", "-i", str(good), "--out", "/dev/null", "-q", "--export", "none"]),
        Case("out", "run --out under /proc", ["run", "-i", str(good), "--out", "/proc/curation-run", "-q",
                                              "--export", "none"]),
        Case("out", "run --out under /sys", ["run", "-i", str(good), "--out", "/sys/curation-run", "-q",
                                             "--export", "none"]),
        Case("out", "run --out empty string", ["run", "-i", str(good), "--out", "", "-q", "--export", "none"],
             expect="any"),
        Case("out", "run ulimit -f 4 KiB", run_args(good, "ulimit"), fsize=4096),
        Case("out", "run ulimit -f 64 KiB with exports", ["run", "-i", str(good), "--out",
                                                           str(work / "out" / "ulimit64"), "-q"], fsize=65536,
             expect="any"),
    ]
    out_loop = work / "out_loop"
    out_loop.symlink_to(out_loop)
    cases.append(Case("out", "run --out a symlink loop", ["run", "-i", str(good), "--out", str(out_loop), "-q",
                                                          "--export", "none"]))
    ro, full = mounts.get("ro"), mounts.get("full")
    need = None if ro else "root (tmpfs mount) for a read-only filesystem"
    cases.append(Case("out", "run --out on a read-only filesystem", ["run", "-i", str(good), "--out",
                      str((ro or work) / "run"), "-q", "--export", "none"], needs=need))
    need_full = None if full else "root (tmpfs mount) for a full disk"
    cases.append(Case("out", "run --out on a full disk", ["run", "-i", str(_jsonl(work / "many.jsonl", [
        _record(i, "m") for i in range(3000)])), "--out", str((full or work) / "run"), "-q", "--export", "none"],
        needs=need_full))

    # --- export of damaged run folders
    def damaged(name: str, damage: Callable[[Path], None]) -> Path:
        run = work / "runs" / name
        shutil.copytree(good_run, run, symlinks=True)
        damage(run)
        return run

    def append_line(line: bytes, reseal: bool) -> Callable[[Path], None]:
        def damage(run: Path) -> None:
            with (run / "splits" / "train.jsonl").open("ab") as fh:
                fh.write(line + b"\n")
            if reseal:
                _manifest_reseal(run)
        return damage

    export_damage: dict[str, Callable[[Path], None]] = {
        "split line 42": append_line(b"42", False), "split line null": append_line(b"null", False),
        "split line 42 resealed": append_line(b"42", True), "split line null resealed": append_line(b"null", True),
        "split line [] resealed": append_line(b"[]", True), "split line not json resealed": append_line(b"{nope",
                                                                                                     True),
        "split record without messages resealed": append_line(b'{"id": "x"}', True),
        "split record messages 5 resealed": append_line(b'{"id": "y", "messages": 5}', True),
        "garbled manifest": lambda r: (r / "manifest.json").write_bytes(b'{"tool": "cura'),
        "manifest a list": lambda r: (r / "manifest.json").write_bytes(b"[1, 2]"),
        "manifest of another version": lambda r: (r / "manifest.json").write_bytes(orjson.dumps(
            {**orjson.loads((r / "manifest.json").read_bytes()), "manifest_version": 99})),
        "manifest files not a dict": lambda r: (r / "manifest.json").write_bytes(orjson.dumps(
            {**orjson.loads((r / "manifest.json").read_bytes()), "files": [1]})),
        "manifest files entry a string": lambda r: (r / "manifest.json").write_bytes(orjson.dumps(
            {**orjson.loads((r / "manifest.json").read_bytes()), "files": {"splits/train.jsonl": "x"}})),
        "no manifest": lambda r: (r / "manifest.json").unlink(),
        "report.json a list (only a hint for export)": lambda r: (r / "report.json").write_bytes(b"[1]"),
        "report.json garbled": lambda r: (r / "report.json").write_bytes(b"{"),
        "report.json missing (only a hint for export)": lambda r: (r / "report.json").unlink(),
        "config.yaml garbled (not read by export)": lambda r: (r / "config.yaml").write_text("[}"),
        "splits a file": lambda r: (shutil.rmtree(r / "splits"), (r / "splits").write_text("x")),
        "train split missing": lambda r: (r / "splits" / "train.jsonl").unlink(),
    }
    for name, damage in export_damage.items():
        run = damaged(name.split(" (")[0].replace(" ", "_").replace("[]", "list"), damage)
        # A record a provider cannot take refuses that target (exit 0, exit 1 under --strict), others fail.
        refused = "without messages" in name or "messages 5" in name
        cases.append(Case("export", f"export {name}", ["export", str(run), "--to", "openai,hf"],
                          expect="any" if "(" in name or refused else "error",
                          check=_says("refused") if refused else None))
        if refused:
            cases.append(Case("export", f"export {name} --strict", ["export", str(run), "--to", "openai,hf",
                                                                    "--strict"]))
    cases += [
        Case("export", "export missing folder", ["export", str(work / "nope"), "--to", "openai"]),
        Case("export", "export of a file", ["export", str(good), "--to", "openai"]),
        Case("export", "export --to unknown", ["export", str(good_run), "--to", "nosuch"]),
        Case("export", "export --cap garbage", ["export", str(good_run), "--cap", "openai=lots"]),
        Case("export", "export --method bad", ["export", str(good_run), "--method", "rl"]),
        Case("export", "export ulimit -f 4 KiB", ["export", str(damaged("ulimit", lambda r: None)), "--to",
                                                  "openai,hf"], fsize=4096),
    ]
    if ro:
        cases.append(Case("export", "export on a read-only filesystem", ["export", str(ro / "good_run"), "--to",
                                                                         "openai"]))
    else:
        cases.append(Case("export", "export on a read-only filesystem", [], needs=need))
    if full:
        cases.append(Case("export", "export on a full disk", ["export", str(full / "good_run"), "--to", "openai,hf"]))
    else:
        cases.append(Case("export", "export on a full disk", [], needs=need_full))

    # --- defect 6/7: the UI
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    cases.append(Case("ui", "ui --port 70000", ["ui", str(good_run), "--port", "70000"], timeout=30))
    cases.append(Case("ui", "ui --port -1", ["ui", str(good_run), "--port", "-1"], timeout=30))
    cases.append(Case("ui", "ui --port in use", ["ui", str(good_run), "--port", str(busy_port)], timeout=60))
    cases.append(Case("ui", "ui --host 0.0.0.0 without password", ["ui", str(good_run), "--host", "0.0.0.0",
                      "--port", str(_free_port())], timeout=30,
                      env={"CURATION_UI_USER": None, "CURATION_UI_PASSWORD": None}))
    cases.append(Case("ui", "ui CURATION_UI_USER without password", ["ui", str(good_run), "--port",
                      str(_free_port())], timeout=30, env={"CURATION_UI_USER": "alice", "CURATION_UI_PASSWORD": None}))
    cases.append(Case("ui", "ui CURATION_UI_PASSWORD without user", ["ui", str(good_run), "--port",
                      str(_free_port())], timeout=30, env={"CURATION_UI_USER": None, "CURATION_UI_PASSWORD": "pw"}))
    cases.append(Case("ui", "ui --host unresolvable", ["ui", str(good_run), "--host", "no-such-host.invalid",
                      "--port", str(_free_port())], timeout=60, env={"CURATION_UI_USER": "alice",
                                                                     "CURATION_UI_PASSWORD": "pw"}))
    cases.append(Case("ui", "ui of an incomplete folder", ["ui", str(damaged("ui_incomplete",
                      lambda r: (r / "manifest.json").unlink()))], timeout=30))
    cases.append(Case("ui", "ui of a missing folder", ["ui", str(work / "nope")], timeout=30))
    login = {"CURATION_UI_USER": "alice", "CURATION_UI_PASSWORD": "pw"}
    for name, damage in {"report.json a list": lambda r: (r / "report.json").write_bytes(b"[1]"),
                         "report.json garbled": lambda r: (r / "report.json").write_bytes(b"{"),
                         "report.json missing": lambda r: (r / "report.json").unlink(),
                         "config.yaml garbled": lambda r: (r / "config.yaml").write_text("[}")}.items():
        cases.append(Case("ui", f"ui of a folder with {name}", ["ui", str(damaged("ui_" + name.replace(" ", "_"),
                          damage)), "--port", str(_free_port())], expect="any", timeout=25, serves=True))
    cases.append(Case("ui", "ui --host 0.0.0.0 with a login (serves)", ["ui", str(good_run), "--host", "0.0.0.0",
                      "--port", str(_free_port())], expect="any", timeout=25, serves=True, env=login))
    cases.append(Case("ui", "ui --host 0.0.0.0 --insecure-no-auth (serves)", ["ui", str(good_run), "--host",
                      "0.0.0.0", "--port", str(_free_port()), "--insecure-no-auth"], expect="any", timeout=25,
                      serves=True, env={"CURATION_UI_USER": None, "CURATION_UI_PASSWORD": None}))
    cases.append(Case("ui", "ui of a file", ["ui", str(good)], timeout=30))
    cases[-1].keepalive = busy  # type: ignore[attr-defined]

    # --- jobs
    (work / "garbage.sqlite").write_bytes(b"this is not a database\n" * 100)
    (work / "db_dir").mkdir()
    for name, db in {"garbage file": work / "garbage.sqlite", "a folder": work / "db_dir", "/dev/null":
                     Path("/dev/null"), "under a missing folder": work / "no" / "such" / "jobs.sqlite",
                     "under a file": work / "a_file" / "jobs.sqlite", "/dev/zero": Path("/dev/zero")}.items():
        cases.append(Case("jobs", f"jobs list --db {name}", ["jobs", "list", "--db", str(db)],
                          expect="any" if "missing" in name else "error"))
    cases += [
        Case("jobs", "jobs show unknown id", ["jobs", "show", "nosuch", "--db", str(work / "jobs.sqlite")]),
        Case("jobs", "jobs logs unknown id", ["jobs", "logs", "nosuch", "--db", str(work / "jobs.sqlite")]),
        Case("jobs", "jobs cancel unknown id", ["jobs", "cancel", "nosuch", "--db", str(work / "jobs.sqlite")]),
        Case("jobs", "train unknown backend", ["train", str(good_run), "--backend", "nosuch"]),
        Case("jobs", "train incomplete folder", ["train", str(damaged("train_incomplete",
             lambda r: (r / "manifest.json").unlink())), "--backend", "hf-local", "--model", str(work)]),
    ]

    # --- environment
    cases += [
        Case("env", "inspect with stdout on /dev/full", ["inspect", str(good)], stdout="/dev/full"),
        Case("env", "inspect with stdout a closed pipe", ["inspect", str(good)], stdout="closed-pipe",
             expect="any"),
        Case("env", "run with TMPDIR missing", run_args(good, "tmpdir"), env={"TMPDIR": str(work / "no_tmp")},
             expect="ok", check=_records_in(work / "out" / "tmpdir", 12)),
        Case("env", "run with HOME unset", run_args(good, "nohome"), env={"HOME": None}, expect="ok",
             check=_records_in(work / "out" / "nohome", 12)),
        Case("env", "run with LC_ALL=C and a non-ASCII path", run_args(shutil.copy(good, work / "données.jsonl"),
             "lc_all"), env={"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": None}, expect="ok",
             check=_records_in(work / "out" / "lc_all", 12)),
    ]
    return cases


# ------------------------------------------------------------------------------------------------ running


def _classify(case: Case, proc: subprocess.CompletedProcess[str] | None, seconds: float) -> Outcome:
    if proc is None:
        return Outcome(case, "hang", None, seconds, f"still running after {case.timeout:.0f}s")
    text = (proc.stdout or "") + (proc.stderr or "")
    err = [line for line in (proc.stderr or "").splitlines() if line.strip()]
    # Warnings, and the one line per refused export target (`openai/sft: refused, ...`), are not extra errors.
    errors = [line for line in err if not line.lower().startswith("warning") and ": refused, " not in line]
    first = (errors or err or [""])[0][:150]
    if TRACEBACK in text:
        tail = [line for line in text.splitlines() if line.strip()][-1:]
        return Outcome(case, "traceback", proc.returncode, seconds, (tail or [""])[0][:150])
    if case.stdout == "closed-pipe" and proc.returncode and not err:
        return Outcome(case, "clean", proc.returncode, seconds, "exit 1 on a closed pipe, nothing to say it to")
    if proc.returncode < 0:
        return Outcome(case, "unclear", proc.returncode, seconds, f"killed by signal {-proc.returncode}")
    if proc.returncode == 0:
        problem = case.check(proc) if case.check else None
        if case.expect == "error" or problem:
            return Outcome(case, "wrong", 0, seconds, problem or "exit 0 where a refusal was expected")
        return Outcome(case, "ok", 0, seconds, (err or [""])[-1][:150])
    usage = "Usage:" in text and ("Error" in text or "Invalid value" in text)
    if len(errors) == 1 or usage:
        kind = "wrong" if case.expect == "ok" else "clean"
        return Outcome(case, kind, proc.returncode, seconds, first if not usage else
                       next((ln.strip(" │╭╰─") for ln in err if "Invalid" in ln or "Error" in ln or "No such" in ln),
                            first))
    return Outcome(case, "unclear", proc.returncode, seconds, f"{len(errors)} lines: {first}")


def run_case(case: Case) -> Outcome:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    env["PYTHONUNBUFFERED"] = "1"  # a server killed at the timeout has still said what it serves
    for key, value in case.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value

    def limits() -> None:
        if case.fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (case.fsize, case.fsize))

    stdout: int | object = subprocess.PIPE
    opened = None
    if case.stdout == "closed-pipe":
        read_end, write_end = os.pipe()
        os.close(read_end)
        stdout = write_end
    elif case.stdout:
        opened = open(case.stdout, "wb")  # noqa: SIM115 - closed below
        stdout = opened
    start = time.monotonic()
    try:
        child = subprocess.Popen(CURATE + case.argv, stdin=subprocess.DEVNULL, stdout=stdout,
                                 stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True, preexec_fn=limits,
                                 start_new_session=True)
        try:
            out, err = child.communicate(timeout=case.timeout)
            proc = subprocess.CompletedProcess(child.args, child.returncode, out or "", err or "")
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, 9)
            out, err = child.communicate()
            proc = None
            if case.serves and "Running on" in (out or "") + (err or "") and TRACEBACK not in (err or ""):
                return Outcome(case, "ok", None, time.monotonic() - start, f"served for {case.timeout:.0f}s")
    finally:
        if case.stdout == "closed-pipe":
            os.close(stdout)  # type: ignore[arg-type]
        if opened is not None:
            opened.close()
    return _classify(case, proc, time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run only cases whose group or name contains this")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="curation-adversarial-"))
    outcomes: list[Outcome] = []
    skipped: list[Case] = []
    with contextlib.ExitStack() as stack:
        if not args.keep:  # runs last, after the mounts are undone, also when a case setup fails
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        mounts: dict[str, Path] = {}
        (work / "out").mkdir()
        good_run = work / "good_run"
        data = _jsonl(work / "seed.jsonl", [_record(i, "g") for i in range(40)])
        made = subprocess.run(CURATE + ["run", "-i", str(data), "--out", str(good_run), "-q", "--export", "none"],
                              cwd=ROOT, capture_output=True, text=True)
        if made.returncode:
            sys.stderr.write(f"could not make the good run folder: {made.stderr}\n")
            return 2
        if os.geteuid() == 0:
            if stack.enter_context(_tmpfs(work / "ro", "size=4m")):
                shutil.copytree(good_run, work / "ro" / "good_run")
                subprocess.run(["mount", "-o", "remount,ro", str(work / "ro")], check=False)
                mounts["ro"] = work / "ro"
            if stack.enter_context(_tmpfs(work / "full", "size=160k")):
                shutil.copytree(good_run, work / "full" / "good_run")
                with contextlib.suppress(OSError), (work / "full" / "filler").open("wb") as filler:
                    while True:  # the disk is full from the start (the run case is refused before work)
                        filler.write(b"\0" * 4096)
                        filler.flush()
                mounts["full"] = work / "full"
        cases = build_cases(work, good_run, mounts)
        if args.only:
            cases = [c for c in cases if args.only in c.group or args.only in c.name]
        for case in cases:
            if case.needs:
                skipped.append(case)
                continue
            outcome = run_case(case)
            outcomes.append(outcome)
            print(f"{outcome.kind:9} {outcome.case.group:6} {outcome.case.name[:60]:60} "
                  f"rc={outcome.code} {outcome.seconds:5.1f}s  {outcome.line}", flush=True)

    kinds = Counter(o.kind for o in outcomes)
    print()
    print("| kinds tried | clean errors | ok | tracebacks | hangs | unclear | wrong | skipped |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {len(outcomes)} | {kinds['clean']} | {kinds['ok']} | {kinds['traceback']} | {kinds['hang']} | "
          f"{kinds['unclear']} | {kinds['wrong']} | {len(skipped)} |")
    for case in skipped:
        print(f"skipped: {case.name} (needs {case.needs})")
    slowest = max(outcomes, key=lambda o: o.seconds, default=None)
    if slowest:
        print(f"slowest: {slowest.case.name} {slowest.seconds:.1f}s")
    if args.json:
        args.json.write_text(json.dumps([{"group": o.case.group, "name": o.case.name, "kind": o.kind,
                                          "code": o.code, "seconds": round(o.seconds, 2), "line": o.line}
                                         for o in outcomes], indent=1, ensure_ascii=False))
    bad = kinds["traceback"] + kinds["hang"] + kinds["unclear"] + kinds["wrong"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
