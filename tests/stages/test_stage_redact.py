from __future__ import annotations

import copy
import pickle

import pytest

from curation.pipeline.stages.redact import RedactConfig, RedactStage


def redact(text: str, **config: object) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    return RedactStage(RedactConfig(enabled=True, **config)).redact_text(text, counts), counts


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mail john.doe+news@example.co.uk now", "email"),
        ("call +1 (555) 123-4567 today", "phone"),
        ("call 555-123-4567 today", "phone"),
        ("call (555) 123-4567 today", "phone"),
        ("appelez le 06 12 34 56 78", "phone"),
        ("ring +44 20 7946 0958", "phone"),
        ("ring 020 7946 0958", "phone"),
        ("打 13800138000 联系", "phone"),
        ("ruf +49 30 12345678 an", "phone"),
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 ok", "api_key"),
        ("key sk-abcdefghijklmnopqrstuvwxyzABCDEF1234 ok", "api_key"),
        ("aws AKIAIOSFODNN7EXAMPLE ok", "api_key"),
        ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789AB ok", "api_key"),
        ("gh github_pat_11ABCDEFG0123456789_abcdefghijkl ok", "api_key"),
        ("slack xoxb-1234567890-abcdefghij ok", "api_key"),
        ("google AIzaSyA1234567890abcdefghijklmnopqrstuv ok", "api_key"),
        ("hf hf_abcdefghijklmnopqrstuvwxyzABCDEFGH ok", "api_key"),
        ("stripe sk_live_abcdefghijklmnop1234 ok", "api_key"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
            "api_key",
        ),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----", "private_key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----", "private_key"),
        ("host 81.2.69.160 down", "ip_address"),
        ("dns 8.8.8.8.", "ip_address"),
        ("v6 2a01:4f8:c17:b8f::2 up", "ip_address"),
        ("v6 2a00:1450:4001:81b::200e up", "ip_address"),
        ("card 4111 1111 1111 1111 ok", "credit_card"),
        ("card 4111-1111-1111-1111 ok", "credit_card"),
        ("card 5500000000000004 ok", "credit_card"),
        ("card=4111111111111111&exp=12", "credit_card"),
        ("Amex 3782 822463 10005 ok", "credit_card"),
        ("card 4111 1111 1111 1111 - thanks", "credit_card"),
        ("call +44 20 7946 0958 - thanks", "phone"),
        ("tel 555-123-4567 / 2 lines", "phone"),  # only a bare digit run is taken for an operand
        ("born 2001-02-03, card 4111111111111111", "credit_card"),  # a date is no calculation
        # glaive_toolcall_zh_demo.json: the tool's output was redacted, the answer that read it out was not
        ("您的新密码是：aB3#fG6&kL9@。请妥善保管。", "credential"),
        ("密码为 “Passw0rd2024”，用户名为 JohnDoe", "credential"),
        ("パスワードは「hunter22abc」です", "credential"),
        ("새 비밀번호는 Qw3rty!23 입니다", "credential"),
        ("Ваш пароль: s3cr3tPass", "credential"),
    ],
)
def test_each_kind_is_redacted(text: str, kind: str) -> None:
    out, counts = redact(text)
    assert counts == {kind: 1}, (out, counts)
    assert f"[{kind.upper()}]" in out


def test_bearer_keeps_the_word() -> None:
    out, counts = redact("Authorization: Bearer abcdef1234567890abcdef")
    assert out == "Authorization: Bearer [API_KEY]" and counts == {"api_key": 1}


