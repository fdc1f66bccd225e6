"""A user's field mapping for datasets no built-in format recognises (or to add role aliases to one)."""

from __future__ import annotations

import string

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FieldMapping(BaseModel):
    """Where a dataset keeps its turns and how its roles are called.

    Example: ``FieldMapping(messages="dialog", role="speaker", content="text", roles={"Customer": "user"})``.
    With ``messages`` set, records holding that field are read as the ``mapped`` format; ``roles`` also
    extends the ShareGPT and OpenAI role names.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    messages: str | None = Field(None, description="top-level field that holds the list of turns")
    role: str | None = Field(None, description="key of a turn's role (default: role, from, speaker or author); a "
                             "dotted path reads a nested key, e.g. author.name")
    content: str | None = Field(None, description="key of a turn's text (default: content, value, text or message); "
                                "a dotted path reads a nested key, e.g. payload.text")
    roles: dict[str, str] = Field(default_factory=dict, description="role name map, e.g. {'Customer': 'user'}")
    system: str | None = Field(None, description="top-level field with a system prompt (default: system)")
    id: str | None = Field(None, description="top-level field with the record id (default: id, conversation_id)")
    tools: str | None = Field(None, description="top-level field with the tool schemas (default: tools)")
    conversation: str | None = Field(
        None, description="for a table of one row per message: the column naming the conversation a row belongs to "
        "(e.g. ticket, case_no); rows holding it are grouped into conversations, with `role` and `content` naming "
        "the speaker and text columns")
    order: str | None = Field(
        None, description="with conversation: the column that orders a conversation's rows (a turn number or a "
        "timestamp; default: turn, position, created_at, timestamp, ... or the file's order)")
    prompt: str | None = Field(
        None, description="with completion: the field of a one-exchange record's request (e.g. CoT-Collection's "
        "source, Spider's question): records holding both are read as user + assistant turns")
    completion: str | None = Field(
        None, description="with prompt or prompt_template: the field of that record's answer (e.g. target, query, "
        "summary)")
    prompt_template: str | None = Field(
        None, description="with completion, instead of prompt: the user turn written from the record's fields, "
        "each named in braces (samsum: \"Summarize this dialogue:\\n\\n{dialogue}\" in YAML double quotes; `{{` and "
        "`}}` for a brace); "
        "for datasets whose request is data with no instruction (summarisation, classification)")
    bot_replies: bool = Field(
        False, description="support-desk exports (Zendesk, Intercom, Freshdesk, Help Scout): read a bot's replies "
        "(Intercom's Fin, Zendesk's answer bot) as the agent's turns; by default they are left out and counted in "
        "metadata.left_out.bot_replies, since a bot's answers teach the model to be that bot")
    label: str | None = Field(
        None, description="top-level field with a KTO label beside any layout (true/false, 1/0, "
        "desirable/undesirable; e.g. kto-mix's boolean `tag`): a false answer never reaches an SFT split. Without "
        "it only `label`/`kto_tag` of KTO layouts and LLaMA-Factory's `kto_tag` are read as labels",
    )

    @model_validator(mode="after")
    def _template(self) -> FieldMapping:
        if self.prompt_template is None:
            return self
        if self.completion is None:
            raise ValueError("prompt_template needs completion: the field holding each record's answer")
        if self.prompt is not None:
            raise ValueError("give prompt or prompt_template, not both: prompt_template writes the whole user turn")
        if not template_fields(self.prompt_template):
            raise ValueError(f"prompt_template {self.prompt_template!r} names no field: put each field the user turn "
                             "is written from in braces, e.g. 'Summarize this dialogue:\\n\\n{dialogue}'")
        return self


def template_fields(template: str) -> tuple[str, ...]:
    """The field names a prompt template writes from, in order of first use; ValueError naming what is wrong."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone { or }
        raise ValueError(f"prompt_template {template!r}: {exc}; write a literal brace as {{{{ or }}}}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or spec or conversion or any(c in name for c in ".[]"):
            raise ValueError(f"prompt_template {template!r}: {{{name}{'!' + conversion if conversion else ''}"
                             f"{':' + spec if spec else ''}}} is not a field name; name a top-level field as "
                             "{field}, nothing else inside the braces")
        if name not in names:
            names.append(name)
    return tuple(names)
