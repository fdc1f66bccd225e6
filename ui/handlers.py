"""What the review UI does, as plain functions over the library (tested without a browser).

``ui/app.py`` only lays out components and wires them to these functions. Nothing here recomputes the
pipeline: the run folder's files, the review store, the exporters and the trainer job store do the work.
"""

from __future__ import annotations

import difflib
import html
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from curation.errors import CurationError
from curation.records import is_preference, message_text
from curation.review import QueueFilter, ReviewRecord, ReviewStore, apply_decisions
from curation.review.store import ANY_VALUE
from curation.review.users import UsersFile

ANY = "(any)"
ANY_FLAG = "(any flag)"
ANY_REASON = "(any reject reason)"
MAX_CLUSTER_COLUMNS = 24  # members shown side by side; all of them stay choosable
TODO = "to review"  # the default queue: flagged or rejected by the pipeline, no human verdict yet
STATUSES = [TODO, "unreviewed", "reviewed", "accepted", "rejected", "edited"]
SORT_CHOICES = [("pipeline order", ""), ("quality ↑", "quality"), ("quality ↓", "-quality"),
                ("language score ↑", "language_score"), ("language score ↓", "-language_score"),
                ("similarity ↓", "-similarity"), ("similarity ↑", "similarity"), ("tokens ↓", "-tokens"),
                ("tokens ↑", "tokens")]  # fmt: skip
GUIDELINES = "guidelines.md"


class UIContext:
    """One run folder opened in the UI: its review store, shared by every browser session of the app."""

    def __init__(self, run_dir: str | Path, users: UsersFile | None = None) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.store = ReviewStore(self.run_dir)
        self.users = users  # None: no login (loopback only, the name typed once per browser)

    def is_admin(self, name: str | None) -> bool:
        if self.users is None:
            return True  # one person on their own machine
        user = self.users.get(name or "")
        return bool(user and user.admin)

    def report(self) -> dict[str, Any]:
        path = self.run_dir / "report.json"  # replaced atomically by apply_decisions: a read sees one version
        return orjson.loads(path.read_bytes()) if path.exists() else {}

    def close(self) -> None:
        self.store.close()


def default_reviewer() -> str:
    return os.environ.get("CURATION_UI_USER") or os.environ.get("USER") or "reviewer"


def reviewer_of_record(logged_in: str | None, typed: str | None) -> str:
    """Who a decision is attributed to: the logged-in user (what is typed is ignored), else the typed name."""
    if logged_in:
        return logged_in
    name = (typed or "").strip()
    if not name:
        raise CurationError("no reviewer name yet", hint="type your name in the Reviewer box (asked once per browser)")
    return name


# -- Overview -------------------------------------------------------------------------------------------------
def overview(ctx: UIContext) -> dict[str, Any]:
    """The funnel, reject reasons, split and language mix (as the decisions made so far would leave them)."""
    import pandas as pd

    report = ctx.report()
    steps = report.get("funnel") or []
    funnel = [{"stage": str(s.get("stage")), "count": int(s.get("out", 0)), "kind": "kept"} for s in steps] + [
        {"stage": str(s.get("stage")), "count": int(s.get("dropped", 0)), "kind": "dropped"} for s in steps
    ]
    reasons = [{"reason": r, "count": n} for r, n in ctx.store.facets(["reason"])["reason"]]
    mix = ctx.store.projected_mix()
    splits: dict[str, int] = {}
    languages: dict[tuple[str, str], int] = {}
    for split, language, n in mix:
        splits[split] = splits.get(split, 0) + n
        if split != "rejected":
            key = (split, language or "unknown")
            languages[key] = languages.get(key, 0) + n
    progress = ctx.store.progress()
    summary = (
        f"**Run** `{ctx.run_dir}` · **records** {progress.total:,} · **kept by the pipeline** {progress.kept:,} · "
        f"**rejected by the pipeline** {progress.pipeline_rejected:,}\n\n"
        f"**Reviewed** {progress.reviewed:,} / {progress.total:,} · accepted {progress.accepted:,} · "
        f"rejected {progress.rejected:,} · edited {progress.edited:,} · "
        f"**kept after review** {sum(n for s, n in splits.items() if s != 'rejected'):,}"
    )
    return {
        "summary": summary,
        "stages": [str(s.get("stage")) for s in steps],  # pipeline order, for the chart's x axis
        "funnel": pd.DataFrame(funnel or [{"stage": "-", "count": 0, "kind": "kept"}]),
        "reasons": pd.DataFrame(reasons or [{"reason": "-", "count": 0}]),
        "splits": pd.DataFrame(
            [{"split": s, "records": n} for s, n in splits.items()] or [{"split": "-", "records": 0}]
        ),
        "languages": pd.DataFrame(
            [{"language": lang, "split": s, "records": n} for (s, lang), n in sorted(languages.items())]
            or [{"language": "-", "split": "-", "records": 0}]
        ),
    }


