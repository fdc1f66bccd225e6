"""Software-agent runs: SWE-agent's role/text trajectories (nebius/SWE-agent-trajectories), and the outcome column
every agent-run dataset carries beside its turns.

nebius/SWE-agent-trajectories rows are ``{"instance_id", "model_name", "target": bool, "trajectory": [{"role":
"system" | "user" | "ai", "text", "system_prompt", "mask", "cutoff_date"}], "exit_status", "generated_patch",
"eval_logs"}``. The system turn keeps its prompt in ``system_prompt`` (its ``text`` is null or empty), ``ai`` is
the agent, and ``mask`` says which agent turns are trained on (true on the agent's turns, false on the prompt and
the observations): it becomes the turn's weight, as a ``loss`` flag does.

An agent run that failed its task is no behaviour to imitate: SWE-smith-trajectories and SWE-Gym's OpenHands
trajectories say so with ``resolved: false``, nebius's SWE-agent trajectories with ``target: false``.
``failed_run`` reads that column, only beside the keys those datasets name their runs with (``instance_id`` and a
patch, run id or evaluation log): a support desk's ``resolved: false`` is a ticket still open, not a failed run.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import is_false, map_role
from curation.readers.mapping import FieldMapping

NAME = "swe_agent_trajectory"
KEYS = frozenset({"trajectory"})
_ROLES = frozenset({"system", "user", "ai"})
_OWN_KEYS = frozenset({"mask", "system_prompt", "cutoff_date"})
_READ = frozenset({"role", "text", "system_prompt", "mask"})  # a turn's keys its message is made of


def _turns(value: Any) -> bool:
    if type(value) is not list or not value:
        return False
    own = False
    for turn in value:
        if type(turn) is not dict or turn.get("role") not in _ROLES or ("text" not in turn
                                                                       and "system_prompt" not in turn):
            return False
        own = own or turn["role"] == "ai" or not _OWN_KEYS.isdisjoint(turn)
    return own


def is_swe_agent_trajectory(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    """A ``trajectory`` of SWE-agent's ``system``/``user``/``ai`` turns with ``text`` (an ``ai`` turn, or the
    dataset's own ``mask``/``system_prompt``/``cutoff_date`` keys, tell it from other turn lists)."""
    return "messages" not in obj and _turns(obj.get("trajectory"))


def _message(turn: dict[str, Any], mapping: FieldMapping | None,
             said: str | None) -> tuple[dict[str, Any], str | None]:
    """One turn as a message, and the system prompt read so far (``said``): a copy of it on a later turn says
    nothing new; any other ``system_prompt``, a prompt turn's ``mask: true`` and ``cutoff_date`` stay, set aside
    in ``turn_fields``."""
    role = map_role(turn["role"], mapping)
    text, prompt = turn.get("text"), turn.get("system_prompt")
    message: dict[str, Any] = {"role": role}
    if role == "system" and isinstance(prompt, str) and prompt.strip() and not (isinstance(text, str)
                                                                                and text.strip()):
        message["content"] = said = prompt
    else:
        message["content"] = text
        if prompt is not None and prompt != said:
            message["system_prompt"] = prompt
    mask = turn.get("mask")
    if role == "assistant" and type(mask) is bool:
        message["weight"] = int(mask)  # mask true: the turn is trained on
    elif mask is True:
        message["mask"] = mask  # a prompt turn cannot be trained on: kept visible
    message.update((k, v) for k, v in turn.items() if k not in _READ and v is not None)
    return message, said


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[None, dict[str, Any], None]]:
    messages: list[dict[str, Any]] = []
    said: str | None = None
    for turn in obj["trajectory"]:
        message, said = _message(turn, mapping, said)
        messages.append(message)
    return [(None, {"messages": messages}, None)]


# The keys agent-run datasets name a run with, beside its task's `instance_id` (SWE-bench's owner__repo-number).
_RUN_KEYS = frozenset({"traj_id", "run_id", "trajectory_id", "patch", "model_patch", "generated_patch",
                       "test_result", "eval_logs", "exit_status"})
_OUTCOMES = (
    ("resolved", "the agent's patch did not resolve the task"),
    ("target", "the agent's patch did not solve the issue"),
)


def failed_run(obj: dict[str, Any]) -> str | None:
    """Why an agent-run row is no run to imitate (``resolved: false``, ``target: false``), for ``label_from``; None
    for a run that succeeded, and for any row that does not name an agent run."""
    if "instance_id" not in obj or _RUN_KEYS.isdisjoint(obj):
        return None
    for key, why in _OUTCOMES:
        value = obj.get(key)
        # 0 too: a run table saved through pandas or CSV writes the outcome as 0/1
        if key in obj and (is_false(value) or (type(value) is int and value == 0) or value == "0"):
            return f"{key}: {'false' if is_false(value) else 0} ({why})"
    return None