@pytest.mark.parametrize(
    "text",
    [
        "released on 2023-01-15, or 12/05/2023, or 12.05.2023",
        "version 1.2.3, version 1.2.3.4, v10.0.0.1 and release 4.5.6.7",
        "python 3.11.4, numpy 1.26.0",
        "ISBN 978-3-16-148410-0",
        "the population is 1,000,000 and pi is 3.14159265358979",
        "order 1234567 and zip 94103 and year 2024",
        "range 100-200 and 2001-2010",
        "time 10:30:00 and ratio 16:9 and std::vector",
        "local 127.0.0.1, any 0.0.0.0, mask 255.255.255.0, ::1",
        "card-like 4111 1111 1111 1112 fails Luhn",
        "Use sk-learn or sk-12 as names",
        "an @mention and a@b are not emails",
        "Bearer token",
        "commit 3f2a9c1d0e4b5a6978877665544332211aabbccd fixed it, see abc1234",
        "uuid 8abbe477-9547-4822-863a-438ee990444d and build 20240115-1234",
        "released 2024-01-15, version 1.2.3-4567, 2.0.0-rc.1, v2024.01.15",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "signal 1010 1101 1001 0001 1010 1111 1100 1001",
        "password = get_password() and api_key = os.environ['KEY'] and token: str = None",
        "password: hunter and SSN format is XXX-XX-XXXX, error 0x80070005",
        # Arithmetic (LLaMA-Factory's dpo_en_demo.json): operands and results that pass the Luhn check or look
        # like an international number are numbers, not cards or phones.
        "Provide a step-by-step calculation for 355909190063-746. equations/math only, no commentary.",
        "355909190063 - 746 = 355909189317 and 2212954769 + 2000000000 = 4212883012996",
        "  472547338\n+960397912423686\n= 960398384971024",
        "4212883012996 / 4 and 2 * 4111111111111111",
        "256626720691 + 1646615806005 =\n\nThe result is:\n\n4212883012996",
        "密码是您的生日，请输入密码：abcdef，或者重置密码。",  # no digit: prose or a placeholder
        "请设置一个包含字母和数字的密码。",
    ],
)
def test_false_positives_left_alone(text: str) -> None:
    out, counts = redact(text)
    assert (out, counts) == (text, {})


def test_kinds_and_placeholder_configurable() -> None:
    text = "mail a.b@mailbox.org or call +1 555 123 4567"
    out, counts = redact(text, kinds=["email"], placeholder="<{kind}>")
    assert out == "mail <EMAIL> or call +1 555 123 4567" and counts == {"email": 1}


def test_private_ips_can_be_kept_or_redacted() -> None:
    assert redact("at 127.0.0.1")[1] == {}
    assert redact("at 127.0.0.1", keep_local_ips=False)[1] == {"ip_address": 1}


def test_process_counts_per_kind_over_the_record(conv, pair) -> None:
    record = conv("my mail is a@mailbox.org, b@posteo.de", "noted, call +1 555 123 4567")
    stage = RedactStage(RedactConfig(enabled=True))
    assert stage.process(record) is None
    assert record["messages"][0]["content"] == "my mail is [EMAIL], [EMAIL]"
    assert record["metadata"]["redactions"] == {"email": 2, "phone": 1}

    preference = pair("key AKIAIOSFODNN7EXAMPLE", "ok", "x@mailbox.org")
    stage.process(preference)
    assert preference["metadata"]["redactions"] == {"api_key": 1, "email": 1}

    clean = conv("hello", "world")
    stage.process(clean)
    assert "redactions" not in clean["metadata"]


