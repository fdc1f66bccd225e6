"""The Gradio review app: layout and wiring only; every action is a function in :mod:`ui.handlers`.

Stable ``elem_id`` values name the components the browser tests (and the keyboard shortcuts) use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.errors import CurationError, MissingExtraError
from curation.ui_guard import is_loopback

from . import handlers as h

# Keyboard shortcuts on the Review tab: a = accept, r = reject, n = next, p = previous, u = undo (ignored while
# typing). A key pressed while the next record loads is ignored: the record on screen is the one in the header's
# data-record-id, and a decision is sent with that id (never with an id the browser has not drawn yet).
HEAD = """
<script>
(function () {
  window.curationShownId = function () {
    var e = document.querySelector('#review-header [data-record-id]');
    return e ? e.getAttribute('data-record-id') : '';
  };
  window.curationBusy = null;
  var last = null;
  var seen = function () {
    var shown = window.curationShownId();
    if (shown !== last) { last = shown; (window.curationShown = window.curationShown || []).push(shown); }
    if (window.curationBusy && shown !== window.curationBusy.id) window.curationBusy = null;
  };
  var watch = function () {  // the header is re-rendered by Gradio: watch the whole page
    new MutationObserver(seen).observe(document.body, {childList: true, subtree: true, characterData: true,
                                                       attributes: true, attributeFilter: ['data-record-id']});
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', watch); else watch();
  document.addEventListener('keydown', function (e) {
    var t = e.target, tag = (t && t.tagName || '').toLowerCase();
    if (tag === 'input' || tag === 'textarea' || tag === 'select' || (t && t.isContentEditable)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var ids = {a: 'accept-btn', r: 'reject-btn', n: 'next-btn', p: 'prev-btn', u: 'undo-btn'};
    var id = ids[e.key];
    if (!id) return;
    var el = document.getElementById(id);
    if (!el || el.offsetParent === null) return;
    e.preventDefault();
    var busy = window.curationBusy;
    if (busy && Date.now() - busy.t < 4000) return;  // the next record is still loading: ignore the key
    var shown = window.curationShownId();
    if (!shown && id !== 'undo-btn') return;
    window.curationBusy = {id: shown, t: Date.now()};
    el.click();
  });
})();
</script>
"""
# Sent with every decision: the id of the record drawn on screen, read from the page at click time.
SEEN_JS = "(...args) => { args[0] = window.curationShownId ? window.curationShownId() : args[0]; return args; }"
CSS = """
#review-header p {margin: 0}
.shortcut-hint {opacity: 0.7; font-size: 0.85em}
.rec-head {font-size: 0.95em}
.rec-head .flag {background: #fde68a; color: #713f12; border-radius: 4px; padding: 0 5px; margin-left: 4px}
.rec-head .reason {background: #fecaca; color: #7f1d1d; border-radius: 4px; padding: 0 5px; margin-left: 4px}
#review-chat {max-height: 430px; overflow-y: auto}
.record-view .turn {border: 1px solid #d4d4d8; border-radius: 8px; margin: 0 0 6px 0; padding: 4px 8px}
.record-view .turn-head {font-size: 0.8em; opacity: 0.7}
.record-view .turn-body {overflow-wrap: anywhere}
.record-view .turn-body p {margin: 2px 0}
.record-view .role-user {background: rgba(59,130,246,0.07)}
.record-view .empty {border-style: dashed; border-color: #dc2626}
.record-view .empty-turn {color: #dc2626; font-style: italic}
.record-view pre, .history pre {white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: 0.85em}
.history li.undone {text-decoration: line-through; opacity: 0.6}
.history .add {color: #15803d} .history .del {color: #b91c1c}
#guidelines {max-height: 300px; overflow-y: auto}
"""


def _gradio() -> Any:
    try:
        import gradio as gr
    except ImportError:
        raise MissingExtraError("gradio", "ui") from None
    return gr


def _safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show a user mistake as a Gradio error toast with its fix instead of a stack trace."""
    gr = _gradio()

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CurationError as exc:
            raise gr.Error(str(exc)) from None

    return wrapper


def build_app(run_dir: str | Path, *, job_db: str | Path | None = None, users: Any = None) -> Any:
    """The Blocks app for one run folder (not launched). ``users``: a :class:`UsersFile` when people log in."""
    gr = _gradio()
    globals()["gr"] = gr  # handlers annotate `request: gr.Request`; Gradio resolves that name in this module
    ctx = h.UIContext(run_dir, users=users)
    choices = h.filter_choices(ctx)

    def logged_in(request: Any) -> str | None:
        name = getattr(request, "username", None) if request is not None else None
        return str(name) if name else None

    def who(request: Any, typed: str | None) -> str:
        return h.reviewer_of_record(logged_in(request), typed)

    def maybe_who(request: Any, typed: str | None) -> str | None:
        try:
            return who(request, typed)
        except CurationError:
            return None

    with gr.Blocks(title=f"curation review · {ctx.run_dir.name}") as demo:
        demo.curation_context = ctx  # for tests and for launch() to find the run folder
        saved_name = gr.BrowserState("", storage_key="curation-reviewer")
        with gr.Row():
            gr.Markdown(f"## curation review · `{ctx.run_dir.name}`")
            reviewer = gr.Textbox(label="Reviewer", value="", placeholder="your name (asked once per browser)",
                                  elem_id="reviewer", scale=0, min_width=220)  # fmt: skip
        with gr.Tabs(elem_id="tabs"):
            # -- Overview ---------------------------------------------------------------------------------
            with gr.Tab("Overview", id="overview", elem_id="tab-overview") as overview_tab:
                summary = gr.Markdown(elem_id="overview-summary")
                with gr.Row():
                    funnel_plot = gr.BarPlot(x="stage", y="count", color="kind", title="Funnel (kept / dropped)",
                                             elem_id="overview-funnel")  # fmt: skip
                    reasons_plot = gr.BarPlot(x="reason", y="count", title="Reject reasons", sort="-y",
                                              elem_id="overview-reasons")  # fmt: skip
                with gr.Row():
                    splits_plot = gr.BarPlot(x="split", y="records", title="Split mix after review",
                                             elem_id="overview-splits")  # fmt: skip
                    languages_plot = gr.BarPlot(x="language", y="records", color="split", title="Languages",
                                                elem_id="overview-languages")  # fmt: skip
                refresh_btn = gr.Button("Refresh", elem_id="overview-refresh", size="sm")

            # -- Review -----------------------------------------------------------------------------------
            with gr.Tab("Review", id="review", elem_id="tab-review") as review_tab:
                with gr.Row(equal_height=True):
                    f_status = gr.Dropdown(choices["status"], value=h.TODO, label="Queue", elem_id="f-status",
                                           min_width=120)  # fmt: skip
                    f_reason = gr.Dropdown(choices["reason"], value=h.ANY, label="Reject reason", elem_id="f-reason",
                                           min_width=120)  # fmt: skip
                    f_flag = gr.Dropdown(choices["flag"], value=h.ANY, label="Flag", elem_id="f-flag", min_width=110)
                    f_language = gr.Dropdown(choices["language"], value=h.ANY, label="Language",
                                             elem_id="f-language", min_width=90)  # fmt: skip
                    f_split = gr.Dropdown(choices["split"], value=h.ANY, label="Split", elem_id="f-split",
                                          min_width=90)  # fmt: skip
                    f_label = gr.Dropdown(choices["label"], value=h.ANY, label="Label", elem_id="f-label",
                                          allow_custom_value=True, min_width=90)  # fmt: skip
                    f_sort = gr.Dropdown(h.SORT_CHOICES, value="", label="Sort", elem_id="f-sort", min_width=120)
                    f_text = gr.Textbox(label="Search messages", placeholder="text, role:user text, or id",
                                        elem_id="f-text", scale=2, min_width=160)  # fmt: skip
                    f_regex = gr.Checkbox(label="regex", value=False, elem_id="f-regex", min_width=60, scale=0)
                    f_jump = gr.Textbox(label="Go to", placeholder="position or id", elem_id="f-jump", min_width=110,
                                        scale=0)  # fmt: skip
                header = gr.HTML(elem_id="review-header")
                with gr.Row(equal_height=True):
                    prev_btn = gr.Button("◀ Prev (p)", elem_id="prev-btn", size="sm", min_width=80)
                    next_btn = gr.Button("Next (n) ▶", elem_id="next-btn", size="sm", min_width=80)
                    accept_btn = gr.Button("Accept (a)", variant="primary", elem_id="accept-btn", size="sm",
                                           min_width=90)  # fmt: skip
                    reject_reason = gr.Textbox(show_label=False, placeholder="reject reason (optional)",
                                               elem_id="reject-reason", scale=2, container=False)  # fmt: skip
                    reject_btn = gr.Button("Reject (r)", variant="stop", elem_id="reject-btn", size="sm", min_width=90)
                    undo_btn = gr.Button("Undo last (u)", elem_id="undo-btn", size="sm", min_width=90)
                progress = gr.Markdown(elem_id="review-progress")
                review_status = gr.Markdown(elem_id="review-status")
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.HTML(elem_id="review-chat")
                    with gr.Column(scale=2):
                        with gr.Accordion("Guidelines", open=True, elem_id="guidelines-accordion"):
                            gr.Markdown(h.guidelines(ctx), elem_id="guidelines")
                        history = gr.HTML(elem_id="review-history")
                        with gr.Accordion("Metadata and flags", open=False):
                            details = gr.JSON(label="Metadata and flags", elem_id="review-details")
                with gr.Row():
                    labels = gr.Textbox(label="Labels (comma separated)", elem_id="labels")
                    note = gr.Textbox(label="Note", elem_id="note")
                    save_meta_btn = gr.Button("Save labels and note", elem_id="save-meta-btn")
                with gr.Accordion("Edit a message", open=False, elem_id="edit-accordion"):
                    msg_index = gr.Dropdown(choices=[], label="Message", elem_id="edit-index", type="value")
                    msg_text = gr.Textbox(label="New text", lines=5, elem_id="edit-text")
                    save_edit_btn = gr.Button("Save edit", elem_id="edit-save-btn")
                with gr.Accordion("Bulk: every record of the current filters and search", open=False,
                                  elem_id="bulk-accordion"):  # fmt: skip
                    with gr.Row():
                        bulk_action = gr.Radio(["reject", "accept", "label"], value="reject", label="Action",
                                               elem_id="bulk-action")  # fmt: skip
                        bulk_reason = gr.Textbox(label="Reason or labels", elem_id="bulk-reason")
                        bulk_preview_btn = gr.Button("Preview count", elem_id="bulk-preview-btn")
                        bulk_confirm_btn = gr.Button("Confirm", variant="stop", elem_id="bulk-confirm-btn",
                                                     visible=False)  # fmt: skip
                    bulk_status = gr.Markdown(elem_id="bulk-status")
                gr.Markdown("Shortcuts: **a** accept · **r** reject · **n** next · **p** previous · **u** undo",
                            elem_classes="shortcut-hint")  # fmt: skip
                position = gr.State(0)
                record_id = gr.State(None)
                seen = gr.Textbox(visible=False, elem_id="seen-id")
                applied_text = gr.State("")
                bulk_count = gr.State(0)
                lease_timer = gr.Timer(30.0)

            # -- Duplicates -------------------------------------------------------------------------------
            with gr.Tab("Duplicates", id="duplicates", elem_id="tab-duplicates"):
                cluster_ids = [row[0] for row in h.cluster_rows(ctx)]
                with gr.Row():
                    cluster_dd = gr.Dropdown(cluster_ids, value=cluster_ids[0] if cluster_ids else None,
                                             label="Cluster (largest first)", elem_id="dup-cluster",
                                             allow_custom_value=True)  # fmt: skip
                    keep = gr.Dropdown([], label="Keep", elem_id="dup-keep")
                    keep_btn = gr.Button("Keep selected, reject the others…", variant="primary",
                                         elem_id="dup-keep-btn")  # fmt: skip
                    keep_confirm = gr.Button("Confirm", variant="stop", elem_id="dup-confirm-btn", visible=False)
                dup_status = gr.Markdown(elem_id="dup-status")
                members = gr.HTML(elem_id="dup-members")

            # -- Team -------------------------------------------------------------------------------------
            with gr.Tab("Team", id="team", elem_id="tab-team") as team_tab:
                team_summary = gr.Markdown(elem_id="team-summary")
                with gr.Row():
                    overlap = gr.Number(label="Overlap % (records two reviewers each decide; admin)",
                                        value=round(ctx.store.overlap() * 100, 1), elem_id="team-overlap")  # fmt: skip
                    overlap_btn = gr.Button("Set overlap", elem_id="team-overlap-btn")
                    team_refresh = gr.Button("Refresh", elem_id="team-refresh")
                agreement = gr.Dataframe(headers=["reviewer A", "reviewer B", "both decided", "agree", "agree %",
                                                  "Cohen's kappa"], interactive=False,
                                         elem_id="team-agreement")  # fmt: skip
                conflicts = gr.Dataframe(headers=["record", "verdicts"], interactive=False, elem_id="team-conflicts")
                with gr.Row():
                    conflict_id = gr.Textbox(label="Conflicting record id", elem_id="team-conflict-id")
                    resolve_accept = gr.Button("Resolve: accept", elem_id="team-resolve-accept")
                    resolve_reject = gr.Button("Resolve: reject", variant="stop", elem_id="team-resolve-reject")
                team_status = gr.Markdown(elem_id="team-status")

            # -- Export -----------------------------------------------------------------------------------
            with gr.Tab("Export", id="export", elem_id="tab-export"):
                formats = gr.CheckboxGroup(h.exporter_choices(), label="Formats", elem_id="export-formats")
                with gr.Row():
                    export_model = gr.Textbox(label="Target model (optional)", elem_id="export-model")
                    export_method = gr.Radio(["auto", "sft", "dpo", "kto"], value="auto", label="Records",
                                             info="a run with both conversations and preference pairs exports "
                                                  "one kind at a time", elem_id="export-method")  # fmt: skip
                export_btn = gr.Button("Apply decisions and export", variant="primary", elem_id="export-btn")
                export_status = gr.Markdown(elem_id="export-status")
                export_out = gr.File(label="Exported files", file_count="multiple", elem_id="export-files",
                                     interactive=False)  # fmt: skip

            # -- Train ------------------------------------------------------------------------------------
            with gr.Tab("Train", id="train", elem_id="tab-train"):
                backends = h.trainer_choices()
                with gr.Row():
                    backend = gr.Dropdown(backends, value=backends[0] if backends else None, label="Backend",
                                          elem_id="train-backend")  # fmt: skip
                    model = gr.Textbox(label="Model", elem_id="train-model")
                    params = gr.Textbox(label="Params (YAML/JSON or key=value lines)", lines=3,
                                        elem_id="train-params")  # fmt: skip
                with gr.Row():
                    launch_btn = gr.Button("Launch", variant="primary", elem_id="train-launch")
                    cancel_btn = gr.Button("Cancel job", variant="stop", elem_id="train-cancel")
                    jobs_refresh = gr.Button("Refresh jobs", elem_id="train-refresh")
                jobs = gr.Dataframe(headers=["job", "backend", "status", "model", "loss"], interactive=False,
                                    elem_id="train-jobs")  # fmt: skip
                job_id = gr.Dropdown([], label="Job", elem_id="train-job", allow_custom_value=True)
                job_status = gr.Markdown(elem_id="train-status")
                loss = gr.LinePlot(x="step", y="loss", color="series", title="Loss", elem_id="train-loss")
                logs = gr.Textbox(label="Logs", lines=10, max_lines=20, elem_id="train-logs", autoscroll=True)
                timer = gr.Timer(2.0, active=False)

            # -- Try: one prompt, two models side by side -----------------------------------------------
            with gr.Tab("Try", id="try", elem_id="tab-try"):
                with gr.Row():
                    try_a = gr.Textbox(label="Model A (reference: folder, ft:..., azure:..., http://HOST/v1#MODEL)",
                                       elem_id="try-a")  # fmt: skip
                    try_b = gr.Textbox(label="Model B", elem_id="try-b")
                try_system = gr.Textbox(label="System prompt (optional)", elem_id="try-system")
                try_prompt = gr.Textbox(label="Prompt", lines=3, elem_id="try-prompt")
                try_btn = gr.Button("Send to both", variant="primary", elem_id="try-send")
                with gr.Row():
                    try_out_a = gr.Markdown(elem_id="try-out-a")
                    try_out_b = gr.Markdown(elem_id="try-out-b")

        # -- wiring -----------------------------------------------------------------------------------------
        from .try_models import try_two

        try_btn.click(_safe(lambda p, a, b, sys_: try_two(p, a, b, sys_)), [try_prompt, try_a, try_b, try_system],
                      [try_out_a, try_out_b])  # fmt: skip
        def show_overview() -> tuple[Any, ...]:
            o = h.overview(ctx)
            top = max([1, *[int(v) for v in o["funnel"]["count"]]])
            funnel = gr.update(value=o["funnel"], sort=o["stages"] or None, y_lim=[0, top])  # pipeline order, from 0
            return o["summary"], funnel, o["reasons"], o["splits"], o["languages"]

        overview_outputs = [summary, funnel_plot, reasons_plot, splits_plot, languages_plot]
        filters = [f_status, f_reason, f_flag, f_language, f_split, f_label, f_sort, applied_text, f_regex]
        view_outputs = [position, record_id, header, progress, chat, details, history, msg_index, msg_text, labels,
                        note]  # fmt: skip

        def flt(name: str | None, values: tuple[Any, ...]) -> Any:
            status, reason, flag, language, split, label, sort, text, regex = values
            return h.make_filter(reason, flag, language, split, label, text, status, sort, bool(regex), name)

        def show(name: str | None, pos: int, values: tuple[Any, ...]) -> tuple[Any, ...]:
            v = h.review_view(ctx, flt(name, values), int(pos or 0))
            return (v.position, v.record_id, v.header, v.progress, v.html, v.details, v.history,
                    gr.update(choices=v.message_choices, value=None), "", v.labels, v.note)  # fmt: skip

        def go(delta: int) -> Callable[..., tuple[Any, ...]]:
            @_safe
            def run(request: gr.Request, pos: int, typed: str, *values: Any) -> tuple[Any, ...]:
                return show(maybe_who(request, typed), max(0, int(pos or 0) + delta), values)

            return run

        def act(action: str) -> Callable[..., tuple[Any, ...]]:
            @_safe
            def run(request: gr.Request, shown: str, pos: int, typed: str, why: str, labs: str, nt: str,
                    *values: Any) -> tuple[Any, ...]:  # fmt: skip
                name = who(request, typed)
                # The decision is for the record drawn on the reviewer's screen (its id read from the page).
                message = h.decide(ctx, shown or None, action, name, reason=why if action == "reject" else None,
                                   labels=labs, note=nt)  # fmt: skip
                nxt = h.position_after_decision(ctx, flt(name, values), int(pos or 0), shown)
                return (*show(name, nxt, values), message, "")

            return run

        @_safe
        def refilter(request: gr.Request, rid: str | None, typed: str, *values: Any) -> tuple[Any, ...]:
            name = maybe_who(request, typed)
            return show(name, h.position_of(ctx, flt(name, values), rid), values)

        @_safe
        def search(request: gr.Request, text: str, rid: str | None, typed: str, *values: Any) -> tuple[Any, ...]:
            values = (*values[:7], text, values[8])
            return (text, *refilter(request, rid, typed, *values))

        @_safe
        def go_to(request: gr.Request, target: str, typed: str, *values: Any) -> tuple[Any, ...]:
            name = maybe_who(request, typed)
            return show(name, h.jump(ctx, flt(name, values), target), values)

        @_safe
        def undo(request: gr.Request, pos: int, typed: str, *values: Any) -> tuple[Any, ...]:
            name = who(request, typed)
            message = h.undo_last(ctx, name)
            return (*show(name, int(pos or 0), values), message)

        @_safe
        def save_meta(request: gr.Request, rid: str | None, pos: int, typed: str, labs: str, nt: str,
                      *values: Any) -> tuple[Any, ...]:  # fmt: skip
            name = who(request, typed)
            message = h.decide(ctx, rid, "label", name, labels=labs, note=nt)
            return (*show(name, pos, values), message)

        @_safe
        def pick_message(rid: str | None, index: int | None) -> str:
            if rid is None or index is None:
                return ""
            record = ctx.store.get(rid).edited_record
            flat = h.flat_messages(record)
            return h._content(flat[int(index)][1]) if 0 <= int(index) < len(flat) else ""

        @_safe
        def save_edit(request: gr.Request, rid: str | None, pos: int, typed: str, index: int | None, text: str,
                      *values: Any) -> tuple[Any, ...]:  # fmt: skip
            name = who(request, typed)
            message = h.edit_message(ctx, rid, index, text, name)
            return (*show(name, pos, values), message)

        @_safe
        def bulk_preview(request: gr.Request, action: str, typed: str, *values: Any) -> tuple[Any, ...]:
            text, n = h.bulk_preview(ctx, flt(maybe_who(request, typed), values), action)
            return text, n, gr.update(visible=True)

        @_safe
        def bulk_confirm(request: gr.Request, action: str, text: str, n: int, typed: str,
                         *values: Any) -> tuple[Any, ...]:  # fmt: skip
            name = who(request, typed)
            message = h.bulk_apply(ctx, flt(name, values), action, name, n, reason=text if action != "label" else None,
                                   labels=text if action == "label" else None)  # fmt: skip
            return (*show(name, 0, values), message, 0, gr.update(visible=False))

        @_safe
        def renew(request: gr.Request, rid: str | None, typed: str) -> Any:
            name = maybe_who(request, typed)
            if rid and name and not ctx.store.renew(rid, name):
                holder = ctx.store.lease_holder(rid)
                if holder and holder != name:
                    return f"⚠ {rid} is now on {holder}'s screen: take the next record"
            return gr.update()

        @_safe
        def show_cluster(cluster: str | None) -> tuple[Any, ...]:
            page, keep_choices, survivor = h.cluster_view(ctx, cluster)
            return page, gr.update(choices=keep_choices, value=survivor), gr.update(visible=False)

        @_safe
        def ask_keep(cluster: str | None, keep_id: str | None) -> tuple[Any, ...]:
            if not cluster or not keep_id:
                raise CurationError("choose a cluster and the member to keep", hint="select them above")
            n = ctx.store.cluster(cluster).size - 1
            return f"**Keep `{keep_id}` and reject {n} other member(s)?** Press Confirm (undoable).", gr.update(
                visible=True)

        @_safe
        def keep_member(request: gr.Request, cluster: str | None, keep_id: str | None, typed: str) -> tuple[Any, ...]:
            message = h.resolve_cluster(ctx, cluster, keep_id, who(request, typed))
            return (*show_cluster(cluster), message)

        def show_team() -> tuple[Any, ...]:
            return h.team_view(ctx)

        @_safe
        def save_overlap(request: gr.Request, typed: str, value: float | None) -> tuple[Any, ...]:
            return (h.set_overlap(ctx, who(request, typed), value), *show_team())

        def resolve(verdict: str) -> Callable[..., tuple[Any, ...]]:
            @_safe
            def run(request: gr.Request, typed: str, rid: str) -> tuple[Any, ...]:
                return (h.resolve_conflict(ctx, who(request, typed), (rid or "").strip(), verdict), *show_team())

            return run

        @_safe
        def export(selected: list[str], target: str, method: str) -> tuple[Any, ...]:
            text, files = h.run_export(ctx, selected, target or None, method or "auto")
            return text, h.export_files(files)

        def refresh_jobs(selected: str | None = None) -> tuple[Any, ...]:
            rows = h.job_rows(ctx, job_db)
            ids = [r[0] for r in rows]
            value = selected if selected in ids else (ids[0] if ids else None)
            return rows, gr.update(choices=ids, value=value)

        @_safe
        def launch_job(name: str, model_name: str, param_text: str) -> tuple[Any, ...]:
            new_id = h.launch_job(ctx, name, model_name or None, param_text, job_db)
            rows, dd = refresh_jobs(new_id)
            return rows, dd, f"launched job {new_id}", gr.Timer(active=True)

        @_safe
        def poll(selected: str | None) -> tuple[Any, ...]:
            s = h.job_status(ctx, selected, job_db)
            rows, _dd = refresh_jobs(selected)  # the job table follows the job's status too
            return s["status"], s["logs"], s["loss"], gr.Timer(active=not s["done"]), rows

        @_safe
        def cancel(selected: str | None) -> tuple[Any, ...]:
            message = h.cancel_job(ctx, selected, job_db)
            rows, dd = refresh_jobs(selected)
            return rows, dd, message

        @_safe
        def on_load(request: gr.Request, saved: str | None, pos: int, *values: Any) -> tuple[Any, ...]:
            user = logged_in(request)
            if user:
                role = "admin" if ctx.is_admin(user) else "reviewer"
                name_box = gr.update(value=user, interactive=False, label=f"Reviewer (logged in, {role})")
            else:
                name_box = gr.update(value=saved or "", interactive=True)
            name = user or (saved or None)
            return (*show_overview(), name_box, *show(name, pos, values), *show_cluster(cluster_dd.value),
                    *refresh_jobs(), *show_team())  # fmt: skip

        @_safe
        def remember(request: gr.Request, typed: str, *values: Any) -> tuple[Any, ...]:
            name = maybe_who(request, typed)
            return ((typed or "").strip(), *show(name, 0, values))

        team_outputs = [team_summary, agreement, conflicts]
        demo.load(on_load, [saved_name, position, *filters],
                  [*overview_outputs, reviewer, *view_outputs, members, keep, keep_confirm, jobs, job_id,
                   *team_outputs])  # fmt: skip
        reviewer.submit(remember, [reviewer, *filters], [saved_name, *view_outputs])
        reviewer.blur(remember, [reviewer, *filters], [saved_name, *view_outputs])
        overview_tab.select(_safe(show_overview), None, overview_outputs)
        refresh_btn.click(_safe(show_overview), None, overview_outputs)
        review_tab.select(refilter, [record_id, reviewer, *filters], view_outputs)
        for dd in (f_status, f_reason, f_flag, f_language, f_split, f_label, f_sort, f_regex):
            dd.input(refilter, [record_id, reviewer, *filters], view_outputs)
        f_text.submit(search, [f_text, record_id, reviewer, *filters], [applied_text, *view_outputs])
        f_jump.submit(go_to, [f_jump, reviewer, *filters], view_outputs)
        prev_btn.click(go(-1), [position, reviewer, *filters], view_outputs)
        next_btn.click(go(+1), [position, reviewer, *filters], view_outputs)
        decision_inputs = [seen, position, reviewer, reject_reason, labels, note, *filters]
        decision_outputs = [*view_outputs, review_status, reject_reason]
        accept_btn.click(act("accept"), decision_inputs, decision_outputs, js=SEEN_JS)
        reject_btn.click(act("reject"), decision_inputs, decision_outputs, js=SEEN_JS)
        undo_btn.click(undo, [position, reviewer, *filters], [*view_outputs, review_status])
        lease_timer.tick(renew, [record_id, reviewer], review_status)
        def label_choices() -> Any:
            # a label someone just typed is a filter choice at once, not after a restart
            return gr.Dropdown(choices=h.filter_choices(ctx)["label"])

        save_meta_btn.click(save_meta, [record_id, position, reviewer, labels, note, *filters],
                            [*view_outputs, review_status]).then(label_choices, None, f_label)  # fmt: skip
        msg_index.input(pick_message, [record_id, msg_index], msg_text)
        save_edit_btn.click(save_edit, [record_id, position, reviewer, msg_index, msg_text, *filters],
                            [*view_outputs, review_status])  # fmt: skip
        bulk_preview_btn.click(bulk_preview, [bulk_action, reviewer, *filters],
                               [bulk_status, bulk_count, bulk_confirm_btn])  # fmt: skip
        bulk_confirm_btn.click(bulk_confirm, [bulk_action, bulk_reason, bulk_count, reviewer, *filters],
                               [*view_outputs, bulk_status, bulk_count, bulk_confirm_btn]
                               ).then(label_choices, None, f_label)  # fmt: skip
        cluster_dd.change(show_cluster, cluster_dd, [members, keep, keep_confirm])
        keep_btn.click(ask_keep, [cluster_dd, keep], [dup_status, keep_confirm])
        keep_confirm.click(keep_member, [cluster_dd, keep, reviewer], [members, keep, keep_confirm, dup_status])
        team_tab.select(show_team, None, team_outputs)
        team_refresh.click(show_team, None, team_outputs)
        overlap_btn.click(save_overlap, [reviewer, overlap], [team_status, *team_outputs])
        resolve_accept.click(resolve("accept"), [reviewer, conflict_id], [team_status, *team_outputs])
        resolve_reject.click(resolve("reject"), [reviewer, conflict_id], [team_status, *team_outputs])
        export_btn.click(export, [formats, export_model, export_method], [export_status, export_out])
        launch_btn.click(launch_job, [backend, model, params], [jobs, job_id, job_status, timer])
        jobs_refresh.click(_safe(refresh_jobs), job_id, [jobs, job_id])
        job_id.change(poll, job_id, [job_status, logs, loss, timer, jobs])
        timer.tick(poll, job_id, [job_status, logs, loss, timer, jobs])
        cancel_btn.click(cancel, job_id, [jobs, job_id, job_status])

        # A small HTTP API (POST /gradio_api/call/<name>, or gradio_client) for scripted review.
        def api_decide(record_id: str, action: str, reviewer: str, reason: str = "", note: str = "",
                       request: gr.Request = None) -> dict:  # fmt: skip
            """Append one decision (accept, reject, label, note, reset) for a record; returns the stored row."""
            try:
                return ctx.store.decide(record_id, action, who(request, reviewer), reason=reason or None,
                                        note=note or None)  # fmt: skip
            except CurationError as exc:
                raise gr.Error(str(exc)) from None

        def api_decision(record_id: str) -> dict:
            """The merged decision of a record (empty when it has none)."""
            decision = ctx.store.decision(record_id)
            return decision.to_dict() if decision else {}

        def api_progress() -> dict:
            """Reviewed / total counts."""
            p = ctx.store.progress()
            return {"total": p.total, "reviewed": p.reviewed, "accepted": p.accepted, "rejected": p.rejected,
                    "edited": p.edited}  # fmt: skip

        api_decide.__annotations__ = {"record_id": str, "action": str, "reviewer": str, "reason": str, "note": str,
                                      "request": gr.Request, "return": dict}  # resolvable without module globals
        gr.api(api_decide, api_name="decide")
        gr.api(api_decision, api_name="decision")
        gr.api(api_progress, api_name="progress")
    return demo


def _auth(auth: tuple[str, str] | None) -> tuple[str, str] | None:
    if auth:
        return auth
    from curation.ui_guard import login_from_env

    return login_from_env()


def launch(
    run_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    *,
    prevent_thread_lock: bool = False,
    job_db: str | Path | None = None,
    quiet: bool = False,
    users_file: str | Path | None = None,
    insecure_no_auth: bool = False,
) -> Any:
    """Serve the app; returns the Blocks. With a users file everyone logs in and is the reviewer of record;
    without one (and no CURATION_UI_USER) nobody logs in, so the app binds to loopback only."""
    from curation.review.users import UsersFile

    users = None
    if users_file is not None:
        users = UsersFile(users_file)
        if not users.names():
            raise CurationError(f"no users in {str(users_file)!r}",
                                hint="add one: curate ui users add NAME --role admin")  # fmt: skip
    login: Any = users.check if users is not None else _auth(auth)
    if login is None and not is_loopback(host) and not insecure_no_auth:  # the CLI's rule (ui_guard)
        raise CurationError(f"refusing to serve on {host} without logins",
                            hint="add reviewers with `curate ui users add NAME`, or serve on 127.0.0.1")  # fmt: skip
    demo = build_app(run_dir, job_db=job_db, users=users)
    run = Path(run_dir).resolve()
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host, server_port=port, auth=login, prevent_thread_lock=prevent_thread_lock,
        allowed_paths=[str(run)], head=HEAD, css=CSS, quiet=quiet, footer_links=[], ssr_mode=False,
    )  # fmt: skip
    return demo
