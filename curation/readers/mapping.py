"""A user's field mapping for datasets no built-in format recognises (or to add role aliases to one)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
        None, description="with prompt: the field of that record's answer (e.g. target, query)")
    bot_replies: bool = Field(
        False, description="support-desk exports (Zendesk, Intercom, Freshdesk, Help Scout): read a bot's replies "
        "(Intercom's Fin, Zendesk's answer bot) as the agent's turns; by default they are left out and counted in "
        "metadata.left_out.bot_replies, since a bot's answers teach the model to be that bot")
    label: str | None = Field(
        None, description="top-level field with a KTO label beside any layout (true/false, 1/0, "
        "desirable/undesirable; e.g. kto-mix's boolean `tag`): a false answer never reaches an SFT split. Without "
        "it only `label`/`kto_tag` of KTO layouts and LLaMA-Factory's `kto_tag` are read as labels",
    )
