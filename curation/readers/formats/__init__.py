"""The input formats, in the order records are tested against them (most specific keys first).

A new format is one module with ``NAME``, ``KEYS`` (top-level keys it consumes), an ``is_*`` predicate and
``convert(obj, mapping) -> [(own_id | None, body, extra_fields | None)]``, plus one line below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from curation.readers.formats import (
    agent_trajectory,
    ai_sdk,
    alpaca,
    api_log,
    chat_text,
    chat_trees,
    chatgpt_export,
    claude_export,
    cohere_chat,
    discord_export,
    extractive_qa,
    freshdesk,
    function_calling,
    gemini,
    helpscout,
    intercom,
    kto,
    langchain,
    langsmith_run,
    librechat,
    lmstudio,
    mapped,
    marked_turns,
    message_rows,
    messages_answer,
    multiple_choice,
    named_turns,
    numbered_messages,
    oasst,
    oasst_rows,
    open_webui,
    openai,
    openai_dpo,
    pairs,
    preference,
    prompt_completion,
    ranked,
    reasoning_pair,
    responses_log,
    self_instruct,
    sharegpt,
    sillytavern,
    slack_export,
    string_turns,
    telegram_export,
    textgen_webui,
    toolbench_answer,
    zendesk,
)
from curation.readers.mapping import FieldMapping

Converted = tuple[str | None, dict[str, Any], dict[str, Any] | None]
Payloads = tuple[int | None, int, Any]


@dataclass(frozen=True, slots=True)
class InputFormat:
    name: str
    keys: frozenset[str]
    matches: Callable[[dict[str, Any], FieldMapping | None], bool]
    convert: Callable[[dict[str, Any], FieldMapping | None], list[Converted]]


def _plain_openai(obj: dict[str, Any], mapping: FieldMapping | None) -> bool:
    # A file of mostly plain chats is read as openai; an AI SDK or LangChain chat among them must not be, or its
    # tool use (or every turn) is lost.
    return openai.is_openai(obj, mapping) and not ai_sdk.is_ai_sdk(obj, mapping) and not langchain.is_langchain(
        obj, mapping)


FORMATS: dict[str, InputFormat] = {
    f.name: f
    for f in (
        InputFormat(mapped.NAME, mapped.KEYS, mapped.is_mapped, mapped.convert),
        # support-desk exports: before sharegpt, whose `conversations` a Freshdesk ticket also has
        InputFormat(zendesk.NAME, zendesk.KEYS, zendesk.is_zendesk, zendesk.convert),
        InputFormat(intercom.NAME, intercom.KEYS, intercom.is_intercom, intercom.convert),
        InputFormat(freshdesk.NAME, freshdesk.KEYS, freshdesk.is_freshdesk, freshdesk.convert),
        InputFormat(helpscout.NAME, helpscout.KEYS, helpscout.is_helpscout, helpscout.convert),
        InputFormat(kto.NAME, kto.KEYS, kto.is_kto, kto.convert),
        InputFormat(openai_dpo.NAME, openai_dpo.KEYS, openai_dpo.is_openai_dpo, openai_dpo.convert),
        InputFormat(preference.NAME, preference.KEYS, preference.is_preference, preference.convert),
        InputFormat(ranked.NAME, ranked.KEYS, ranked.is_ranked, ranked.convert),
        InputFormat(oasst.NAME, oasst.KEYS, oasst.is_oasst, oasst.convert),
        InputFormat(oasst_rows.NAME, oasst_rows.KEYS, oasst_rows.is_oasst_row, oasst_rows.convert),
        InputFormat(message_rows.NAME, message_rows.KEYS, message_rows.is_message_row, message_rows.convert),
        InputFormat(api_log.NAME, api_log.KEYS, api_log.is_api_log, api_log.convert),
        InputFormat(responses_log.NAME, responses_log.KEYS, responses_log.is_responses_log, responses_log.convert),
        InputFormat(cohere_chat.NAME, cohere_chat.KEYS, cohere_chat.is_cohere_chat, cohere_chat.convert),
        InputFormat(chatgpt_export.NAME, chatgpt_export.KEYS, chatgpt_export.is_chatgpt_export,
                    chatgpt_export.convert),
        InputFormat(claude_export.NAME, claude_export.KEYS, claude_export.is_claude_export, claude_export.convert),
        # chat UIs' own files: before openai, whose `messages` an Open WebUI chat also has
        InputFormat(open_webui.NAME, open_webui.KEYS, open_webui.is_open_webui, open_webui.convert),
        InputFormat(chat_trees.HUGGINGCHAT, chat_trees.HUGGINGCHAT_KEYS, chat_trees.is_huggingchat,
                    chat_trees.convert_huggingchat),
        InputFormat(chat_trees.LLAMACPP, chat_trees.LLAMACPP_KEYS, chat_trees.is_llamacpp_webui,
                    chat_trees.convert_llamacpp_webui),
        InputFormat(sillytavern.NAME, sillytavern.KEYS, sillytavern.is_sillytavern, sillytavern.convert),
        InputFormat(textgen_webui.NAME, textgen_webui.KEYS, textgen_webui.is_textgen_webui, textgen_webui.convert),
        InputFormat(librechat.NAME, librechat.KEYS, librechat.is_librechat, librechat.convert),
        InputFormat(lmstudio.NAME, lmstudio.KEYS, lmstudio.is_lmstudio, lmstudio.convert),
        # messengers' exports: chats between people, read once a roles mapping names the assistant
        InputFormat(telegram_export.NAME, telegram_export.KEYS, telegram_export.is_telegram_export,
                    telegram_export.convert),
        InputFormat(discord_export.NAME, discord_export.KEYS, discord_export.is_discord_export,
                    discord_export.convert),
        InputFormat(slack_export.NAME, slack_export.KEYS, slack_export.is_slack_export, slack_export.convert),
        InputFormat(messages_answer.NAME, messages_answer.KEYS, messages_answer.is_messages_answer,
                    messages_answer.convert),
        InputFormat(langsmith_run.NAME, langsmith_run.KEYS, langsmith_run.is_langsmith_run, langsmith_run.convert),
        InputFormat(langchain.NAME, langchain.KEYS, langchain.is_langchain, langchain.convert),
        InputFormat(ai_sdk.NAME, ai_sdk.KEYS, ai_sdk.is_ai_sdk, ai_sdk.convert),
        InputFormat(agent_trajectory.NAME, agent_trajectory.KEYS, agent_trajectory.is_swe_agent_trajectory,
                    agent_trajectory.convert),
        InputFormat(toolbench_answer.NAME, toolbench_answer.KEYS, toolbench_answer.is_toolbench_answer,
                    toolbench_answer.convert),
        InputFormat(openai.NAME, openai.KEYS, _plain_openai, openai.convert),
        InputFormat(sharegpt.NAME, sharegpt.KEYS, sharegpt.is_sharegpt, sharegpt.convert),
        InputFormat(
            prompt_completion.NAME,
            prompt_completion.KEYS,
            prompt_completion.is_prompt_completion,
            prompt_completion.convert,
        ),
        InputFormat(self_instruct.NAME, self_instruct.KEYS, self_instruct.is_self_instruct, self_instruct.convert),
        InputFormat(alpaca.NAME, alpaca.KEYS, alpaca.is_alpaca, alpaca.convert),
        InputFormat(gemini.NAME, gemini.KEYS, gemini.is_gemini, gemini.convert),
        InputFormat(marked_turns.NAME, marked_turns.KEYS, marked_turns.is_marked_turns, marked_turns.convert),
        InputFormat(function_calling.NAME, function_calling.KEYS, function_calling.is_function_calling,
                    function_calling.convert),
        # before string_turns (DREAM's dialogue is a list of lines), extractive_qa and pairs: MMLU's `answer` is an
        # index into its choices, not the reply
        InputFormat(multiple_choice.NAME, multiple_choice.KEYS, multiple_choice.is_multiple_choice,
                    multiple_choice.convert),
        InputFormat(string_turns.NAME, string_turns.KEYS, string_turns.is_string_turns, string_turns.convert),
        InputFormat(named_turns.NAME, named_turns.KEYS, named_turns.is_named_turns, named_turns.convert),
        InputFormat(chat_text.NAME, chat_text.KEYS, chat_text.is_chat_text, chat_text.convert),
        InputFormat(numbered_messages.NAME, numbered_messages.KEYS, numbered_messages.is_numbered_messages,
                    numbered_messages.convert),
        InputFormat(extractive_qa.NAME, extractive_qa.KEYS, extractive_qa.is_extractive_qa, extractive_qa.convert),
        # before pairs: a reasoning set's row holds a reference answer too (s1K's `solution`), not the reply
        InputFormat(reasoning_pair.NAME, reasoning_pair.KEYS, reasoning_pair.is_reasoning_pair,
                    reasoning_pair.convert),
        InputFormat(pairs.NAME, pairs.KEYS, pairs.is_pair, pairs.convert),
    )
}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)
# Formats whose records span rows: a file in one of them is read whole, its rows put together first.
ASSEMBLERS: dict[str, Callable[[Iterable[Payloads], FieldMapping | None], Iterator[Payloads]]] = {
    oasst_rows.NAME: oasst_rows.assemble,
    message_rows.NAME: message_rows.assemble,
    sillytavern.NAME: sillytavern.assemble,
    slack_export.NAME: slack_export.assemble,
}


def consumed_keys(fmt: InputFormat, mapping: FieldMapping | None) -> frozenset[str]:
    """Top-level keys a format turns into the record; the rest go to ``metadata.fields``."""
    if fmt.name == mapped.NAME:
        return mapped.keys(mapping)
    if mapping is not None and mapping.tools:
        return fmt.keys | {mapping.tools}
    return fmt.keys
