"""The run folder as a transaction: one writer at a time, and a manifest that says whether it is whole.

``curate run --out RUN_DIR`` takes ``RUN_DIR/.lock`` (holder pid, host and command) for the whole run, and
``curate export`` and ``curate retarget`` for theirs, so a second command into the same folder is refused
instead of interleaving its files with the first (an export read a run's half-replaced splits and called the
empty export "written"); a lock whose pid is
dead on this host is stale and taken over. Before it changes anything the run removes ``manifest.json``
(the folder is then visibly incomplete), and it writes the manifest last, with the line count and sha256
of every split and of ``rejects.jsonl``. So at every moment the folder is the old complete run, the new
complete run, or visibly incomplete; ``curate export`` and ``curate ui`` call :func:`verify` and refuse
the last case, and a folder whose files no longer match their manifest.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .errors import CurationError

MANIFEST = "manifest.json"
LOCK = ".lock"
# Bumped when the manifest's meaning changes; a folder written under another version is refused, not misread.
MANIFEST_VERSION = 1
SEALED = ("rejects.jsonl",)  # besides splits/*.jsonl


class RunFolderError(CurationError):
    """A run folder that is in use, incomplete, damaged or from another version."""


# --------------------------------------------------------------------------------------------- the lock

_held: dict[Path, Path] = {}  # run folder (resolved) -> its lock file, for the locks this process holds


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _read_lock(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def acquire(run_dir: Path, by: str = "curate run") -> None:
    """Take ``RUN_DIR/.lock`` for the command ``by`` or raise RunFolderError naming the holder.

    The lock file is written under a temporary name and hard-linked into place, so it never exists
    half-written and two runs cannot both create it. This process may take its own lock again.
    """
    run_dir = Path(run_dir)
    lock = run_dir / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": int(time.time()), "by": by}
    tmp = run_dir / f".lock.tmp-{os.getpid()}"
    tmp.write_bytes(orjson.dumps(me))
    try:
        for _attempt in range(3):
            try:
                os.link(tmp, lock)
                break
            except FileExistsError:
                holder = _read_lock(lock)
                if holder is None:  # garbled (a crash while the old format was written): stale
                    with contextlib.suppress(FileNotFoundError):
                        lock.unlink()
                    continue
                pid, host = holder.get("pid"), holder.get("host")
                if pid == me["pid"] and host == me["host"]:
                    break  # ours already (a second run in this process)
                if host == me["host"] and isinstance(pid, int) and not _pid_alive(pid):
                    with contextlib.suppress(FileNotFoundError):  # stale: its holder died (kill -9, power cut)
                        lock.unlink()
                    continue
                holder_by = holder.get("by") if isinstance(holder.get("by"), str) else "curate run"
                raise RunFolderError(
                    f"run folder is in use by another `{holder_by}` (pid {pid} on {host})",
                    hint=f"wait for it to finish{' or choose another --out' if by == 'curate run' else ''}; "
                    f"if that process is gone, delete {lock}",
                    where=str(run_dir),
                ) from None
        else:
            raise RunFolderError("could not take the run folder's lock", hint=f"delete {lock} and retry",
                                 where=str(run_dir))
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _held[run_dir.resolve()] = lock


def release(run_dir: Path) -> None:
    """Give the lock back (only if this process holds it)."""
    lock = _held.pop(Path(run_dir).resolve(), None)
    if lock is None:
        return
    holder = _read_lock(lock)
    if holder is not None and holder.get("pid") == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


@contextlib.contextmanager
def locked(run_dir: Path, by: str) -> Iterator[None]:
    """Hold the run folder's lock around the block; a lock this process holds already (the export at the end
    of `curate run`) stays with its holder and is not given back here."""
    if Path(run_dir).resolve() in _held:
        yield
        return
    acquire(run_dir, by)
    try:
        pause_point("export_locked")
        yield
    finally:
        release(run_dir)


# --------------------------------------------------------------------------------------------- transaction


def pause_point(name: str) -> None:
    """A named moment of a run where tests kill it (so a test need not guess timings).

    ``CURATION_KILL_AT=name``: the process sends itself SIGKILL there (a power cut, ``kill -9``).
    ``CURATION_PAUSE_AT=name``: it writes ``$CURATION_PAUSE_FILE`` and waits there to be killed, or for the
    marker to be removed. Points: after_begin, per_record, after_shard_<n> (shard n consumed; a test stops
    a run after k shards), global_decisions, writing_splits, writing_rejects, before_swap, between_swaps,
    before_manifest; and inspect_batch, export_batch (each batch an executor ran
    for `curate inspect` or for export's pass on workers), export_locked (an export or retarget holds the
    folder's lock); workers_starting (a worker pool has just
    started, still inside the window where Ctrl-C is held back).
    """
    if os.environ.get("CURATION_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("CURATION_PAUSE_AT") != name:
        return
    marker = os.environ.get("CURATION_PAUSE_FILE")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    while True:  # until the test kills us, or removes the marker to let the run go on
        time.sleep(0.05)
        if not marker or not Path(marker).exists():
            return


def clean_stale(run_dir: Path) -> None:
    """Remove what a killed run or export left: temporary files and hidden staging folders of dead pids."""
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / "splits", run_dir / "exports"):
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            name = child.name
            stale = name.endswith(".tmp")  # the runner's splits/*.jsonl.tmp, report.json.tmp
            if ".tmp-" in name or ".old-" in name:  # atomic_writer files and export staging folders
                pid = name.rsplit("-", 1)[-1]
                stale = not pid.isdigit() or not _pid_alive(int(pid)) or int(pid) == os.getpid()
            if not stale or name == LOCK:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    child.unlink()


def begin(run_dir: Path) -> None:
    """Start changing a run folder: the manifest goes first, so a crash from here on is visibly incomplete."""
    run_dir = Path(run_dir)
    with contextlib.suppress(FileNotFoundError):
        (run_dir / MANIFEST).unlink()
    clean_stale(run_dir)


def _file_entry(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return {"lines": lines, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def sealed_files(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Line count, size and sha256 of each split and of the rejects, keyed by path inside the folder."""
    run_dir = Path(run_dir)
    entries: dict[str, dict[str, Any]] = {}
    splits = run_dir / "splits"
    names = sorted(p.name for p in splits.glob("*.jsonl")) if splits.is_dir() else []
    for name in names:
        entries[f"splits/{name}"] = _file_entry(splits / name)
    for name in SEALED:
        if (run_dir / name).is_file():
            entries[name] = _file_entry(run_dir / name)
    return entries


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` last, with the seal of the files as they are now (atomically, fsynced)."""
    run_dir = Path(run_dir)
    data = {**manifest, "manifest_version": MANIFEST_VERSION, "files": sealed_files(run_dir)}
    tmp = run_dir / f".{MANIFEST}.tmp-{os.getpid()}"
    with tmp.open("wb") as fh:
        fh.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, run_dir / MANIFEST)


@contextlib.contextmanager
def rewriting(run_dir: Path) -> Iterator[None]:
    """Around a step that rewrites a complete run's splits or rejects (review decisions): the manifest is
    removed first and written back, resealed, last. A folder that was not complete before stays unsealed; one
    whose files already differ from their manifest is refused rather than sealed as if it were whole."""
    run_dir = Path(run_dir)
    manifest = verify(run_dir) if (run_dir / MANIFEST).exists() else None
    if manifest is not None:
        (run_dir / MANIFEST).unlink()
    yield
    if manifest is not None:
        write_manifest(run_dir, manifest)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest, or RunFolderError when it is missing, garbled or from another version."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    rerun = f"re-run `curate run --out {run_dir}`"
    if not path.is_file():
        raise RunFolderError("the run folder is incomplete: no manifest.json (a run was interrupted, or is still "
                             "running)", hint=rerun, where=str(run_dir))
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise RunFolderError(f"manifest.json is not valid JSON ({exc})", hint=rerun, where=str(path)) from None
    except OSError as exc:
        raise RunFolderError(f"cannot read manifest.json: {exc.strerror or exc}", hint="check its permissions",
                             where=str(path)) from None
    if not isinstance(data, dict) or data.get("tool") != "curation":
        raise RunFolderError("manifest.json was not written by curation", hint=rerun, where=str(path))
    version = data.get("manifest_version")
    if version != MANIFEST_VERSION or not isinstance(data.get("files"), dict):
        raise RunFolderError(f"manifest.json is of another version ({version!r}; this curation reads "
                             f"{MANIFEST_VERSION})", hint=rerun, where=str(path))
    return data


def verify(run_dir: Path) -> dict[str, Any]:
    """Refuse a run folder that is incomplete or whose files differ from its manifest; returns the manifest."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    expected: dict[str, Any] = manifest["files"]
    actual = sealed_files(run_dir)
    hint = f"the folder was changed or a run was interrupted; re-run `curate run --out {run_dir}`"
    for name in sorted(set(expected) | set(actual)):
        want, have = expected.get(name), actual.get(name)
        if have is None:
            raise RunFolderError(f"{name} is missing but listed in manifest.json", hint=hint, where=str(run_dir))
        if not isinstance(want, dict):
            raise RunFolderError(f"{name} is not listed in manifest.json", hint=hint, where=str(run_dir))
        if want.get("lines") != have["lines"] or want.get("sha256") != have["sha256"]:
            raise RunFolderError(
                f"{name} does not match manifest.json ({have['lines']:,} lines, manifest says "
                f"{want.get('lines')!r})", hint=hint, where=str(run_dir))
    return manifest


# --------------------------------------------------------------------------------------------- export seal
# The manifest seals the splits and rejects; the exports are written later, by other commands, so each export
# folder is sealed when it is swapped in: the size, mtime and sha256 of its files and the digest of the splits
# it was made from. It lives beside the manifest, not in exports/, so deleting exports/ is noticed too.
EXPORT_SEAL = ".exports-seal.json"
EXPORT_SEAL_VERSION = 1


def _splits_digest(run_dir: Path) -> str | None:
    """One digest of the splits as the manifest seals them (None without a readable manifest)."""
    try:
        files = read_manifest(run_dir)["files"]
    except RunFolderError:
        return None
    listing = sorted((name, entry.get("sha256")) for name, entry in files.items()
                     if name.startswith("splits/") and isinstance(entry, dict))
    return hashlib.sha256(orjson.dumps(listing)).hexdigest()


def _read_export_seal(run_dir: Path) -> dict[str, Any]:
    try:
        data = orjson.loads((Path(run_dir) / EXPORT_SEAL).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    ok = isinstance(data, dict) and data.get("version") == EXPORT_SEAL_VERSION and isinstance(data.get("exports"),
                                                                                                  dict)
    return data["exports"] if ok else {}


def _export_entry(path: Path) -> dict[str, Any]:
    entry = _file_entry(path)
    return {"bytes": entry["bytes"], "sha256": entry["sha256"]}


def seal_export(run_dir: Path, target: str) -> None:
    """Seal ``exports/<target>/`` (``target`` is ``<format>/<kind>``) as it is now; called once it is in place."""
    run_dir = Path(run_dir)
    folder = run_dir / "exports" / target
    seal = _read_export_seal(run_dir)
    seal[target] = {"splits": _splits_digest(run_dir),
                    "files": {p.relative_to(folder).as_posix(): _export_entry(p)
                              for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}}
    tmp = run_dir / f".{EXPORT_SEAL}.tmp-{os.getpid()}"
    tmp.write_bytes(orjson.dumps({"version": EXPORT_SEAL_VERSION, "exports": dict(sorted(seal.items()))},
                                 option=orjson.OPT_INDENT_2) + b"\n")
    os.replace(tmp, run_dir / EXPORT_SEAL)


@dataclass(frozen=True, slots=True)
class ExportChange:
    """A sealed export that is no longer what was written: where, what happened, and the command that fixes it."""

    target: str  # <format>/<kind>
    where: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} (fix: {self.fix})"


def export_changes(run_dir: Path, formats: list[str] | None = None) -> dict[str, ExportChange]:
    """``{"<format>/<kind>": change}`` for each sealed export (of ``formats``, or all) whose files were
    deleted or changed since it was written, or that was made from splits the run no longer has.

    Every file is hashed again (no mtimes are kept, so that the seal of two identical runs is identical too).
    """
    run_dir = Path(run_dir)
    found: dict[str, ExportChange] = {}
    splits = None
    for target, entry in _read_export_seal(run_dir).items():
        name = target.split("/")[0]
        if (formats is not None and name not in formats) or not isinstance(entry, dict):
            continue
        folder = run_dir / "exports" / target
        fix = f"re-run `curate export {run_dir} --to {name}`"
        files: dict[str, Any] = entry.get("files") or {}
        if not folder.is_dir():
            found[target] = ExportChange(target, str(folder), "the export was deleted after it was written", fix)
            continue
        missing, changed = [], []
        for rel, want in files.items():
            path = folder / rel
            if not path.is_file():
                missing.append(rel)
            elif path.stat().st_size != want.get("bytes") or _file_entry(path)["sha256"] != want.get("sha256"):
                changed.append(rel)
        for what, rels in (("deleted", missing), ("changed", changed)):
            if rels:
                more = f" (and {len(rels) - 1} more file(s))" if len(rels) > 1 else ""
                found[target] = ExportChange(target, f"{folder / rels[0]}{more}", f"{what} after the export was "
                                             f"written, so exports/{target} is not what was exported", fix)
                break
        else:
            splits = _splits_digest(run_dir) if splits is None else splits
            if entry.get("splits") and splits and entry["splits"] != splits:
                found[target] = ExportChange(target, str(folder), "made from other splits than the run holds now "
                                             "(the run or review decisions changed them since)", fix)
    return dict(sorted(found.items()))


def refuse_changed_export(run_dir: Path, folder: Path, doing: str) -> None:
    """Before ``doing`` uses the export ``folder`` (``RUN/exports/<format>[/<kind>]``): refuse one deleted from or
    edited since it was written, which would be trained on as if it were the curated run."""
    run_dir = Path(run_dir)
    try:
        target = Path(folder).relative_to(run_dir / "exports").as_posix()
    except ValueError:
        return
    change = export_changes(run_dir, [target.split("/")[0]]).get(target)
    if change is not None:
        raise RunFolderError(f"{change.what}; {doing} refused", hint=change.fix, where=change.where)


# What a run writes at the top of its folder, and the folders it fills.
RUN_OUTPUT_FILES = frozenset({MANIFEST, "report.json", "report.html", "report.md", "rejects.jsonl", "config.yaml",
                              LOCK, EXPORT_SEAL})
RUN_OUTPUT_DIRS = ("splits", "exports", ".work", "review")


def is_run_output(path: Path, run_dir: Path) -> bool:
    """Whether ``path`` is one of the outputs of the run folder ``run_dir`` (which an input folder may hold)."""
    try:
        real, root = path.resolve(), run_dir.resolve()
    except (OSError, RuntimeError):  # a symlink loop: check_writable_out says so in one line
        return False
    if real.parent == root and real.name in RUN_OUTPUT_FILES:
        return True
    return any((root / name) in real.parents for name in RUN_OUTPUT_DIRS)


def earlier_run_of(path: Path, root: Path, cache: dict[Path, bool]) -> Path | None:
    """The curate run folder strictly inside the input folder ``root`` that holds ``path`` (an earlier run's
    splits, rejects and reports, which are no inputs), or None. ``cache`` remembers each folder's answer."""
    try:
        root = root.resolve()
        parent = path.resolve().parent
    except (OSError, RuntimeError):
        return None
    while parent != root and root in parent.parents:
        known = cache.get(parent)
        if known is None:
            known = cache[parent] = _is_run_folder(parent)
        if known:
            return parent
        parent = parent.parent
    return None


def _is_run_folder(folder: Path) -> bool:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return (folder / ".work").is_dir() and (folder / "splits").is_dir()  # a run that did not finish
    try:
        data = orjson.loads(manifest.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("tool") == "curation"


def check_writable_out(run_dir: Path) -> None:
    """Before any work: the output folder can be created and written (one line naming the path otherwise)."""
    run_dir = Path(run_dir)
    where = str(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError("--out is a file, not a folder", hint="choose a folder path for the run", where=where)
    try:
        resolved = run_dir.resolve()
    except OSError as exc:
        raise RunFolderError(f"cannot use this path: {exc.strerror or exc}", hint="choose another --out",
                             where=where) from None
    except RuntimeError:  # Python < 3.13: a symlink loop
        raise RunFolderError("cannot use this path: a symlink loop", hint="choose another --out",
                             where=where) from None
    if resolved.parts[:2] in (("/", "proc"), ("/", "sys"), ("/", "dev")):
        raise RunFolderError("--out is under /proc, /sys or /dev", hint="choose a folder on a normal disk",
                             where=where)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        raise os_error(exc, run_dir, "choose a writable --out folder") from None


def check_space(run_dir: Path, input_bytes: int) -> None:
    """Before any work: refuse when the output folder's disk clearly cannot hold the run. A run writes about
    its input's size twice (the kept records spilled to .work, then the splits and rejects beside the old
    ones until the swap), so less free space than that fails hours later with a full disk."""
    need = 2 * input_bytes + (1 << 20)
    try:
        free = shutil.disk_usage(run_dir).free
    except OSError:
        return  # cannot tell: the writes will say
    if free < need:
        raise RunFolderError(
            f"not enough free space for this run: about {need / 1e6:,.1f} MB needed (twice the input), "
            f"{free / 1e6:,.1f} MB free", hint="free disk space or choose --out on another disk", where=str(run_dir))


def os_error(exc: OSError, path: Path | str, fix: str) -> RunFolderError:
    """One line for an OS error while writing: which path, what happened, what to do."""
    where = getattr(exc, "filename", None) or str(path)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return RunFolderError("no space left on the device", hint="free disk space or choose --out on another disk",
                              where=str(where))
    if exc.errno == errno.EFBIG:
        return RunFolderError("file too large for this filesystem or process limit (ulimit -f)",
                              hint="raise `ulimit -f` or write to another filesystem", where=str(where))
    if exc.errno == errno.EROFS:
        return RunFolderError("the filesystem is read-only", hint=fix, where=str(where))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return RunFolderError("permission denied", hint=fix, where=str(where))
    return RunFolderError(f"cannot write: {exc.strerror or exc}", hint=fix, where=str(where))


__all__ = [
    "ExportChange",
    "RunFolderError",
    "acquire",
    "begin",
    "check_space",
    "check_writable_out",
    "clean_stale",
    "export_changes",
    "os_error",
    "pause_point",
    "read_manifest",
    "refuse_changed_export",
    "release",
    "rewriting",
    "seal_export",
    "sealed_files",
    "verify",
    "write_manifest",
]
