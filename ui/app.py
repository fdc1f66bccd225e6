"""The Gradio review app: layout and wiring only; every action is a function in :mod:`ui.handlers`.

Stable ``elem_id`` values name the components the browser tests (and the keyboard shortcuts) use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.errors import CurationError, MissingExtraError

from . import handlers as h

# Keyboard shortcuts on the Review tab: a = accept, r = reject, n = next, p = previous (ignored while typing).
HEAD = """
<script>
document.addEventListener('keydown', function (e) {
  var t = e.target, tag = (t && t.tagName || '').toLowerCase();
  if (tag === 'input' || tag === 'textarea' || tag === 'select' || (t && t.isContentEditable)) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  var ids = {a: 'accept-btn', r: 'reject-btn', n: 'next-btn', p: 'prev-btn'};
  var id = ids[e.key];
  if (!id) return;
  var el = document.getElementById(id);
  if (el && el.offsetParent !== null) { e.preventDefault(); el.click(); }
});
</script>
"""
CSS = "#review-header p {margin: 0} .shortcut-hint {opacity: 0.7; font-size: 0.85em}"


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


def build_app(run_dir: str | Path, *, job_db: str | Path | None = None) -> Any:
    """The Blocks app for one run folder (not launched)."""
    gr = _gradio()
    ctx = h.UIContext(run_dir)
    choices = h.filter_choices(ctx)

    with gr.Blocks(title=f"curation review · {ctx.run_dir.name}") as demo:
        demo.curation_context = ctx  # for tests and for launch() to find the run folder
        with gr.Row():
            gr.Markdown(f"## curation review · `{ctx.run_dir}`")
            reviewer = gr.Textbox(label="Reviewer", value=h.default_reviewer(), elem_id="reviewer", scale=0,
                                  min_width=200)  # fmt: skip
        with gr.Tabs(elem_id="tabs"):
            # -- Overview ---------------------------------------------------------------------------------
            with gr.Tab("Overview", id="overview", elem_id="tab-overview") as overview_tab:
                summary = gr.Markdown(elem_id="overview-summary")
                with gr.Row():
                    funnel_plot = gr.BarPlot(x="stage", y="count", color="kind", title="Funnel (kept / dropped)",
                                             elem_id="overview-funnel")  # fmt: skip
                    reasons_plot = gr.BarPlot(x="reason", y="count", title="Reject reasons",
                                              elem_id="overview-reasons")  # fmt: skip
                with gr.Row():
                    splits_plot = gr.BarPlot(x="split", y="records", title="Split mix after review",
                                             elem_id="overview-splits")  # fmt: skip
                    languages_plot = gr.BarPlot(x="language", y="records", color="split", title="Languages",
                                                elem_id="overview-languages")  # fmt: skip
                refresh_btn = gr.Button("Refresh", elem_id="overview-refresh", size="sm")

            # -- Review -----------------------------------------------------------------------------------
            with gr.Tab("Review", id="review", elem_id="tab-review"):
                with gr.Row():
                    f_reason = gr.Dropdown(choices["reason"], value=h.ANY, label="Reject reason", elem_id="f-reason")
                    f_flag = gr.Dropdown(choices["flag"], value=h.ANY, label="Flag", elem_id="f-flag")
                    f_language = gr.Dropdown(choices["language"], value=h.ANY, label="Language",
                                             elem_id="f-language")  # fmt: skip
                    f_split = gr.Dropdown(choices["split"], value=h.ANY, label="Split", elem_id="f-split")
                    f_label = gr.Dropdown(choices["label"], value=h.ANY, label="Label", elem_id="f-label",
                                          allow_custom_value=True)  # fmt: skip
                    f_status = gr.Dropdown(choices["status"], value=h.ANY, label="Status", elem_id="f-status")
                with gr.Row():
                    f_text = gr.Textbox(label="Search", placeholder="text or id", elem_id="f-text", scale=4)
                    filter_btn = gr.Button("Apply filters", elem_id="filter-btn", scale=1)
                header = gr.Markdown(elem_id="review-header")
                progress = gr.Markdown(elem_id="review-progress")
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label="Conversation", elem_id="review-chat", height=460,
                                          group_consecutive_messages=False)  # fmt: skip
                    with gr.Column(scale=2):
                        details = gr.JSON(label="Metadata and flags", elem_id="review-details")
                with gr.Row():
                    prev_btn = gr.Button("◀ Previous (p)", elem_id="prev-btn")
                    next_btn = gr.Button("Next (n) ▶", elem_id="next-btn")
                    accept_btn = gr.Button("Accept (a)", variant="primary", elem_id="accept-btn")
                    reject_reason = gr.Textbox(label="Reject reason", placeholder="why (optional)",
                                               elem_id="reject-reason", scale=2)  # fmt: skip
                    reject_btn = gr.Button("Reject (r)", variant="stop", elem_id="reject-btn")
                with gr.Row():
                    labels = gr.Textbox(label="Labels (comma separated)", elem_id="labels")
                    note = gr.Textbox(label="Note", elem_id="note")
                    save_meta_btn = gr.Button("Save labels and note", elem_id="save-meta-btn")
                with gr.Accordion("Edit a message", open=False, elem_id="edit-accordion"):
                    msg_index = gr.Dropdown(choices=[], label="Message", elem_id="edit-index", type="value")
                    msg_text = gr.Textbox(label="New text", lines=5, elem_id="edit-text")
                    save_edit_btn = gr.Button("Save edit", elem_id="edit-save-btn")
                review_status = gr.Markdown(elem_id="review-status")
                gr.Markdown("Shortcuts: **a** accept · **r** reject · **n** next · **p** previous",
                            elem_classes="shortcut-hint")  # fmt: skip
                position = gr.State(0)
                record_id = gr.State(None)

            # -- Duplicates -------------------------------------------------------------------------------
            with gr.Tab("Duplicates", id="duplicates", elem_id="tab-duplicates"):
                cluster_ids = [row[0] for row in h.cluster_rows(ctx)]
                with gr.Row():
                    cluster_dd = gr.Dropdown(cluster_ids, value=cluster_ids[0] if cluster_ids else None,
                                             label="Cluster (largest first)", elem_id="dup-cluster",
                                             allow_custom_value=True)  # fmt: skip
                    keep = gr.Radio([], label="Keep", elem_id="dup-keep")
                    keep_btn = gr.Button("Keep selected, reject the others", variant="primary",
                                         elem_id="dup-keep-btn")  # fmt: skip
                members = gr.HTML(elem_id="dup-members")
                dup_status = gr.Markdown(elem_id="dup-status")

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
            return o["summary"], o["funnel"], o["reasons"], o["splits"], o["languages"]

        overview_outputs = [summary, funnel_plot, reasons_plot, splits_plot, languages_plot]
        filters = [f_reason, f_flag, f_language, f_split, f_label, f_text, f_status]
        view_outputs = [position, record_id, header, progress, chat, details, msg_index, msg_text, labels, note]

        def show(pos: int, *filter_values: Any) -> tuple[Any, ...]:
            v = h.review_view(ctx, h.make_filter(*filter_values), int(pos or 0))
            return (v.position, v.record_id, v.header, v.progress, v.chat, v.details,
                    gr.update(choices=v.message_choices, value=None), "", v.labels, v.note)  # fmt: skip

        def go(delta: int) -> Callable[..., tuple[Any, ...]]:
            return _safe(lambda pos, *f: show(max(0, int(pos or 0) + delta), *f))

        def act(action: str) -> Callable[..., tuple[Any, ...]]:
            @_safe
            def run(rid: str | None, pos: int, who: str, why: str, labs: str, nt: str, *f: Any) -> tuple[Any, ...]:
                message = h.decide(ctx, rid, action, who, reason=why if action == "reject" else None, labels=labs,
                                   note=nt)  # fmt: skip
                flt = h.make_filter(*f)
                nxt = h.position_after_decision(ctx, flt, int(pos or 0), rid)
                return (*show(nxt, *f), message, "")

            return run

        decision_inputs = [record_id, position, reviewer, reject_reason, labels, note, *filters]
        decision_outputs = [*view_outputs, review_status, reject_reason]

        @_safe
        def save_meta(rid: str | None, pos: int, who: str, labs: str, nt: str, *f: Any) -> tuple[Any, ...]:
            message = h.decide(ctx, rid, "label", who, labels=labs, note=nt)
            return (*show(pos, *f), message)

        @_safe
        def pick_message(rid: str | None, index: int | None) -> str:
            if rid is None or index is None:
                return ""
            record = ctx.store.get(rid).edited_record
            flat = h.flat_messages(record)
            return h._content(flat[int(index)][1]) if 0 <= int(index) < len(flat) else ""

        @_safe
        def save_edit(rid: str | None, pos: int, who: str, index: int | None, text: str, *f: Any) -> tuple[Any, ...]:
            message = h.edit_message(ctx, rid, index, text, who)
            return (*show(pos, *f), message)

        @_safe
        def show_cluster(cluster: str | None) -> tuple[Any, ...]:
            page, keep_choices, survivor = h.cluster_view(ctx, cluster)
            return page, gr.update(choices=keep_choices, value=survivor)

        @_safe
        def keep_member(cluster: str | None, keep_id: str | None, who: str) -> tuple[Any, ...]:
            message = h.resolve_cluster(ctx, cluster, keep_id, who)
            return (*show_cluster(cluster), message)

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
            return s["status"], s["logs"], s["loss"], gr.Timer(active=not s["done"])

        @_safe
        def cancel(selected: str | None) -> tuple[Any, ...]:
            message = h.cancel_job(ctx, selected, job_db)
            rows, dd = refresh_jobs(selected)
            return rows, dd, message

        def on_load(pos: int, *f: Any) -> tuple[Any, ...]:
            return (*show_overview(), *show(pos, *f), *show_cluster(cluster_dd.value), *refresh_jobs())

        demo.load(_safe(on_load), [position, *filters],
                  [*overview_outputs, *view_outputs, members, keep, jobs, job_id])  # fmt: skip
        overview_tab.select(_safe(show_overview), None, overview_outputs)
        refresh_btn.click(_safe(show_overview), None, overview_outputs)
        filter_btn.click(_safe(lambda *f: show(0, *f)), filters, view_outputs)
        f_text.submit(_safe(lambda *f: show(0, *f)), filters, view_outputs)
        for dd in (f_reason, f_flag, f_language, f_split, f_label, f_status):
            dd.input(_safe(lambda *f: show(0, *f)), filters, view_outputs)
        prev_btn.click(go(-1), [position, *filters], view_outputs)
        next_btn.click(go(+1), [position, *filters], view_outputs)
        accept_btn.click(act("accept"), decision_inputs, decision_outputs)
        reject_btn.click(act("reject"), decision_inputs, decision_outputs)
        save_meta_btn.click(save_meta, [record_id, position, reviewer, labels, note, *filters],
                            [*view_outputs, review_status])  # fmt: skip
        msg_index.input(pick_message, [record_id, msg_index], msg_text)
        save_edit_btn.click(save_edit, [record_id, position, reviewer, msg_index, msg_text, *filters],
                            [*view_outputs, review_status])  # fmt: skip
        cluster_dd.change(show_cluster, cluster_dd, [members, keep])
        keep_btn.click(keep_member, [cluster_dd, keep, reviewer], [members, keep, dup_status])
        export_btn.click(export, [formats, export_model, export_method], [export_status, export_out])
        launch_btn.click(launch_job, [backend, model, params], [jobs, job_id, job_status, timer])
        jobs_refresh.click(_safe(refresh_jobs), job_id, [jobs, job_id])
        job_id.change(poll, job_id, [job_status, logs, loss, timer])
        timer.tick(poll, job_id, [job_status, logs, loss, timer])
        cancel_btn.click(cancel, job_id, [jobs, job_id, job_status])

        # A small HTTP API (POST /gradio_api/call/<name>, or gradio_client) for scripted review.
        def api_decide(record_id: str, action: str, reviewer: str, reason: str = "", note: str = "") -> dict:
            """Append one decision (accept, reject, label, note, reset) for a record; returns the stored row."""
            try:
                return ctx.store.decide(record_id, action, reviewer, reason=reason or None, note=note or None)
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
) -> Any:
    """Serve the app (loopback only unless ``host`` says otherwise); returns the Blocks."""
    demo = build_app(run_dir, job_db=job_db)
    run = Path(run_dir).resolve()
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host, server_port=port, auth=_auth(auth), prevent_thread_lock=prevent_thread_lock,
        allowed_paths=[str(run)], head=HEAD, css=CSS, quiet=quiet, footer_links=[], ssr_mode=False,
    )  # fmt: skip
    return demo