def test_roles_and_tool_arguments(conv) -> None:
    record = conv("a@mailbox.org", "b@mailbox.org")
    call = {"id": "c", "type": "function", "function": {"name": "send", "arguments": '{"to": "c@mailbox.org"}'}}
    record["messages"].append({"role": "assistant", "tool_calls": [call]})
    RedactStage(RedactConfig(enabled=True, roles=["user"])).process(copy.deepcopy(record))
    only_user = copy.deepcopy(record)
    RedactStage(RedactConfig(enabled=True, roles=["user"])).process(only_user)
    assert only_user["messages"][1]["content"] == "b@mailbox.org"
    assert only_user["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"to": "c@mailbox.org"}'
    with_args = copy.deepcopy(record)
    RedactStage(RedactConfig(enabled=True, tool_arguments=True)).process(with_args)
    assert with_args["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"to": "[EMAIL]"}'
    assert with_args["metadata"]["redactions"] == {"email": 3}


def test_content_parts_deterministic_and_pickled(conv) -> None:
    record = conv("x", "y")
    record["messages"][0]["content"] = [{"type": "text", "text": "ip 81.2.69.7"}]
    stage = pickle.loads(pickle.dumps(RedactStage(RedactConfig(enabled=True))))
    stage.load()
    first, second = copy.deepcopy(record), copy.deepcopy(record)
    stage.process(first)
    stage.process(second)
    assert first == second
    assert first["messages"][0]["content"][0]["text"] == "ip [IP_ADDRESS]"


def test_on_by_default_before_validation_and_in_tool_arguments() -> None:
    config = RedactConfig()
    assert config.enabled and config.tool_arguments and config.everywhere
    assert RedactStage.before_validation  # so rejected records are redacted too


def test_real_arithmetic_pairs_are_not_redacted(real_dir) -> None:
    # LLaMA-Factory's dpo_en_demo.json: an operand of the prompt became [CREDIT_CARD] while the chosen answer kept
    # it; a sum became [CREDIT_CARD], a column addition [PHONE].
    from curation.readers import read_path

    items = list(read_path(real_dir / "hiyouga__LLaMA-Factory/dpo_en_demo.arithmetic.json"))
    assert len(items) == 3
    stage = RedactStage(RedactConfig(enabled=True))
    for item in items:
        before = copy.deepcopy(item.record)
        assert stage.process(item.record) is None
        assert item.record == before and "redactions" not in item.record["metadata"]


KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH3jK5mN7pQ9sT1vX3zA5cE7gH9jK1mN3pQ5sT7vX9zA1c"


@pytest.mark.parametrize(("text", "expected"), [
    # Chinese, Japanese and Korean write a value against the next word, with no space: \w matched their letters,
    # so none of these was found.
    ("我的电话13800138000，有事打给我。", "我的电话[PHONE]，有事打给我。"),
    ("邮箱zhangsan@qq.com", "邮箱[EMAIL]"),
    ("메일은 kim@naver.com입니다", "메일은 [EMAIL]입니다"),
    ("010-1234-5678로 전화주세요", "[PHONE]로 전화주세요"),
    ("私の電話番号は090-1234-5678です。", "私の電話番号は[PHONE]です。"),
    ("IP地址是81.2.69.160吗", "IP地址是[IP_ADDRESS]吗"),
    ("SSN是123-45-6789吗", "SSN是[NATIONAL_ID]吗"),
    ("卡号4111111111111111，谢谢", "卡号[CREDIT_CARD]，谢谢"),
    (f"密钥是{KEY}谢谢", "密钥是[API_KEY]谢谢"),
    ("连接mysql://root:hunter2secret@db.host.cn/x", "连接mysql://root:[CREDENTIAL]@db.host.cn/x"),
])
def test_values_written_against_cjk_text_are_redacted(text, expected) -> None:
    assert redact(text)[0] == expected


@pytest.mark.parametrize("text", [
    # versions, sections and OIDs (Code-Feedback / Magicoder style answers) are no hosts
    '[assembly: AssemblyVersion("1.0.0.0")]', "pip install torch==2.1.0.1", "Version: 1.2.3.4",
    '"version": "1.0.0.1"', "<Version>1.2.3.4</Version>", "Section 3.2.1.4 of the spec", "SNMP OID 1.3.6.1",
    "升级到1.2.3.4版本", "バージョン1.2.3.4にアップデート", "版本号1.2.3.4",
    # digits glued to a letter of a script that spaces its words are part of that word
    "café13800138000", "Fuß123-45-6789", "Номер заказа13800138000", "θ1.2.3.4",
    # LAN, link-local and documentation addresses name no one: a router guide and a validator's test need them
    "print(is_ipv4('192.168.0.1'))", "open http://192.168.1.1/admin", "gateway 10.0.0.1 or 172.16.4.2",
    "APIPA 169.254.3.4", "see 192.0.2.10 and 198.51.100.7", "v6 2001:db8::1, fe80::1 and fd00::42",
    "IP ::ffff:10.1.2.3 and ::ffff:203.0.113.9",
    # reserved example domains belong to no one
    "send_mail(to='user@example.com')", "write to a@b.test or ops@mail.example.org",
])
def test_versions_private_addresses_and_example_domains_are_kept(text) -> None:
    assert redact(text) == (text, {})


@pytest.mark.parametrize(("text", "expected"), [
    # a host after "@" or a comparison is no version (an adversarial review of the version context)
    ("ssh root@8.8.8.8", "ssh root@[IP_ADDRESS]"), ("git clone git@45.33.32.156:repo.git",
                                                      "git clone git@[IP_ADDRESS]:repo.git"),
    ("if ip == 8.8.8.8:", "if ip == [IP_ADDRESS]:"), ("server v 1.2.3.4", "server v [IP_ADDRESS]"),
    ("mapped ::ffff:8.8.8.8", "mapped ::ffff:[IP_ADDRESS]"),
    # accented, Greek and Cyrillic local parts are the address's own: not "mü[EMAIL]"
    ("write müller.hans@gmail.com", "write [EMAIL]"), ("иван.petrov@mail.ru", "[EMAIL]"),
    ("mail zoë.ng@gmail.com now", "mail [EMAIL] now"),
])
def test_hosts_after_at_and_whole_international_addresses_are_redacted(text, expected) -> None:
    assert redact(text)[0] == expected


def test_private_addresses_and_example_domains_can_be_redacted_too() -> None:
    text = "gateway 10.0.0.1, mail user@example.com"
    assert redact(text, keep_private_ips=False, keep_example_emails=False)[0] == "gateway [IP_ADDRESS], mail [EMAIL]"
    assert redact("public 81.2.69.160 and 2a00:1450:4001:81b::200e")[1] == {"ip_address": 2}


def test_a_password_read_out_keeps_the_full_stop_after_it() -> None:
    # Glaive v2 (OpenDCAI/DataFlow chat_data.jsonl): "... password: 4&7j#9@1Q6*. Please make sure ..." lost its "."
    assert redact("Here is your new password: 4&7j#9@1Q6*. Please save it.")[0] == (
        "Here is your new password: [CREDENTIAL]. Please save it.")
    assert redact("password=aB3#fG6&kL9.x")[0] == "password=[CREDENTIAL]"  # a stop inside the value is the value
    for text in ("DB_PASSWORD=Sup3rS3cret!", "password: 4&7j#9@1Q6*.", "密码是Abc123456!"):  # the last character too
        assert redact(text)[0].endswith("[CREDENTIAL]"), text


@pytest.mark.parametrize(("text", "expected"), [
    # passwords written in prose, the commonest secret in support chats (no "=" or ":" for the assignment rule)
    ("my password is Summer2024! can you reset it", "my password is [CREDENTIAL] can you reset it"),
    ("The wifi password is BlueHorse42 for guests", "The wifi password is [CREDENTIAL] for guests"),
    ("Mein Passwort ist Sonne123! bitte", "Mein Passwort ist [CREDENTIAL] bitte"),
    # on a command line
    ("run mysql -u root -pMyS3cretPass mydb", "run mysql -u root -p[CREDENTIAL] mydb"),
    ("curl -u admin:S3cr3t! https://api.example.com", "curl -u admin:[CREDENTIAL] https://api.example.com"),
    ("curl -H 'x-api-key: 8f14e45fceea167a5a36dedd4bea2543' https://x", "curl -H 'x-api-key: [CREDENTIAL]' https://x"),
])
def test_passwords_in_prose_and_on_command_lines_are_redacted(text: str, expected: str) -> None:
    assert redact(text)[0] == expected


@pytest.mark.parametrize("text", [
    "my password is incorrect, what do I do?",  # prose about a password, not one
    "your password is too short",
    "mysql -u root -p mydb",  # -p alone asks for it
    "curl -u $USER:$TOKEN https://x",  # shell variables
    "postgresql://user:password@localhost:5432/mydb",  # the documentation's own placeholder
    "AWS publishes 52.94.76.0/22 for this region",  # a network, not a host ([IP_ADDRESS]/22 broke the CIDR)
])
def test_what_names_no_secret_and_no_host_is_kept(text: str) -> None:
    assert redact(text) == (text, {})
