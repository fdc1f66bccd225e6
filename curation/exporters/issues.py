"""The catalogue of export issue codes: severity, message (``{n}`` records, plural ``{s}``) and fix.

Codes follow the OpenAI cookbook's data-prep names where one exists (``missing_content``,
``unrecognized_role``, ``example_missing_assistant_message``) and the upload errors users hit
(``too_few_examples``, ``reserved_token``, ``method_mismatch``, ``weight_misplaced``, ...).
"""

from __future__ import annotations

from typing import Any

from .base import IssueCollector, Severity

ISSUES: dict[str, tuple[Severity, str, str]] = {
    # record shape
    "missing_messages": ("error", "{n} record{s} have no messages", "drop them in the run (validation stage)"),
    "unrecognized_role": (
        "error",
        "{n} record{s} use a role this provider does not accept",
        "map the role with a field mapping when reading, or drop the records",
    ),
    "missing_content": (
        "error",
        "{n} record{s} have a message with neither content nor tool calls",
        "drop or fix the empty turns (validation reports them as empty_content, and empty tool results as "
        "empty_tool_result); or leave those records out with --skip-invalid",
    ),
    "example_missing_assistant_message": (
        "error",
        "{n} record{s} have no assistant message to learn from",
        "drop records without an assistant turn",
    ),
    "tool_missing_call_id": (
        "error",
        "{n} record{s} have a tool message without tool_call_id",
        "give every tool result the id of the assistant tool call it answers",
    ),
    "arguments_serialised": (
        "warning",
        "{n} record{s} had tool-call arguments as an object; written as a JSON string",
        "nothing to do: providers require arguments as a JSON string",
    ),
    "arguments_not_json": (
        "warning",
        "{n} record{s} have tool-call arguments that are not valid JSON",
        "check the tool calls; the provider may reject or mis-train on them",
    ),
    "image_unsupported": (
        "error",
        "{n} record{s} carry image parts this provider, model or role cannot take",
        "images go in user turns, and only some models are vision fine-tuned (OpenAI gpt-4o-2024-08-06; Azure "
        "gpt-4o-2024-08-06 and gpt-4.1-2025-04-14: --model); or leave those records out with --skip-invalid",
    ),
    "empty_tool_result": (
        "warning",
        "{n} record{s} have an empty tool result; left out of this file (the provider needs text in every tool "
        "message)",
        "write the tool's empty output as text (e.g. 'no output') to keep them here; the other formats take them",
    ),
    "image_format": (
        "error",
        "{n} record{s} carry an image this provider cannot take: a data URL that is not JPEG, PNG or WEBP, or "
        "whose base64 does not decode",
        "convert the images to JPEG, PNG or WEBP (RGB or RGBA) and encode them again; or leave those records out "
        "with --skip-invalid",
    ),
    "image_not_inline": (
        "error",
        "{n} record{s} give images by URL; this provider takes only base64 data URLs (data:image/...;base64,...)",
        "download the images and write them as data URLs; or leave those records out with --skip-invalid",
    ),
    "image_local_path": (
        "error",
        "{n} record{s} give images as local paths or storage URIs (e.g. img/1.jpg, s3://...); the provider only "
        "fetches https:// or data: URLs",
        "upload the images and put their https:// URLs in the records (or base64 data: URLs)",
    ),
    "developer_as_system": (
        "warning",
        "{n} record{s} have developer messages; written as system",
        "nothing to do unless the provider supports the developer role",
    ),
    "reasoning_dropped": (
        "warning",
        "{n} record{s} carry assistant reasoning this provider's format has no field for; dropped (the answer "
        "is kept)",
        # bedrock-nova itself drops it for Nova 1 models: the hint must not send a Nova 1 export back to it
        "nothing to do, or export to together or hf, which keep reasoning (bedrock-nova keeps it for Nova 2 models "
        "only: --model amazon.nova-2-lite-v1:0)",
    ),
    "nova_reserved_keyword": (
        "error",
        "{n} record{s} use a keyword Nova reserves (User:, Bot:, Assistant:, System:, <image>, <video>, [EOS]) "
        "in a user or system prompt; the training job would fail",
        "reword those prompts (or drop the records in the run with a filter)",
    ),
    "function_missing_description": (
        "error",
        "{n} record{s} declare a tool function without a description, which mistral-finetune rejects",
        "give every function in `tools` a description",
    ),
    "function_name_invalid": (
        "error",
        "{n} record{s} declare a tool function whose name the provider refuses (only letters, digits, _ and -, at "
        "most 64; ToolACE names such as 'Market Trends API' hold spaces)",
        "rename the functions in `tools` and in the calls alike (e.g. spaces to underscores), or drop those records",
    ),
    "function_schema_invalid": (
        "error",
        "{n} record{s} declare a tool function Mistral's parser refuses (keys other than name, description, "
        "parameters, strict; or parameter types that are not JSON Schema types, e.g. `dict`, `str`)",
        "fix the tool schemas: `required` belongs inside `parameters`; types are object/string/number/...",
    ),
    "too_many_images": (
        "error",
        "{n} record{s} hold more images than the provider takes per example (OpenAI 10, Azure OpenAI 64)",
        "split such conversations or drop images",
    ),
    "image_too_large": (
        "error",
        "{n} record{s} hold an image over 10 MB (as a data URL), which the provider refuses",
        "downscale or recompress the image before curating",
    ),
    "dpo_output_not_single": (
        "error",
        "{n} preference pair{s} have a preferred or non-preferred output of more than one message; this "
        "provider (Together, Vertex) takes exactly one assistant message per output",
        "keep pairs whose chosen and rejected sides are one assistant message each",
    ),
    "dpo_consecutive_assistant": (
        "error",
        "{n} preference pair{s} have two assistant turns in a row in the input",
        "merge or drop those turns",
    ),
    "refusal_dropped": ("warning", "{n} record{s} carried a refusal field; dropped", "nothing to do"),
    # weights
    "invalid_weight": (
        "error",
        "{n} record{s} have a weight other than 0 or 1",
        "weights must be 0 or 1 (per-token loss weights do not exist on this provider)",
    ),
    "weight_misplaced": (
        "warning",
        "{n} record{s} have weight 1 on a non-assistant message; dropped (this provider trains only assistant turns)",
        "only assistant messages take weight",
    ),
    "weight_unsupported": (
        "warning",
        "{n} record{s} use weight 0 which this provider ignores: those turns will be trained on",
        "drop weight-0 turns or export to a provider that supports weights",
    ),
    # preference data
    "method_mismatch": (
        "error",
        "{n} record{s} are of the other training method (SFT conversations vs DPO preference pairs)",
        "export one kind at a time: --method sft or --method dpo",
    ),
    "method_skipped": (
        "warning",
        "{n} record{s} of the other training method were left out (--method)",
        "export them separately with the other --method",
    ),
    "undesirable_skipped": (
        "warning",
        "{n} record{s} labelled undesirable (KTO label false) were left out of this SFT export",
        "nothing to do: they are not SFT data; export them with --method kto (hf) for KTO training",
    ),
    "kto_missing_completion": (
        "error",
        "{n} record{s} do not end on an assistant turn, so they have no KTO completion",
        "drop records whose last turn is not the assistant's",
    ),
    "dpo_unsupported": (
        "error",
        "{n} preference pair{s} cannot be exported: this provider or model has no DPO",
        "choose a DPO-capable model (e.g. gpt-4.1-mini) or export conversations only (--method sft)",
    ),
    "dpo_output_role": (
        "error",
        "{n} preference pair{s} have chosen/rejected turns with roles other than assistant/tool",
        "chosen and rejected must contain only assistant (and tool) messages",
    ),
    "dpo_missing_output": (
        "error",
        "{n} preference pair{s} have an empty chosen or rejected side, or no assistant message in it",
        "drop incomplete pairs",
    ),
    "dpo_empty_prompt": ("error", "{n} preference pair{s} have an empty prompt", "drop pairs without a prompt"),
    "dpo_prompt_not_user": (
        "warning",
        "{n} preference pair{s} have a prompt that does not end with a user message",
        "check the pairs: the completion should answer a user turn",
    ),
    # conversation structure (Bedrock, Together, Mistral, Vertex)
    "merged_consecutive": (
        "warning",
        "{n} record{s} had consecutive turns of the same role; merged into one turn",
        "nothing to do unless the split was meaningful",
    ),
    "system_merged": (
        "warning",
        "{n} record{s} had several or late system messages; joined into the one system prompt, so a late one now "
        "governs the turns before it too",
        "if a later system message changes the rules mid-conversation (\"from now on answer in French\"), move it "
        "into the user turn it comes before, or leave those records out",
    ),
    "first_not_user": (
        "error",
        "{n} record{s} do not start with a user turn (after the system prompt)",
        "drop them or add the user turn; this provider requires it",
    ),
    "last_not_assistant": (
        "warning",
        "{n} record{s} end with a non-assistant turn; the trailing turns were dropped",
        "nothing to do; the provider requires the last turn to be the assistant's",
    ),
    "too_few_turns": (
        "error",
        "{n} record{s} have fewer than one user and one assistant turn",
        "drop them",
    ),
    "tools_unsupported": (
        "error",
        "{n} record{s} use tool calls or tool messages, which this provider's tuning format cannot hold",
        "drop tool records for this provider (or export to openai, mistral or vertex-gemini)",
    ),
    "tool_call_id_rewritten": (
        "warning",
        "{n} record{s} had tool-call ids rewritten to 9 alphanumeric characters (Mistral's rule)",
        "nothing to do: ids are rewritten consistently within each record",
    ),
    "function_call_legacy": (
        "error",
        "{n} record{s} use the legacy function_call/functions format (or a function message without the name of "
        "its function), which this provider cannot take",
        "convert to tool_calls/tools (the readers do this for ShareGPT function_call turns); a function message "
        "needs the `name` of the function whose result it holds",
    ),
    # provider limits
    "reserved_token": (
        "error",
        "{n} record{s} contain a reserved special token (e.g. <|endoftext|>) that the provider refuses",
        "remove or escape special tokens before exporting",
    ),
    "over_token_limit": (
        "warning",
        "{n} record{s} exceed the model's per-example token limit and will be truncated",
        "drop them in the run (length stage with this model) or pick a model with a longer context",
    ),
}


def note(collector: IssueCollector, code: str, record_id: Any, *, skipped: bool = False) -> None:
    """Count one record under ``code``.

    ``skipped``: the user asked to leave invalid records out, so an error becomes a warning that says so.
    """
    severity, message, hint = ISSUES[code]
    if skipped and severity == "error":
        severity, message = "warning", message + "; left out (--skip-invalid)"
    collector.add(severity, code, message, hint, record_id)