# -- Review ---------------------------------------------------------------------------------------------------
def filter_choices(ctx: UIContext) -> dict[str, list[str]]:
    """Dropdown choices for the queue filters, with (any) first."""
    facets = ctx.store.facets()
    labels = {lab for lab, _ in facets["label"]}
    for (value,) in ctx.store._query("SELECT DISTINCT labels FROM records WHERE labels IS NOT NULL"):
        labels.update(value.split("\n"))  # the pipeline's labels too, not only the reviewers'
    return {
        "reason": [ANY, ANY_REASON, "kept", *[r for r, _ in facets["reason"]]],
        "flag": [ANY, ANY_FLAG, *[f for f, _ in facets["flag"]]],
        "language": [ANY, *[lang for lang, _ in facets["language"]]],
        "split": [ANY, *[s for s, _ in facets["split"]]],
        "label": [ANY, *sorted(labels)],
        "status": [ANY, *STATUSES],
    }


def make_filter(
    reason: str | None = None,
    flag: str | None = None,
    language: str | None = None,
    split: str | None = None,
    label: str | None = None,
    text: str | None = None,
    status: str | None = None,
    sort: str | None = None,
    regex: bool = False,
    reviewer: str | None = None,
) -> QueueFilter:
    def clean(value: str | None) -> str | None:
        return None if value in (None, "", ANY) else str(value).strip() or None

    reason, flag = clean(reason), clean(flag)
    status = clean(status)
    reason = ANY_VALUE if reason == ANY_REASON else reason
    return QueueFilter(reason=reason, flag=ANY_VALUE if flag == ANY_FLAG else flag,
                       language=clean(language), split=clean(split), label=clean(label), text=clean(text),
                       status="todo" if status == TODO else status, sort=clean(sort), regex=bool(regex),
                       reviewer=clean(reviewer))  # fmt: skip


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and p.get("type") == "image_url":
                parts.append(f"[image: {(p.get('image_url') or {}).get('url', '')[:80]}]")
            elif isinstance(p, dict):
                parts.append(str(p.get("text") or ""))
        return "\n".join(parts)
    return message_text(message) if content is not None else ""


