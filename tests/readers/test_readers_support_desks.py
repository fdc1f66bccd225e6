"""Support-desk exports read as conversations: Zendesk, Intercom, Freshdesk, Help Scout.

Real files: Intercom's own conversation examples (intercom/Intercom-OpenAPI, MIT) and python-freshdesk's API
fixtures (sjkingo/python-freshdesk, BSD-2-Clause), in tests/data/real. The Zendesk and Help Scout rows are built
exactly to the JSON their API references document (developer.zendesk.com Ticket Comments and Users; Help Scout
Mailbox API 2.0 List Threads, whose example is newest first), with Help Scout's thread from helpscout-api-php's
test payloads (MIT): no permissively licensed export of either is public.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from read_helpers import read, refused

from curation.readers import FieldMapping, convert_payload, read_path
from curation.readers.formats._support import cut_quote, html_text

INTERCOM = "intercom__Intercom-OpenAPI/conversation_examples.json"
FRESHDESK = "sjkingo__python-freshdesk"


def _items(obj: Any, mapping: FieldMapping | None = None) -> list[Any]:
    return convert_payload(orjson.dumps(obj), None, mapping, "x.json", None, 0)


# --- Intercom ----------------------------------------------------------------------------------------------------

def test_intercom_examples_read_the_one_real_exchange_and_refuse_the_one_sided(real_dir: Path) -> None:
    items = list(read_path(real_dir / INTERCOM))
    assert len(items) == 14 and {i.format for i in items} == {"intercom"}
    [kept] = [i for i in items if i.record is not None]
    # "email conversation with history found": a lead writes, an admin answers; the custom action and the
    # attribute update are events without words
    assert kept.record["id"] == "504"
    assert kept.record["messages"] == [{"role": "user", "content": "This is the message body"},
                                       {"role": "assistant", "content": "Okay!"}]
    assert kept.record["metadata"]["left_out"] == {"events": 3}
    # the source's other keys are the conversation's, not the turn's: they stay a field
    source = kept.record["metadata"]["fields"]["source"]
    assert source["subject"] == "<p>Re: Bug query</p>" and source["delivered_as"] == "customer_initiated"
    assert "body" not in source and source["reply_to"] == [{"email": "replies@example.com", "name": "Support Team"}]
    assert {i.error[0] for i in items if i.error} == {"one_sided_ticket"}
    by_id = {json.loads(e)["id"]: i for e, i in zip(
        [orjson.dumps(c) for c in json.loads((real_dir / INTERCOM).read_text())], items, strict=True)}
    assert "bot_replies 1" in by_id["503"].error[1]  # Fin's call summary: a bot's words, left out and said
    assert "private_notes 1" in by_id["525"].error[1]  # "Admin Reply with a Note": the note is no reply
    # "User reply": the user's "Thanks again :)" reopens the conversation (an `open` part with words) and nothing
    # answers it
    assert "after the agent's last words" in by_id["524"].error[1]


def test_intercom_parts_by_author_and_bots_only_when_asked(real_dir: Path) -> None:
    [conversation] = [c for c in json.loads((real_dir / INTERCOM).read_text()) if c["id"] == "504"]
    parts = conversation["conversation_parts"]["conversation_parts"]
    fin = {**parts[0], "id": 9, "author": {"type": "bot", "id": "278", "name": "Fin"},
           "body": "<p>Have you tried <b>restarting</b>?</p>", "created_at": parts[0]["created_at"] - 1}
    note = {**parts[0], "id": 10, "part_type": "note", "body": "<p>VIP customer</p>"}
    customer = {**parts[0], "id": 11, "author": {"type": "user", "id": "u1"}, "body": "<p>Still broken</p>",
                "created_at": parts[0]["created_at"] + 10}
    answer = {**parts[0], "id": 12, "part_type": "close", "body": "<p>Fixed now.</p>",
              "created_at": parts[0]["created_at"] + 20}
    conversation["conversation_parts"]["conversation_parts"] = [fin, *parts, note, customer, answer]
    [item] = _items(conversation)
    assert [m["content"] for m in item.record["messages"]] == [
        "This is the message body", "Okay!", "Still broken", "Fixed now."]
    assert item.record["metadata"]["left_out"] == {"bot_replies": 1, "events": 3, "private_notes": 1}
    [item] = _items(conversation, FieldMapping(bot_replies=True))
    assert item.record["messages"][1] == {"role": "assistant", "content": "Have you tried restarting?\n\nOkay!"}
    assert "bot_replies" not in item.record["metadata"]["left_out"]


def test_intercom_inline_images_are_counted_and_an_emoji_kept(real_dir: Path) -> None:
    [conversation] = [c for c in json.loads((real_dir / INTERCOM).read_text()) if c["id"] == "504"]
    parts = conversation["conversation_parts"]["conversation_parts"]
    screenshot = {**parts[0], "id": 13, "author": {"type": "lead", "id": "l1"},
                  "created_at": parts[0]["created_at"] - 1, "body": '<div><img src="https://downloads.intercomcdn.com/i/o/1/screenshot.png"></div>'}
    emoji = {**parts[0], "id": 14, "body": '<p>Fixed <img src="https://x/1f600.png" alt="😀" class="emoji"> '
                                           '<img src="https://x/chart.png" alt="the usage chart"></p>'}
    conversation["conversation_parts"]["conversation_parts"] = [screenshot, *parts, emoji]
    [item] = _items(conversation)
    assert [m["content"] for m in item.record["messages"]] == ["This is the message body", "Okay!\n\nFixed 😀"]
    assert item.record["metadata"]["left_out"] == {"events": 3, "images": 2}


# --- Freshdesk ---------------------------------------------------------------------------------------------------

def _freshdesk(real_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ticket = json.loads((real_dir / FRESHDESK / "ticket_1.json").read_text())
    return ticket, json.loads((real_dir / FRESHDESK / "conversations.json").read_text())


def test_freshdesk_ticket_with_its_conversations(real_dir: Path) -> None:
    ticket, conversations = _freshdesk(real_dir)
    record = read({**ticket, "conversations": conversations})  # what ?include=conversations returns
    assert record["id"] == "1"
    assert record["messages"] == [
        {"role": "user", "content": "This is a sample ticket, feel free to delete it."},
        {"role": "assistant", "content": "This is a reply"}]
    # the private note never becomes text; the ticket's attachment is named, not held
    assert record["metadata"]["left_out"] == {"attachments": 1, "private_notes": 1}
    assert "This is a private note" not in orjson.dumps(record).decode()
    assert record["metadata"]["fields"]["subject"] == "This is a sample ticket"


def test_freshdesk_files_read_apart_are_refused_with_the_fix(real_dir: Path) -> None:
    [alone] = list(read_path(real_dir / FRESHDESK / "ticket_1.json"))
    assert alone.format == "freshdesk" and alone.error[0] == "one_sided_ticket"
    assert "no agent reply" in alone.error[1]
    entries = list(read_path(real_dir / FRESHDESK / "conversations.json"))
    assert [i.error[0] for i in entries] == ["one_sided_ticket"] * 2
    assert "include=conversations" in entries[0].error[1]


def test_freshdesk_html_description_and_incoming_reply(real_dir: Path) -> None:
    ticket, conversations = _freshdesk(real_dir)
    del ticket["description_text"]
    reply = {**conversations[1], "id": 3, "incoming": True, "user_id": ticket["requester_id"],
             "body": "<div>Thanks!<br><br>On Thu, 19 May 2016 at 07:36, Rachel &lt;rachel@freshdesk.com&gt; wrote:"
                     "<blockquote>This is a reply</blockquote></div>", "body_text": None,
             "created_at": "2016-05-19T06:00:00Z"}
    answer = {**conversations[1], "id": 4, "body": "<div>Glad to help</div>", "body_text": "Glad to help",
              "created_at": "2016-05-19T07:00:00Z"}
    record = read({**ticket, "conversations": [*conversations, reply, answer]})
    assert [m["content"] for m in record["messages"]] == [
        "This is a sample ticket, feel free to delete it.", "This is a reply", "Thanks!", "Glad to help"]
    assert record["metadata"]["left_out"]["quoted_text"] == 1


# --- Zendesk -----------------------------------------------------------------------------------------------------

def _comment(cid: int, author: int, text: str, *, public: bool = True, channel: str = "web",
             html: str | None = None, at: str = "2019-01-13T20:25:33Z") -> dict[str, Any]:
    return {"id": cid, "type": "Comment", "author_id": author, "body": text,
            "html_body": html or f'<div class="zd-comment" dir="auto"><p dir="auto">{text}</p></div>',
            "plain_body": text, "public": public, "attachments": [], "audit_id": cid,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}, "created_at": at,
            "metadata": {"system": {}, "custom": {}}}


def _ticket(comments: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"url": "https://example.zendesk.com/api/v2/tickets/1.json", "id": 1, "subject": "Maintenance request",
            "description": comments[0]["body"], "status": "open", "requester_id": 1, "submitter_id": 1,
            "assignee_id": 2, "via": {"channel": "email"}, "tags": ["maintenance"], "comments": comments, **extra}


def test_zendesk_ticket_sides_from_the_requester_and_notes_left_out() -> None:
    record = read(_ticket([
        _comment(1, 1, "Hello - could use your help!"),
        _comment(2, 2, "Checked the logs: it is the disk.", public=False, at="2019-01-13T20:28:00Z"),
        _comment(3, 2, "Hi Monica,\n\nThank you for reaching out.", at="2019-01-13T20:30:41Z"),
        _comment(4, 1, "Thanks!\n\n##- Please type your reply above this line -##\nHi Monica, thank you",
                 at="2019-01-13T21:00:00Z"),
        _comment(5, 2, "You're welcome.", at="2019-01-13T21:05:00Z"),
    ]))
    assert record["id"] == "1" and record["metadata"]["source"]["format"] == "zendesk"
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("user", "Hello - could use your help!"), ("assistant", "Hi Monica,\n\nThank you for reaching out."),
        ("user", "Thanks!"), ("assistant", "You're welcome.")]
    assert record["metadata"]["left_out"] == {"private_notes": 1, "quoted_text": 1}
    assert "the disk" not in orjson.dumps(record).decode()
    assert record["metadata"]["fields"]["subject"] == "Maintenance request"


def test_zendesk_unanswered_customer_turns_are_counted_as_turns() -> None:
    record = read(_ticket([
        _comment(1, 1, "It broke"), _comment(2, 2, "Fixed.", at="2019-01-13T20:30:00Z"),
        _comment(3, 1, "Thanks!\n\nBest regards,\nAnn\n\nSent from my iPhone", at="2019-01-13T21:00:00Z"),
        _comment(4, 1, "One more thing\n\nabout the invoice", at="2019-01-13T21:05:00Z"),
    ]))
    assert [m["content"] for m in record["messages"]] == ["It broke", "Fixed."]
    assert record["metadata"]["left_out"] == {"unanswered_customer_turns": 2}


def test_zendesk_users_sideload_tells_a_cc_customer_from_an_agent_and_pages_are_split() -> None:
    users = [{"id": 1, "name": "Monica", "role": "end-user"}, {"id": 2, "name": "Kaela", "role": "agent"},
             {"id": 7, "name": "Monica's colleague", "role": "end-user"}, {"id": 9, "name": "Other", "role": "admin"}]
    first = _ticket([_comment(1, 1, "Printer on fire"), _comment(2, 7, "Still on fire", at="2019-01-13T20:26:00Z"),
                     _comment(3, 2, "Fire brigade called.", at="2019-01-13T20:30:00Z")])
    second = {**_ticket([_comment(4, 1, "Hi"), _comment(5, 1, "anyone?", at="2019-01-14T00:00:00Z")]), "id": 2}
    page = {"tickets": [first, second], "users": users, "next_page": None, "end_of_stream": True}
    items = _items(page)
    assert [i.error and i.error[0] for i in items] == [None, "one_sided_ticket"]
    record = items[0].record
    # the colleague is an end-user: a customer turn, merged with the requester's
    assert record["messages"] == [{"role": "user", "content": "Printer on fire\n\nStill on fire"},
                                  {"role": "assistant", "content": "Fire brigade called."}]
    assert "users" not in record["metadata"].get("fields", {})
    assert "no agent reply" in items[1].error[1]


def test_zendesk_comments_response_needs_users_or_a_requester() -> None:
    response = {"comments": [_comment(1, 11, "Help"), _comment(2, 12, "Done.")], "next_page": None,
                "previous_page": None, "count": 2}
    code, detail = refused(response)
    assert code == "unknown_speaker" and "include=users" in detail
    record = read({**response, "users": [{"id": 11, "role": "end-user"}, {"id": 12, "role": "agent"}]})
    assert [m["role"] for m in record["messages"]] == ["user", "assistant"]


def test_zendesk_html_only_bot_and_trigger_comments() -> None:
    html = ('<div class="zd-comment" dir="auto">Try this:<br><ol><li>Open <a href="https://example.com/s">'
            'settings</a></li><li>Run <code>reset --all</code></li></ol><pre>  $ reset --all\n  ok</pre>'
            "<style>p {color: red}</style></div>")
    agent = {**_comment(3, 2, "x", html=html), "plain_body": None, "body": None}
    record = read(_ticket([
        _comment(1, 1, "It broke"),
        _comment(2, 2, "Here is an article that may help", channel="answer_bot_for_web_widget"),
        _comment(4, 2, "Your request was received", channel="rule"),
        agent,
    ]))
    assert record["messages"][1]["content"] == (
        "Try this:\n1. Open settings (https://example.com/s)\n2. Run reset --all\n  $ reset --all\n  ok")
    assert record["metadata"]["left_out"] == {"automated_messages": 1, "bot_replies": 1}


def test_zendesk_images_of_the_html_body_are_counted_beside_the_plain_body() -> None:
    shot = _comment(2, 2, "See the screenshot below.",
                    html='<div class="zd-comment"><p>See the screenshot below.</p><p><img src="https://example.zendesk'
                         '.com/attachments/token/abc/?name=image.png" alt="image.png"></p></div>')
    record = read(_ticket([_comment(1, 1, "Where is the button?"), shot]))
    assert record["messages"][1]["content"] == "See the screenshot below."
    assert record["metadata"]["left_out"] == {"images": 1}


# --- Help Scout --------------------------------------------------------------------------------------------------

def _thread(tid: int, kind: str, who: str, body: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "type": kind, "status": "active", "state": "published",
            "action": {"type": "manual-workflow", "text": "You ran the Assign to Spam workflow"}, "body": body,
            "source": {"type": "email", "via": "user" if who == "user" else "customer"},
            "customer": {"id": 256, "email": "vbird@mywork.com"},
            "createdBy": {"id": 6857 if who == "customer" else 1234, "type": who}, "createdAt": at, **extra}


def test_helpscout_threads_newest_first_are_put_in_order() -> None:
    threads = [  # as the API lists them: newest first
        _thread(5, "message", "user", "<p>Sent a new link.</p>", "2017-04-21T15:10:00Z"),
        _thread(4, "lineitem", "user", "", "2017-04-21T15:09:00Z"),
        _thread(3, "note", "user", "<p>Customer on the old plan</p>", "2017-04-21T15:05:00Z"),
        _thread(2, "message", "user", "<p>Draft</p>", "2017-04-21T15:00:00Z", state="draft"),
        _thread(1, "customer", "customer", "<p>Need Help</p><p>The link expired.</p>", "2017-04-21T14:39:56Z"),
    ]
    conversation = {"id": 1, "number": 3, "subject": "Link", "status": "active", "type": "email", "threads": 5,
                    "_embedded": {"threads": threads}}
    record = read(conversation)
    assert record["messages"] == [{"role": "user", "content": "Need Help\n\nThe link expired."},
                                  {"role": "assistant", "content": "Sent a new link."}]
    assert record["metadata"]["left_out"] == {"events": 1, "private_notes": 1, "unpublished_threads": 1}
    assert record["metadata"]["fields"]["threads"] == 5  # the conversation's thread count stays a field


def _helpscout_order(threads: list[dict[str, Any]]) -> list[str]:
    record = read({"id": 1, "_embedded": {"threads": threads}})
    return [m["content"] for m in record["messages"]]


def test_helpscout_listing_is_reversed_when_a_thread_has_no_time() -> None:
    threads = [  # newest first, as the API lists them; one thread without createdAt cannot be placed by time
        _thread(4, "reply", "user", "Glad to help", "2024-01-01T13:00:00Z"),
        _thread(3, "customer", "customer", "Thanks, works", "2024-01-01T12:00:00Z"),
        _thread(2, "reply", "user", "Restart it", "2024-01-01T11:00:00Z"),
        _thread(1, "customer", "customer", "It is broken", "2024-01-01T10:00:00Z"),
    ]
    del threads[1]["createdAt"]
    assert _helpscout_order(threads) == ["It is broken", "Restart it", "Thanks, works", "Glad to help"]
    # an export written oldest first (its times rise) is not reversed
    assert _helpscout_order(threads[::-1]) == ["It is broken", "Restart it", "Thanks, works", "Glad to help"]


def test_helpscout_threads_of_one_second_keep_the_newest_first_order_reversed() -> None:
    threads = [
        _thread(3, "reply", "user", "Answer 2", "2024-01-01T10:00:05Z"),
        _thread(2, "customer", "customer", "Follow-up", "2024-01-01T10:00:00Z"),
        _thread(1, "reply", "user", "Answer 1", "2024-01-01T10:00:00Z"),
        _thread(0, "customer", "customer", "Question", "2024-01-01T09:00:00Z"),
    ]
    assert _helpscout_order(threads) == ["Question", "Answer 1", "Follow-up", "Answer 2"]


@pytest.mark.parametrize("first, second", [
    ("2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00Z"),  # 08:00 UTC comes before 09:00 UTC
    ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00.500Z"),  # as text ".500Z" sorts before "Z"
    (1704103200, "2024-01-01T10:00:01Z"),  # epoch seconds beside ISO text: one time line
])
def test_times_are_compared_as_instants(first: Any, second: Any) -> None:
    # the comments listed against their times: put in order by the instants, not by the text
    record = read(_ticket([{**_comment(2, 2, "Sure"), "created_at": second},
                           {**_comment(1, 1, "Help me"), "created_at": first}]))
    assert [m["content"] for m in record["messages"]] == ["Help me", "Sure"]


def test_a_time_that_cannot_be_read_leaves_the_file_order() -> None:
    record = read(_ticket([{**_comment(1, 1, "Help me"), "created_at": "yesterday"},
                           {**_comment(2, 2, "Sure"), "created_at": "2024-01-01T09:00:00Z"}]))
    assert [m["content"] for m in record["messages"]] == ["Help me", "Sure"]


# --- HTML and quotes ---------------------------------------------------------------------------------------------

def test_html_text() -> None:
    assert html_text("<p>Hi&nbsp;there &amp; welcome</p><p>Line<br>break</p>") == "Hi there & welcome\n\nLine\nbreak"
    assert html_text('<ul>\n<li>Coffee</li>\n<li>Tea</li>\n</ul>') == "- Coffee\n- Tea"
    assert html_text('<a href="https://x.io">https://x.io</a> <a href="mailto:a@b.c">a@b.c</a>') == \
        "https://x.io a@b.c"
    assert html_text("<script>alert(1)</script><p>ok</p>") == "ok"
    assert html_text("<div>x</div><blockquote>old<br>older</blockquote>") == "x\n> old\n> older"


@pytest.mark.parametrize("html, text", [
    ("<ol start='5'><li>five</li><li>six</li></ol>", "5. five\n6. six"),  # a list continued after a break
    ("<ol><li>one</li><li value='7'>seven</li><li>eight</li></ol>", "1. one\n7. seven\n8. eight"),
    ("<ul><li>a<ul><li>b<ol><li>c</li></ol></li></ul></li><li>d</li></ul>", "- a\n  - b\n    1. c\n- d"),
    ("<p>x</p><pre>a\n\n\nb</pre><p>y</p>", "x\n\na\n\n\nb\n\ny"),  # a <pre>'s blank lines are its own
    ("<p>a</p><p></p><p>&nbsp;</p><p>b</p>", "a\n\nb"),  # elsewhere at most one blank line
])
def test_html_lists_and_pre(html: str, text: str) -> None:
    assert html_text(html) == text


def _calls(html: str) -> int:
    """Function calls (Python and C) made to read ``html``: a count of work that does not depend on the machine."""
    count = 0

    def profile(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        html_text(html)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("block", ["<div></div>", "<tr><td></td></tr>", "<p>&nbsp;</p>", "<p><br></p>"])
def test_html_text_is_linear_in_runs_of_empty_blocks(block: str) -> None:
    # spacer tables and empty paragraphs of e-mail templates: each block costs the same, however many came before
    small, large = _calls("Hi<table>" + block * 300 + "</table>bye"), _calls("Hi<table>" + block * 600 + "</table>bye")
    assert large < 2.3 * small
    assert html_text("Hello<table>" + block * 100_000 + "</table>bye") in ("Hello\nbye", "Hello\n\nbye")


@pytest.mark.parametrize("text, kept", [
    ("Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Ann <a@b.c> wrote:\n> old", "Thanks!"),
    ("Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Ann Example <ann@example.com>\nwrote:\n\nold", "Thanks!"),
    ("Thanks!\n\nFrom: Ann <a@b.c>\nSent: Monday, 1 January 2024 10:00\nTo: Support\nSubject: Re: x\n\nold",
     "Thanks!"),
    ("Thanks!\n-----Original Message-----\nold", "Thanks!"),
    ("Thanks!\n\nOn 03/06/2024 10:02, Ann wrote:\n> old\n>\n> older\n", "Thanks!"),
    ("Works now.\n\n________________________________\nFrom: Support <help@example.com>\nSent: Monday, 1 January "
     "2024 10:00\nTo: Ann\nSubject: Re: x\n\nold", "Works now."),
    ("Done.\n\n##- Please type your reply above this line -##\n\nSupport (Example)\nJan 1, 10:00\nold", "Done."),
])
def test_quoted_email_is_cut(text: str, kept: str) -> None:
    assert cut_quote(text) == (kept, True)


@pytest.mark.parametrize("text", [
    "> Can you reset it?\nDone, reset.",  # a reply below a quoted line answers it: kept
    "From: the docs, step 2 says so.\nSo I did.",  # a "From:" line that is no header block
    "I wrote: it works on Monday",
    # an interleaved reply: the writer's answers stand between the quoted questions
    "On Mon, Support wrote:\n> Is it on?\nYes it is on.\n> Which version?\n4.2",
    "Thanks.\n\nOn Mon, 3 Jun 2024 at 10:02, Ann <ann@example.com> wrote:\n> Is it on?\nYes.\n> Version?\n4.2",
    # "On ... wrote:" with no date and no address is a sentence
    "On startup the app wrote:\nERROR 0x80070005 access denied",
    "On my invoice for March\nyour system wrote:\nTotal due $0",
    # '>' lines no attribution opens are the writer's: a shell prompt, a quoted error, a comparison
    "I ran:\n> npm install\n> npm start",
    "The limit should be\n>= 5 items",
    "Your error page shows:\n\n> Payment declined (code 51)",
    "Thanks!\n\n> old\n>\n> older",
    # a forward brings the question: Gmail's and Apple Mail's, Outlook's FW:, and a header block opening the message
    "Can you explain this charge?\n---------- Forwarded message ---------\nFrom: Billing <billing@example.com>\n"
    "Date: Mon, 1 Jan 2024 at 10:00\nSubject: Your invoice\nTo: <ann@example.com>\n\nYou were charged $50",
    "See below\n\nBegin forwarded message:\n\nFrom: Billing <billing@example.com>\nDate: 1 January 2024\n"
    "Subject: Invoice\n\nYou were charged $50",
    "Is this you?\n\nFrom: Billing <billing@example.com>\nSent: Monday, 1 January 2024 10:00\nTo: Ann\n"
    "Subject: FW: Invoice\n\nYou were charged $50",
    "From: Billing <billing@example.com>\nSent: Monday, 1 January 2024 10:00\nTo: Ann\nSubject: Invoice\n\n"
    "You were charged $50",
])
def test_text_that_is_no_quote_is_kept(text: str) -> None:
    assert cut_quote(text) == (text, False)


def test_a_run_says_what_the_readers_left_out(tmp_path: Path) -> None:
    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline

    source = tmp_path / "tickets.jsonl"
    source.write_text("".join(orjson.dumps({**_ticket([
        _comment(1, 1, f"My order {n} is late"), _comment(2, 2, "Escalated", public=False),
        _comment(3, 2, f"Order {n} ships today.", at="2019-01-13T21:00:00Z")]), "id": n}).decode() + "\n"
        for n in range(12)))
    config = load_config(None, values={"inputs": [str(source)], "out": str(tmp_path / "run"), "export.formats": []})
    result = run_pipeline(config, quiet=True)
    assert result.records_out == 12
    [warning] = [w for w in result.warnings if "left out of the kept records" in w]
    assert "private_notes 12" in warning


@pytest.mark.parametrize("beside", [
    {"comments": [{"author_id": 1, "public": True, "body": "nice sample"}]},
    {"threads": [{"type": "review", "createdBy": {"type": "user"}, "body": "ok"}]},
    {"_embedded": {"threads": [{"type": "customer", "createdBy": {"type": "customer"}, "body": "hi"}]}},
    {"type": "conversation", "source": {"body": "hi", "author": {"type": "user"}}, "conversation_parts": []},
    {"requester_id": 1, "description_text": "hi", "conversations": []},
])
def test_a_chat_record_with_a_desk_key_beside_its_turns_is_no_ticket(beside: dict[str, Any]) -> None:
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    [item] = _items({"messages": turns, **beside})
    assert item.error is None and item.format == "openai" and item.record["messages"] == turns
    assert set(beside) <= set(item.record["metadata"]["fields"])
    if "conversations" not in beside:
        sharegpt = [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]
        [item] = _items({"conversations": sharegpt, **beside})
        assert item.error is None and item.format == "sharegpt"


# --- damaged exports: refused with the field named, never a traceback ---------------------------------------------

_ODD = [None, 5, 3.5, True, [], {}, "", "x", ["a"], [None], {"a": 1}]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Any:
    children = value.items() if type(value) is dict else enumerate(value) if type(value) is list else ()
    for key, child in children:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _with(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    value = orjson.loads(orjson.dumps(value))
    place = value
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = new
    return value


@pytest.mark.parametrize("page, field", [
    ({"users": [{"id": [1], "role": "agent"}]}, "a user's id in users is an array ([1])"),
    ({"users": 5}, "users is a number (5)"),
    ({"users": [{"id": 1, "role": ["agent"]}]}, "the role of user 1 in users is an array"),
])
def test_a_zendesk_page_with_a_damaged_users_sideload_is_refused_with_the_field(page: dict[str, Any],
                                                                                 field: str) -> None:
    ticket = _ticket([_comment(1, 1, "Help"), _comment(2, 2, "Done.")])
    [item] = _items({"tickets": [ticket], **page})
    assert item.error[0] == "data_type" and field in item.error[1] and "Zendesk" in item.error[1]


def test_odd_values_anywhere_in_a_zendesk_page_never_raise() -> None:
    page = {"tickets": [_ticket([_comment(1, 1, "Help"), _comment(2, 2, "Done.")])],
            "users": [{"id": 1, "role": "end-user"}, {"id": 2, "role": "agent"}]}
    for path in _paths(page):
        for odd in _ODD:
            for item in _items(_with(page, path, odd)):
                assert item.error is None or "TypeError" not in item.error[1], (path, odd, item.error)


@pytest.mark.parametrize("desk, path, field", [
    ("zendesk", ("comments", 0, "author_id"), "comments[0].author_id is an array"),
    ("intercom", ("source", "author", "type"), "source.author.type is an array"),
    ("intercom", ("conversation_parts", "conversation_parts", 0, "part_type"),
     "conversation_parts[0].part_type is an array"),
    ("intercom", ("conversation_parts", "conversation_parts", 0, "author", "type"),
     "conversation_parts[0].author.type is an array"),
])
def test_a_field_of_the_wrong_type_is_named_in_the_refusal(real_dir: Path, desk: str, path: tuple[Any, ...],
                                                          field: str) -> None:
    if desk == "zendesk":
        record: dict[str, Any] = _ticket([_comment(1, 1, "Help"), _comment(2, 2, "Done.")])
    else:
        [record] = [c for c in json.loads((real_dir / INTERCOM).read_text()) if c["id"] == "504"]
    code, detail = refused(_with(record, path, ["x"]))
    assert code == "data_type" and field in detail and "TypeError" not in detail


def test_zendesk_reply_linking_somewhere_its_plain_body_does_not_say_is_read_from_the_html() -> None:
    # Zendesk's plain_body keeps a link's words and drops its address: the reply trained as "follow this guide"
    html = ('<div class="zd-comment" dir="auto"><p dir="auto">Please follow <a href="https://help.example.com/'
            'articles/360-reset" rel="noreferrer">this guide</a> to reset it.</p></div>')
    linked = _comment(2, 2, "Please follow this guide to reset it.", html=html)
    record = read(_ticket([_comment(1, 1, "How do I reset my password?"), linked]))
    assert record["messages"][1]["content"] == (
        "Please follow this guide (https://help.example.com/articles/360-reset) to reset it.")
    # a plain body that holds the address (or a link to an anchor or an e-mail it names) stays as it is
    said = _comment(2, 2, "See https://help.example.com/x or write to help@example.com.",
                    html='<p>See <a href="https://help.example.com/x">https://help.example.com/x</a> or write to '
                         '<a href="mailto:help@example.com">help@example.com</a>. <a href="#top">Top</a></p>')
    record = read(_ticket([_comment(1, 1, "Where are the docs?"), said]))
    assert record["messages"][1]["content"] == "See https://help.example.com/x or write to help@example.com."


def test_zendesk_copied_in_colleague_without_users_is_the_customers_side() -> None:
    # without the users sideload every author but the requester read as the agent: the customer's colleague
    # (email_cc_ids) was trained as the support agent's reply
    record = read(_ticket([
        _comment(1, 1, "Our invoices stopped arriving."),
        _comment(2, 7, "Same for my account, we share the billing address."),
        _comment(3, 2, "Thanks both: I re-enabled invoice e-mails for your organisation."),
        _comment(4, 9, "Confirmed on our side, closing.", at="2019-01-13T20:40:00Z"),
        _comment(5, 1, "Great, thanks!", at="2019-01-13T20:45:00Z"),
        _comment(6, 2, "You're welcome.", at="2019-01-13T20:50:00Z"),
    ], email_cc_ids=[7, 9], follower_ids=[9], collaborator_ids=[7]))
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("user", "Our invoices stopped arriving.\n\nSame for my account, we share the billing address."),
        ("assistant", "Thanks both: I re-enabled invoice e-mails for your organisation.\n\nConfirmed on our side, "
                      "closing."),  # 9 is a follower: an agent
        ("user", "Great, thanks!"), ("assistant", "You're welcome.")]
