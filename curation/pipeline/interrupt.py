"""A run folder that was stopped part way must never look complete, and a re-run must say what it found.

A run writes ``.work/`` first and removes it last, and ``manifest.json`` is written only at the very end, so
"``.work/`` present" means "a run started here and did not finish". On Ctrl-C the runner calls
:func:`mark_interrupted`: partial splits go, and ``.work/INTERRUPTED`` says what happened. The next run
into the folder calls :func:`prepare_run_dir`, which removes what the previous run left and returns one
sentence saying so (and, when finished shards were kept, the runner then says whether it resumes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from ..errors import ConfigError, Interrupted, Terminated
from ..run_folder import EXPORT_SEAL

MARKER = "INTERRUPTED"
# Outputs of a finished run: removed before a new run starts, so an interrupted re-run cannot leave the old
# manifest and report beside new, partial splits. Human review decisions (review.sqlite) are kept.
_OUTPUT_DIRS = ("splits", "exports", ".work")
_OUTPUT_FILES = ("manifest.json", "report.json", "report.html", "report.md", "rejects.jsonl", "config.yaml",
                 EXPORT_SEAL)


SHARDS = "shards"


def _made_by_a_run(run_dir: Path) -> bool:
    """Whether a curate run wrote ``run_dir``: its manifest, its work folder, or (a run killed just before it
    wrote its manifest, when .work is already gone) its report.json."""
    if (run_dir / "manifest.json").exists() or (run_dir / ".work").exists():
        return True
    try:
        report = orjson.loads((run_dir / "report.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(report, dict) and "records_in" in report and "records_out" in report


def _holds_something(path: Path) -> bool:
    if path.is_dir() and not path.is_symlink():
        return any(path.iterdir())
    return path.exists() or path.is_symlink()


def _clear_work(work: Path, keep_shards: bool) -> None:
    """Remove ``work``, or everything in it but ``shards/`` (finished phase-1 shards a re-run may reuse)."""
    if not keep_shards or not (work / SHARDS).is_dir():
        shutil.rmtree(work, ignore_errors=True)
        return
    for child in work.iterdir():
        if child.name == SHARDS:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def unfinished_run(run_dir: Path) -> tuple[str, str] | None:
    """``(what happened, how to go on)`` for a run folder whose run started and did not finish, else None."""
    work = Path(run_dir) / ".work"
    if not work.is_dir():
        return None
    marker = work / MARKER
    if not marker.is_file():
        return ("the run into this folder did not finish, or is still running (no splits yet)",
                f"wait for it, or re-run the same `curate run ... --out {run_dir}` command")
    shards = any((work / SHARDS).glob("*/done"))
    return ("its run was interrupted before it wrote its splits",
            f"re-run the same `curate run ... --out {run_dir}` command to "
            + ("resume it (its finished shards are reused)" if shards else "start it over") + ", then export")


def prepare_run_dir(run_dir: Path, *, keep_shards: bool = True) -> str | None:
    """Empty ``run_dir`` of a previous run's outputs; returns a notice when there was one, else None.

    ``.work/shards`` of an unfinished run stays when ``keep_shards``: the runner reuses the shards whose
    ``done`` marker exists if the run's key (``plan.json``) matches, and discards them otherwise."""
    if not run_dir.exists():
        return None
    if not _made_by_a_run(run_dir):
        # No run was ever here: what carries an output's name is the user's own (an `exports/` folder of theirs,
        # a report.md), and a run would delete it.
        theirs = [name for name in (*_OUTPUT_DIRS, *_OUTPUT_FILES) if _holds_something(run_dir / name)]
        if theirs:
            raise ConfigError(
                f"--out {run_dir} holds {', '.join(theirs)} but no earlier curate run (no manifest.json): a run "
                "would replace them", hint="choose an empty or new --out folder, or move those files away")
    notice = None
    if (run_dir / ".work").exists():
        how = "was interrupted" if (run_dir / ".work" / MARKER).exists() else "did not finish"
        kept = keep_shards and (run_dir / ".work" / SHARDS).is_dir()
        # Not "starting over": with finished shards kept, the runner then says whether it resumes from them.
        notice = (f"the previous run in {run_dir} {how}: its partial outputs were removed"
                  + (", its finished shards kept for reuse" if kept else ""))
    elif (run_dir / "manifest.json").exists():
        notice = f"starting over: replacing the previous run in {run_dir} (review decisions are kept)"
    for name in _OUTPUT_DIRS:
        if name == ".work":
            _clear_work(run_dir / name, keep_shards)
        else:
            shutil.rmtree(run_dir / name, ignore_errors=True)
    for name in _OUTPUT_FILES:
        (run_dir / name).unlink(missing_ok=True)
    return notice


def mark_interrupted(run_dir: Path, stop: KeyboardInterrupt) -> Interrupted:
    """Remove partial outputs of a stopped run, leave the marker, and return the error to raise (exit 130 for
    Ctrl-C, 143 when ``stop`` is SIGTERM's :class:`~curation.errors.Terminated`)."""
    terminated = isinstance(stop, Terminated)
    what = "terminated (SIGTERM)" if terminated else "interrupted"
    shards = False
    if run_dir.exists():
        shutil.rmtree(run_dir / "splits", ignore_errors=True)
        shutil.rmtree(run_dir / "exports", ignore_errors=True)
        for name in _OUTPUT_FILES:
            (run_dir / name).unlink(missing_ok=True)
        work = run_dir / ".work"
        # The main process's partial rejects and signatures are of no use to a re-run; finished shards are
        # (a re-run with the same config and inputs reuses them).
        _clear_work(work, keep_shards=True)
        shards = any((work / SHARDS).glob("*/done"))
        work.mkdir(parents=True, exist_ok=True)
        (work / MARKER).write_text(f"this run was {what}; re-run the same command to "
                                   f"{'resume' if shards else 'start over'}\n", encoding="utf-8")
    # Once the run has finished its shards (an interrupt while exporting), none are left to resume from.
    hint = ("re-run the same command to resume (finished shards are reused)" if shards
            else "re-run the same command")
    return Interrupted(f"{what}; {run_dir} is incomplete (no splits or report were kept)", hint=hint,
                       exit_code=143 if terminated else 130)