def flat_messages(record: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """(part, message) in reading order; part is "messages", or prompt/chosen/rejected for a preference pair."""
    if record is None:
        return []
    if is_preference(record):
        return [(part, m) for part in ("prompt", "chosen", "rejected") for m in record.get(part) or []]
    return [("messages", m) for m in record.get("messages") or []]


def render_chat(record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Messages for ``gr.Chatbot``: system prompts, tool calls and tool results shown as titled blocks."""
    out: list[dict[str, Any]] = []
    for index, (part, m) in enumerate(flat_messages(record)):
        role = str(m.get("role"))
        prefix = {"chosen": "✅ chosen · ", "rejected": "❌ rejected · "}.get(part, "")
        text = _content(m)
        if role in ("system", "developer"):
            out.append({"role": "assistant", "content": text, "metadata": {"title": f"#{index} {role} prompt"}})
            continue
        if role in ("tool", "function"):
            who = m.get("name") or m.get("tool_call_id") or ""
            out.append({"role": "assistant", "content": f"```\n{text}\n```",
                        "metadata": {"title": f"#{index} {prefix}tool result {who}".rstrip()}})  # fmt: skip
            continue
        if text or role != "assistant":  # an assistant turn that only calls tools shows just the calls
            shown: dict[str, Any] = {"role": "user" if role == "user" else "assistant", "content": text or "(empty)"}
            if prefix or role not in ("user", "assistant") or m.get("weight") == 0:
                weight = " (weight 0: not trained on)" if m.get("weight") == 0 else ""
                shown["metadata"] = {"title": f"#{index} {prefix}{role}{weight}"}
            out.append(shown)
        calls = list(m.get("tool_calls") or [])
        if m.get("function_call"):
            calls.append({"function": m["function_call"]})
        for call in calls:
            fn = call.get("function") or {}
            out.append({"role": "assistant", "content": f"```json\n{fn.get('arguments', '')}\n```",
                        "metadata": {"title": f"#{index} {prefix}🔧 tool call {fn.get('name', '')}"}})  # fmt: skip
    return out


_MD: Any = None


def _markdown(text: str) -> str:
    """Markdown to HTML with raw HTML shown as text and no images (nothing in a record makes a request)."""
    global _MD
    if _MD is None:
        from markdown_it import MarkdownIt

        _MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")
    return str(_MD.render(text))


def _pretty_json(text: str) -> str:
    try:
        return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
    except (orjson.JSONDecodeError, TypeError):
        return text


def _turn(index: int, title: str, body_html: str, role: str, *, empty: bool = False) -> str:
    cls = f"turn role-{html.escape(role)}" + (" empty" if empty else "")
    return (f"<div class='{cls}' data-index='{index}'><div class='turn-head'>{html.escape(title)}</div>"
            f"<div class='turn-body' dir='auto'>{body_html}</div></div>")  # fmt: skip


EMPTY_TURN = "<span class='empty-turn'>∅ empty turn</span>"


def render_record_html(record: dict[str, Any] | None, raw: str | None = None) -> str:
    """The conversation as escaped HTML: Markdown without raw HTML, ``dir="auto"`` on every turn (right-to-left
    text lays out right to left), empty turns shown as empty, tool calls as wrapped, pretty-printed JSON."""
    if record is None:
        return ("<div class='record-view'>" + _turn(0, "unparseable input", f"<pre>{html.escape(raw or '')}</pre>",
                                                    "raw") + "</div>")  # fmt: skip
    turns: list[str] = []
    for index, (part, m) in enumerate(flat_messages(record)):
        role = str(m.get("role"))
        prefix = {"chosen": "✅ chosen · ", "rejected": "❌ rejected · "}.get(part, "")
        text = _content(m)
        weight = " (weight 0: not trained on)" if m.get("weight") == 0 else ""
        calls = list(m.get("tool_calls") or [])
        if m.get("function_call"):
            calls.append({"function": m["function_call"]})
        if role in ("tool", "function"):
            who = m.get("name") or m.get("tool_call_id") or ""
            body = f"<pre class='tool-json'>{html.escape(_pretty_json(text))}</pre>" if text else EMPTY_TURN
            turns.append(_turn(index, f"#{index} {prefix}tool result {who}".rstrip(), body, "tool", empty=not text))
            continue
        title = f"#{index} {prefix}{role}{' prompt' if role in ('system', 'developer') else ''}{weight}"
        if text.strip() or not calls:  # an assistant turn that only calls tools shows just the calls
            turns.append(_turn(index, title, _markdown(text) if text.strip() else EMPTY_TURN, role,
                               empty=not text.strip()))  # fmt: skip
        for call in calls:
            fn = (call.get("function") or {}) if isinstance(call, dict) else {}
            args = fn.get("arguments", "")
            args = args if isinstance(args, str) else orjson.dumps(args).decode()
            body = f"<pre class='tool-json'>{html.escape(_pretty_json(args))}</pre>"
            turns.append(_turn(index, f"#{index} {prefix}🔧 tool call {fn.get('name', '')}", body, "tool-call"))
    if record.get("tools"):
        tools = orjson.dumps(record["tools"], option=orjson.OPT_INDENT_2).decode()
        body = f"<pre class='tool-json'>{html.escape(tools)}</pre>"
        turns.insert(0, f"<details class='tools'><summary>tools ({len(record['tools'])})</summary>{body}</details>")
    return "<div class='record-view'>" + "".join(turns) + "</div>"


@dataclass(slots=True)
class ReviewView:
    """Everything the Review tab shows for one position in the queue."""

    position: int
    total: int
    record_id: str | None = None
    chat: list[dict[str, Any]] = field(default_factory=list)
    html: str = "<div class='record-view'></div>"
    details: dict[str, Any] = field(default_factory=dict)
    header: str = "<div class='rec-head' data-record-id=''>The queue is empty for these filters.</div>"
    message_choices: list[tuple[str, int]] = field(default_factory=list)
    labels: str = ""
    note: str = ""
    progress: str = ""
    history: str = ""


def _progress_text(ctx: UIContext, reviewer: str | None = None) -> str:
    p = ctx.store.progress()
    todo = ctx.store.queue(QueueFilter(status="todo"), 0, 0).total
    flagged = ctx.store.queue(QueueFilter(flag=ANY_VALUE), 0, 0).total
    rejected = ctx.store.queue(QueueFilter(reason=ANY_VALUE), 0, 0).total
    both = ctx.store.queue(QueueFilter(flag=ANY_VALUE, reason=ANY_VALUE), 0, 0).total
    queue = flagged + rejected - both
    return (
        f"To review {queue - todo:,} / {queue:,} done · all records: reviewed {p.reviewed:,} / {p.total:,} "
        f"(accepted {p.accepted:,}, rejected {p.rejected:,}, edited {p.edited:,})"
    )


def _header(rec: ReviewRecord, position: int, total: int) -> str:
    state = "pipeline: " + (f"rejected · {rec.reject.get('reason')}" if rec.reject else f"kept · {rec.split}")
    if rec.decision is not None:
        verdict = rec.decision.verdict or "no verdict"
        state += f" · human: {verdict}" + (" (edited)" if rec.decision.messages is not None else "")
        state += f" by {rec.decision.reviewer}"
    flags = "".join(f"<span class='flag'>{html.escape(f)}</span>" for f in rec.flags)
    reason = ""
    if rec.reject:
        detail = rec.reject.get("detail")
        reason = (f"<span class='reason'>{html.escape(str(rec.reject.get('reason')))}"
                  + (f": {html.escape(str(detail))[:200]}" if detail else "") + "</span>")  # fmt: skip
    return (f"<div class='rec-head' data-record-id='{html.escape(rec.id)}'><b>{position + 1:,} / {total:,}</b> · "
            f"<code>{html.escape(rec.id)}</code> · {html.escape(state)} {reason}{flags}</div>")  # fmt: skip


def review_view(ctx: UIContext, filters: QueueFilter, position: int) -> ReviewView:
    """The record at ``position`` in the filtered queue (clamped to the queue). With ``filters.reviewer`` the
    record shown is leased to that reviewer; one another reviewer leased a moment ago is skipped."""
    position = max(0, position)
    for _attempt in range(20):
        page = ctx.store.queue(filters, position, 1)
        if not page.items and page.total:
            position = page.total - 1
            page = ctx.store.queue(filters, position, 1)
        if not page.items or not filters.reviewer or ctx.store.claim(page.items[0].record_id, filters.reviewer):
            break
    else:  # every try lost the race for a lease: show nothing rather than a record on someone else's screen
        page.items = []
    view = ReviewView(position=position, total=page.total, progress=_progress_text(ctx, filters.reviewer))
    if not page.items:
        view.position = 0
        if filters.reviewer:
            ctx.store.release(filters.reviewer)
        return view
    rec = ctx.store.get(page.items[0].record_id, history=True)
    shown = rec.edited_record
    view.record_id = rec.id
    raw = str((rec.reject or {}).get("raw", "(unparseable input)"))
    view.chat = render_chat(shown) if shown is not None else [{"role": "assistant", "content": raw}]
    view.html = render_record_html(shown, raw)
    view.details = _details(rec)
    view.header = _header(rec, view.position, page.total)
    view.message_choices = [
        (f"#{i} {part + ' · ' if part != 'messages' else ''}{m.get('role')}: {_content(m)[:40]}", i)
        for i, (part, m) in enumerate(flat_messages(shown))
    ]
    view.labels = ", ".join(rec.labels)
    view.note = (rec.decision.note if rec.decision else None) or ""
    view.history = history_html(rec)
    return view


def history_html(rec: ReviewRecord) -> str:
    """The record's decision log (newest first, undone rows struck through) and the diff of its edit."""
    undone = {row.get("undoes") for row in rec.history if row["action"] == "undo"}
    rows = []
    for row in reversed(rec.history):
        what = row["action"] + (f" · {row['reason']}" if row.get("reason") else "")
        if row.get("labels") is not None:
            what += f" · labels {', '.join(row['labels'])}"
        if row.get("note"):
            what += f" · note {row['note']}"
        if row.get("batch") and not str(row["batch"]).startswith("undo-") and row["action"] != "undo":
            what += " · bulk" if not str(row["batch"]).startswith("resolve-") else ""
        cls = " class='undone'" if row["uid"] in undone else ""
        import datetime as _dt

        when = _dt.datetime.fromtimestamp(float(row["ts"]), tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(f"<li{cls} data-uid='{html.escape(row['uid'])}'><code>{when}</code> "
                    f"<b>{html.escape(str(row['reviewer']))}</b>: {html.escape(what)}</li>")  # fmt: skip
    out = "<div class='history'><b>History</b>" + (f"<ol>{''.join(rows)}</ol>" if rows else "<p>no decisions yet</p>")
    diff = edit_diff(rec)
    if diff:
        out += f"<b>Edit against the original</b><pre class='diff' dir='auto'>{diff}</pre>"
    return out + "</div>"


def edit_diff(rec: ReviewRecord) -> str:
    """A unified diff (as escaped HTML, + and - lines marked) of the edited messages against the pipeline's."""
    if rec.record is None or rec.decision is None or rec.decision.messages is None:
        return ""
    before = [f"[{p}] {m.get('role')}: {_content(m)}" for p, m in flat_messages(rec.record)]
    after = [f"[{p}] {m.get('role')}: {_content(m)}" for p, m in flat_messages(rec.edited_record)]
    lines = []
    for line in difflib.unified_diff("\n".join(before).splitlines(), "\n".join(after).splitlines(), "original",
                                     "edited", lineterm=""):  # fmt: skip
        cls = "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx"
        lines.append(f"<span class='{cls}'>{html.escape(line)}</span>")
    return "\n".join(lines)


def _details(rec: ReviewRecord) -> dict[str, Any]:
    record = rec.edited_record or {}
    out: dict[str, Any] = {"id": rec.id, "split": rec.split, "flags": rec.flags, "labels": rec.labels,
                           "language": rec.language, "cluster": rec.cluster}  # fmt: skip
    if rec.reject:
        out["reject"] = rec.reject
    if rec.decision is not None:
        out["decision"] = {k: v for k, v in rec.decision.to_dict().items() if k != "messages" and v is not None}
    if record.get("tools"):
        out["tools"] = record["tools"]
    out["metadata"] = record.get("metadata") or {}
    return out


def parse_labels(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.replace("\n", ",").split(",") if t.strip()]


def _check_lease(ctx: UIContext, record_id: str, reviewer: str) -> None:
    holder = ctx.store.lease_holder(record_id)
    if holder and holder != reviewer:
        raise CurationError(f"{record_id} is on {holder}'s screen", hint="take the next record in your queue")
    if holder is None:  # the lease lapsed: refuse when another reviewer decided it meanwhile
        other = ctx.store.decided_by_other(record_id, reviewer)
        if other:
            raise CurationError(f"{record_id} was decided by {other} while it was open here",
                                hint="press Next for a record of your own queue")  # fmt: skip


def decide(
    ctx: UIContext,
    record_id: str | None,
    action: str,
    reviewer: str,
    reason: str | None = None,
    labels: str | None = None,
    note: str | None = None,
) -> str:
    """Record accept / reject / label / note for the record on the reviewer's screen; returns a status line."""
    if not record_id:
        raise CurationError("no record is selected", hint="pick a record in the queue first")
    reviewer = reviewer or default_reviewer()
    current = ctx.store.get(record_id)
    _check_lease(ctx, record_id, reviewer)
    new_labels = parse_labels(labels)
    if new_labels is not None and new_labels == current.labels:
        new_labels = None  # unchanged: don't log a label decision
    ctx.store.decide(record_id, action, reviewer, reason=reason or None, labels=new_labels,
                     note=note or None)  # fmt: skip
    return f"{action} · {record_id} · by {reviewer}"


def undo_last(ctx: UIContext, reviewer: str) -> str:
    rows = ctx.store.undo_last(reviewer)
    ids = sorted({r["record_id"] for r in rows})
    return f"undid {len(rows)} decision(s) by {reviewer}" + (f" on {ids[0]}" if len(ids) == 1 else "")


def bulk_preview(ctx: UIContext, filters: QueueFilter, action: str) -> tuple[str, int]:
    """The confirmation text and count of a bulk action over the filtered queue."""
    if action not in ("accept", "reject", "label"):
        raise CurationError(f"bulk {action!r} is not supported", hint="choose accept, reject or label")
    n = ctx.store.queue(filters, 0, 0).total
    if not n:
        raise CurationError("the filtered queue is empty", hint="change the filters or the search first")
    return f"**{action} {n:,} record(s)** matching the current filters and search? Press Confirm (undoable).", n


def bulk_apply(ctx: UIContext, filters: QueueFilter, action: str, reviewer: str, expected: int | None,
               reason: str | None = None, labels: str | None = None) -> str:  # fmt: skip
    if not expected:
        raise CurationError("nothing to confirm", hint="press Preview first and check the count")
    parsed = parse_labels(labels) if action == "label" else None
    if action == "label" and not parsed:
        raise CurationError("a bulk label needs labels", hint="type them in the bulk Labels box")
    _batch, n = ctx.store.bulk(filters, action, reviewer, expected=int(expected), reason=reason or None,
                               labels=parsed)  # fmt: skip
    return f"bulk {action}: {n:,} record(s) by {reviewer} (Undo last withdraws all of them)"


def jump(ctx: UIContext, filters: QueueFilter, target: str) -> int:
    """A position from "123" (1-based) or a record id in the filtered queue."""
    target = (target or "").strip()
    if not target:
        raise CurationError("nothing to jump to", hint="type a position (e.g. 120) or a record id")
    position = ctx.store.position(filters, target)
    if position is not None:
        return position
    if target.isdigit():
        total = ctx.store.queue(filters, 0, 0).total
        if not 1 <= int(target) <= max(total, 1):
            raise CurationError(f"position {target} is outside the queue", hint=f"choose 1..{total:,}")
        return int(target) - 1
    raise CurationError(f"{target!r} is not in the filtered queue", hint="clear the filters, or check the id")


def position_of(ctx: UIContext, filters: QueueFilter, record_id: str | None) -> int:
    """Where the record on screen is in a changed queue (so touching a filter keeps your place), else 0."""
    if not record_id:
        return 0
    found = ctx.store.position(filters, record_id)
    return found if found is not None else 0


def guidelines(ctx: UIContext) -> str:
    path = ctx.run_dir / GUIDELINES
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return f"_No guidelines for this run: write Markdown in `{GUIDELINES}` inside the run folder._"


# -- Team -----------------------------------------------------------------------------------------------------
def team_view(ctx: UIContext) -> tuple[str, list[list[Any]], list[list[Any]]]:
    """(summary, agreement rows, conflict rows)."""
    from curation.review.agreement import agreement, conflicts

    pairs = agreement(ctx.store.reviewer_verdicts())
    rows = [[p.a, p.b, p.both, p.agree, p.percent, "" if p.kappa is None else round(p.kappa, 3)] for p in pairs]
    found = conflicts(ctx.store)
    conflict_rows = [[rid, ", ".join(f"{who}: {v}" for who, v in sorted(by.items()))] for rid, by, _ in found]
    summary = (f"Overlap (records two reviewers each decide): **{ctx.store.overlap():.0%}** · "
               f"open conflicts: **{len(found)}**")  # fmt: skip
    return summary, rows, conflict_rows


def set_overlap(ctx: UIContext, who: str, fraction: float | None) -> str:
    if not ctx.is_admin(who):
        raise CurationError(f"{who} is not an admin", hint="ask an admin to set the overlap")
    ctx.store.set_overlap(float(fraction or 0) / 100.0)
    return f"overlap set to {ctx.store.overlap():.0%}"


def resolve_conflict(ctx: UIContext, who: str, record_id: str | None, verdict: str) -> str:
    if not ctx.is_admin(who):
        raise CurationError(f"{who} is not an admin", hint="ask an admin to resolve conflicts")
    if not record_id:
        raise CurationError("choose a conflicting record", hint="pick one in the Conflicts list")
    ctx.store.resolve(record_id, verdict, who)
    return f"{record_id}: resolved as {verdict} by {who}"


def edit_message(ctx: UIContext, record_id: str | None, index: int | None, text: str, reviewer: str) -> str:
    """Replace the text of one message (by reading-order index) and store the edited messages."""
    if not record_id:
        raise CurationError("no record is selected", hint="pick a record in the queue first")
    rec = ctx.store.get(record_id)
    record = rec.edited_record
    if record is None:
        raise CurationError("this reject has no parsed record to edit", hint="it can only be accepted or rejected")
    flat = flat_messages(record)
    if index is None or not 0 <= int(index) < len(flat):
        raise CurationError(f"message index {index} is out of range", hint=f"choose 0..{len(flat) - 1}")
    index = int(index)
    counts: dict[str, int] = {}
    target_part, target_pos = "", 0
    for i, (part, _) in enumerate(flat):
        if i == index:
            target_part, target_pos = part, counts.get(part, 0)
        counts[part] = counts.get(part, 0) + 1
    _check_lease(ctx, record_id, reviewer or default_reviewer())
    copy = orjson.loads(orjson.dumps(record))
    message = copy[target_part][target_pos]
    message["content"] = text
    parts = ("prompt", "chosen", "rejected")
    edited: Any = copy["messages"] if target_part == "messages" else {k: copy[k] for k in parts}
    ctx.store.decide(record_id, "edit", reviewer or default_reviewer(), messages=edited)
    return f"edited message #{index} of {record_id}"


def position_after_decision(ctx: UIContext, filters: QueueFilter, position: int, record_id: str | None) -> int:
    """Where to go after a decision: the next record; or stay, when the decided one left the filtered queue."""
    page = ctx.store.queue(filters, position, 1)
    if page.items and page.items[0].record_id == record_id:
        return position + 1
    return position


# -- Duplicates -----------------------------------------------------------------------------------------------
def cluster_rows(ctx: UIContext, limit: int = 200) -> list[list[Any]]:
    return [[c.id, c.size] for c in ctx.store.clusters(limit=limit)]


def cluster_view(ctx: UIContext, cluster_id: str | None) -> tuple[str, list[tuple[str, str]], str | None]:
    """Side-by-side HTML of the members, the keep choices, and the current survivor."""
    if not cluster_id:
        return "<p>Choose a cluster.</p>", [], None
    info = ctx.store.cluster(cluster_id)
    columns = []
    # The survivor first, then the others in pipeline order.
    ordered = sorted(info.members, key=lambda m: m.id != info.survivor)
    shown = ordered[:MAX_CLUSTER_COLUMNS]
    for m in shown:
        state = "kept" if m.split != "rejected" else f"rejected ({m.reason})"
        if m.verdict:
            state += f" · human: {m.verdict}"
        survivor = " survivor" if m.id == info.survivor else ""
        turns = "".join(
            f"<div class='dup-msg'><b>{html.escape(str(msg.get('role')))}</b>: "
            f"{html.escape(_content(msg))[:1200]}</div>"
            for _, msg in flat_messages(m.record)
        )
        estimate = ""
        if m.pipeline_similarity is not None:
            target = html.escape(m.duplicate_of or "")
            estimate = f" (dedup stage: {m.pipeline_similarity:.2f} to <code>{target}</code>)"
        columns.append(
            f"<div class='dup-member{survivor}' id='dup-{html.escape(m.id)}'>"
            f"<div class='dup-head'><code>{html.escape(m.id)}</code> · similarity <b>{m.similarity:.2f}</b>{estimate}"
            f"<br>{html.escape(state)}</div>{turns}</div>"
        )
    page = (
        "<style>.dup-grid{display:flex;gap:12px;overflow-x:auto}.dup-member{flex:1;min-width:260px;border:1px solid"
        " #ccc;border-radius:8px;padding:8px}.dup-member.survivor{border:2px solid #2a7}.dup-msg{margin:4px 0;"
        "white-space:pre-wrap}.dup-head{font-size:0.9em;margin-bottom:6px}</style>"
        f"<p>Cluster <code>{html.escape(info.id)}</code>: {info.size} members; similarity is word-trigram Jaccard "
        f"against the survivor <code>{html.escape(info.survivor or '')}</code>.</p>"
        + (f"<p>Showing the first {len(shown)} of {info.size} members.</p>" if len(shown) < info.size else "")
        + f"<div class='dup-grid'>{''.join(columns)}</div>"
    )
    choices = [(f"{m.id} ({m.similarity:.2f})", m.id) for m in ordered]
    return page, choices, info.survivor


def resolve_cluster(ctx: UIContext, cluster_id: str | None, keep_id: str | None, reviewer: str) -> str:
    if not cluster_id or not keep_id:
        raise CurationError("choose a cluster and the member to keep", hint="select them in the Duplicates tab")
    rows = ctx.store.resolve_cluster(cluster_id, keep_id, reviewer or default_reviewer())
    return f"cluster {cluster_id}: kept {keep_id}, rejected {len(rows) - 1} duplicate(s)"


# -- Export ---------------------------------------------------------------------------------------------------
def exporter_choices() -> list[str]:
    from curation.plugins import EXPORTER_GROUP, available

    return available(EXPORTER_GROUP)


def run_export(
    ctx: UIContext, formats: list[str], model: str | None = None, method: str = "auto"
) -> tuple[str, list[str]]:
    """The CLI's workflow (apply the decisions, export, re-render report.html), all or nothing: it runs first on a
    scratch copy of the run folder, and the run folder is only touched when every chosen format is written."""
    if not formats:
        raise CurationError("choose at least one export format", hint="tick a format in the Export tab")
    from curation.exporters.outcome import outcome_lines
    from curation.report import render_report
    from curation.review import load_decisions
    from curation.targets import lifecycle_lines, table_for_run

    decisions = load_decisions(ctx.run_dir)
    skip = shutil.ignore_patterns("exports", "review.sqlite*", ".lock", "*.tmp")
    with tempfile.TemporaryDirectory(prefix="curation-export-") as scratch:
        stage = Path(scratch) / ctx.run_dir.name
        shutil.copytree(ctx.run_dir, stage, ignore=skip, symlinks=True)
        apply_decisions(stage, decisions)
        trial = _export(stage, formats, model, method)
        if trial.refused:
            lines = "\n".join(f"- {line}" for ok, line in outcome_lines(trial) if not ok)
            raise CurationError(f"export refused, nothing in the run folder was changed:\n{lines}",
                                hint="fix the rules named above (or untick that format) and export again")  # fmt: skip
    applied = apply_decisions(ctx.run_dir, decisions)
    result = _export(ctx.run_dir, formats, model, method)
    if (ctx.run_dir / "report.json").exists():
        render_report(ctx.run_dir)  # report.html follows the decisions, as after `curate run`
    lifecycle = "".join(f"\n\n**Warning:** {line}" for line in
                        lifecycle_lines(formats=formats, format_model=model, table=table_for_run(ctx.run_dir)))
    files = [str(p) for paths in result.paths.values() for p in paths]
    # The same decisions and lines as `curate export`: each format written or refused on its own.
    targets = "\n".join(f"- {line}" for _ok, line in outcome_lines(result))
    summary = (
        f"Applied {applied.decisions} decision(s): {applied.rejected} rejected, {applied.restored} restored, "
        f"{applied.edited} edited, {applied.invalid_edits} invalid edit(s); {applied.changed} record(s) changed "
        "place or content now. Splits now: "
        + ", ".join(f"{k} {v:,}" for k, v in applied.splits.items())
        + f"; rejects {applied.rejects:,}. report.html re-rendered.\n\n"
        f"Wrote {len(files)} file(s) for {', '.join(formats)}.\n\n{targets}"
        + lifecycle
    )
    return summary, files


def _export(run_dir: Path, formats: list[str], model: str | None, method: str = "auto") -> Any:
    from curation.exporters import ExportOptions, export_run

    # Only what the user chose: export_run fills the rest (e.g. the run's own model) from the run folder.
    chosen = {k: v for k, v in {"model": model, "method": None if method == "auto" else method}.items() if v}
    return export_run(run_dir, formats, ExportOptions(**chosen) if chosen else None, each=True)


def export_files(paths: list[str]) -> list[str]:
    """Only files (a Hugging Face save_to_disk export is a folder: offer its files)."""
    out: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += [str(f) for f in sorted(p.rglob("*")) if f.is_file()]
        elif p.is_file():
            out.append(str(p))
    return out


# -- Train ----------------------------------------------------------------------------------------------------
def trainer_choices() -> list[str]:
    from curation.plugins import TRAINER_GROUP, available

    return available(TRAINER_GROUP)


def parse_params(text: str | None) -> dict[str, Any]:
    """Params typed in the UI: a JSON/YAML mapping or ``key=value`` lines."""
    import yaml

    text = (text or "").strip()
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CurationError(f"params are not valid YAML/JSON ({exc})", hint='write e.g. {"n_epochs": 3}') from None
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and "=" in value or "\n" in text:
        from curation.trainers.base import parse_params as pairs

        return pairs([line for line in text.replace(",", "\n").splitlines() if line.strip()])
    raise CurationError("params must be a mapping", hint='write e.g. {"n_epochs": 3} or n_epochs=3')


def _job_store(path: str | Path | None = None) -> Any:
    from curation.trainers.store import JobStore

    return JobStore(path)


def launch_job(ctx: UIContext, backend_name: str, model: str | None, params_text: str | None,
               job_db: str | Path | None = None) -> str:  # fmt: skip
    """Start a training job on the run's curated set (the same path as `curate train`); returns the job id."""
    from curation.trainers import jobs

    if not backend_name:
        raise CurationError("choose a trainer backend", hint="pick one in the Train tab")
    params = parse_params(params_text)
    if model:
        params["model"] = model
    return jobs.start(ctx.run_dir, backend_name, params, store=_job_store(job_db)).id


def job_rows(ctx: UIContext, job_db: str | Path | None = None) -> list[list[Any]]:
    """Jobs of this run (launched here or from the CLI), newest first."""
    jobs = _job_store(job_db).list(run_dir=ctx.run_dir)  # newest first; keyed by the resolved run folder
    return [[j.id, j.backend, j.status, j.params.get("model", ""), j.metrics.get("loss", "")] for j in jobs]


def job_status(ctx: UIContext, job_id: str | None, job_db: str | Path | None = None) -> dict[str, Any]:
    """Refresh one job through its backend and return status text, log lines and loss points."""
    import pandas as pd

    from curation.trainers.base import get_backend

    empty = pd.DataFrame({"step": [], "loss": [], "series": []})
    if not job_id:
        return {"status": "No job selected.", "logs": "", "loss": empty, "done": True}
    from curation.trainers import jobs

    store = _job_store(job_db)
    job = store.get(job_id)
    backend = get_backend(job.backend)
    if not job.done:
        try:
            job = jobs.refresh(job, store=store)
        except CurationError as exc:  # a provider hiccup: show it, keep polling
            job.error = str(exc)
    points = []
    for event in job.events:
        data = event.get("data") or {}
        step = data.get("step")
        for key, series in (("loss", "train"), ("train_loss", "train"), ("eval_loss", "eval"),
                            ("valid_loss", "eval")):  # fmt: skip
            if step is not None and isinstance(data.get(key), int | float):
                points.append({"step": step, "loss": float(data[key]), "series": series})
    metrics = ", ".join(f"{k} {v}" for k, v in job.metrics.items())
    status = f"**{job.id}** · {job.backend} · **{job.status}**" + (f" · {metrics}" if metrics else "")
    if job.error:
        status += f"\n\nerror: {job.error}"
    if job.output_model:
        status += f"\n\nmodel: `{job.output_model}`"
    from curation.trainers.sft_data import describe_stats

    for split, stats in sorted((job.info.get("data") or {}).items()):  # truncated / fully-masked counts
        status += f"\n\n{split} {describe_stats(stats, stats.get('max_length', 0))}"
    try:
        logs = backend.logs(job)
    except CurationError as exc:
        logs = [str(exc)]
    return {"status": status, "logs": "\n".join(logs[-200:]), "loss": pd.DataFrame(points) if points else empty,
            "done": job.done}  # fmt: skip


def cancel_job(ctx: UIContext, job_id: str | None, job_db: str | Path | None = None) -> str:
    from curation.trainers import jobs

    if not job_id:
        raise CurationError("no job selected", hint="pick a job in the list")
    store = _job_store(job_db)
    job = store.get(job_id)
    if job.done:
        return f"job {job_id} already {job.status}"
    return f"job {job_id}: {jobs.cancel(job_id, store=store).status}"


__all__ = [
    "ANY", "UIContext", "ReviewView", "cancel_job", "cluster_rows", "cluster_view", "decide",
    "edit_message", "export_files", "exporter_choices", "filter_choices", "job_rows", "job_status", "launch_job",
    "make_filter", "overview", "position_after_decision", "render_chat", "resolve_cluster", "review_view",
    "run_export", "trainer_choices",
]  # fmt: skip
