"""Write the small, deliberately messy sample dataset in samples/ (deterministic, hand-written templates).

    python scripts/make_samples.py [--out samples]

samples/raw/ holds the same kind of support and instruction data in four formats, with the faults real
chat logs have (a broken JSON line, empty replies, a missing assistant turn, a bad weight, unfilled
template placeholders, broken tool-call arguments, consecutive user turns, personal data and a fake API key,
exact / whitespace-and-case / near duplicates), in English with some French and Chinese.
samples/eval/benchmark.jsonl is an evaluation set; a few of its items also occur, exactly or nearly, in the
raw data, so decontamination has something to find. Nothing is downloaded; the same run writes the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
from pathlib import Path
from typing import Any

SEED = 20240611
SYSTEM_EN = "You are the support assistant of Nimbus Notes, a note-taking app. Be concise and friendly."
SYSTEM_FR = "Tu es l'assistant du support de Nimbus Notes, une application de prise de notes. Sois bref et aimable."
SYSTEM_ZH = "你是 Nimbus Notes 笔记应用的客服助手。回答要简洁友好。"

# Each support topic: user phrasings and independent answer sentences (an answer is 2-3 of them), so that
# clean records differ in more than a slot value and survive near-duplicate detection.
TOPICS_EN: dict[str, tuple[list[str], list[str]]] = {
    "password": (
        [
            "I forgot my password and can't log in.",
            "How do I reset my password?",
            "The password reset email never arrived, what now?",
        ],
        [
            "Open the sign-in page and choose 'Forgot password'; we send a reset link within a few minutes.",
            "If the email does not show up, check the spam folder and the address you signed up with.",
            "Reset links expire after 30 minutes, so request a fresh one if yours is older.",
            "After resetting, you will be signed out on other devices for your safety.",
        ],
    ),
    "export": (
        [
            "Can I export all my notes to PDF?",
            "How do I get my notes out as Markdown files?",
            "Is there a way to back up every notebook at once?",
        ],
        [
            "Go to Settings > Data > Export and pick PDF, Markdown or HTML.",
            "A full export packs every notebook into one ZIP file, attachments included.",
            "Large accounts can take a few minutes; we email you a download link when the archive is ready.",
            "Exports never delete anything from your account.",
        ],
    ),
    "billing": (
        [
            "Why was I charged twice this month?",
            "I see two payments on my card for the Pro plan.",
            "My invoice looks wrong, can you check it?",
        ],
        [
            "A second charge is usually a pending authorisation that your bank drops within three business days.",
            "You can see every invoice under Settings > Billing > History.",
            "If both payments are still there after three days, reply with the last four digits of the card and we "
            "will refund the duplicate.",
            "Refunds reach your card in five to ten business days.",
        ],
    ),
    "cancel": (
        [
            "How do I cancel my subscription?",
            "I want to stop paying for Pro.",
            "Please cancel my plan before the next renewal.",
        ],
        [
            "Open Settings > Billing and choose 'Cancel plan'; you keep Pro features until the end of the period.",
            "Your notes stay in your account after you cancel, on the free plan limits.",
            "You can resubscribe at any time without losing anything.",
            "Cancelling in the mobile app store is needed if you subscribed through iOS or Android.",
        ],
    ),
    "sync": (
        [
            "My notes are not syncing between my phone and laptop.",
            "Sync has been stuck for an hour.",
            "Edits I make on the tablet don't show up on the web.",
        ],
        [
            "Check that both devices are signed in to the same account and show 'Synced' under the account name.",
            "Pull down on the note list on mobile to force a sync.",
            "A note that was edited in two places at once is kept twice, with '(conflict)' in the title of one copy.",
            "If sync is still stuck, sign out and back in; unsynced notes are kept on the device.",
        ],
    ),
    "share": (
        [
            "How can I share a notebook with my team?",
            "Can someone edit a note I shared?",
            "How do I stop sharing a note?",
        ],
        [
            "Open the notebook, choose Share and enter your colleagues' email addresses.",
            "Pick 'Can edit' or 'Can view' for each person; you can change it later.",
            "To stop sharing, open Share again and remove the person or turn off the public link.",
            "Shared notebooks count against the owner's storage only.",
        ],
    ),
    "offline": (
        [
            "Does the app work without internet?",
            "Can I read my notes on a plane?",
            "What happens to changes I make offline?",
        ],
        [
            "On Pro, notebooks marked 'Available offline' are stored on the device and can be read and edited.",
            "Changes made offline sync automatically the next time the device is online.",
            "The free plan keeps the twenty most recent notes offline.",
            "Search works offline for notebooks stored on the device.",
        ],
    ),
    "storage": (
        [
            "I've hit my storage limit, what are my options?",
            "How much space do attachments use?",
            "Why does the app say my account is full?",
        ],
        [
            "The free plan includes 2 GB and Pro includes 100 GB; Settings > Storage shows what uses the space.",
            "Emptying the trash frees space right away.",
            "Large PDFs and videos are usually the biggest items; sort attachments by size to find them.",
            "Upgrading takes effect immediately and keeps all your notes.",
        ],
    ),
    "dark_mode": (
        ["Is there a dark mode?", "How do I switch the theme to dark?", "The app is too bright at night."],
        [
            "Yes: Settings > Appearance > Theme lets you pick Light, Dark or 'Follow system'.",
            "On mobile the theme follows the phone's setting unless you choose one in the app.",
            "Notes keep their own highlight colours in dark mode.",
        ],
    ),
    "delete_account": (
        ["How do I delete my account?", "Please remove all my data.", "I want to close my account for good."],
        [
            "Go to Settings > Account > Delete account; we ask for your password to confirm.",
            "Deletion is permanent after 14 days, and you can sign back in before then to undo it.",
            "Export your notes first if you want to keep a copy.",
            "Any active subscription is cancelled automatically.",
        ],
    ),
}
TOPICS_FR: dict[str, tuple[list[str], list[str]]] = {
    "password": (
        ["J'ai oublié mon mot de passe.", "Comment réinitialiser mon mot de passe ?"],
        [
            "Sur la page de connexion, choisissez « Mot de passe oublié » : un lien arrive en quelques minutes.",
            "Vérifiez le dossier des courriers indésirables si le message n'arrive pas.",
            "Le lien expire au bout de 30 minutes.",
        ],
    ),
    "export": (
        ["Puis-je exporter mes notes en PDF ?", "Comment sauvegarder tous mes carnets ?"],
        [
            "Allez dans Réglages > Données > Exporter et choisissez PDF, Markdown ou HTML.",
            "L'export complet regroupe tous les carnets dans un fichier ZIP, pièces jointes comprises.",
            "Un export ne supprime rien de votre compte.",
        ],
    ),
    "cancel": (
        ["Comment résilier mon abonnement ?", "Je ne veux plus payer l'offre Pro."],
        [
            "Ouvrez Réglages > Facturation et choisissez « Résilier » ; Pro reste actif jusqu'à la fin de la période.",
            "Vos notes restent dans votre compte avec les limites de l'offre gratuite.",
            "Vous pouvez vous réabonner à tout moment.",
        ],
    ),
    "sync": (
        ["Mes notes ne se synchronisent plus.", "La synchronisation est bloquée depuis une heure."],
        [
            "Vérifiez que les deux appareils utilisent le même compte.",
            "Sur mobile, tirez la liste des notes vers le bas pour forcer la synchronisation.",
            "Les notes non synchronisées restent sur l'appareil si vous vous déconnectez.",
        ],
    ),
    "offline": (
        ["L'application fonctionne-t-elle sans internet ?", "Puis-je lire mes notes dans l'avion ?"],
        [
            "Avec Pro, les carnets « Disponibles hors ligne » sont stockés sur l'appareil.",
            "Les modifications faites hors ligne se synchronisent dès le retour du réseau.",
            "La recherche fonctionne hors ligne pour ces carnets.",
        ],
    ),
}
TOPICS_ZH: dict[str, tuple[list[str], list[str]]] = {
    "password": (
        ["我忘记密码了，怎么登录？", "怎样重置密码？"],
        [
            "在登录页点击“忘记密码”，几分钟内会收到重置链接。",
            "如果没有收到邮件，请检查垃圾邮件文件夹。",
            "重置链接在 30 分钟后失效。",
        ],
    ),
    "export": (
        ["可以把笔记导出为 PDF 吗？", "怎么备份所有笔记本？"],
        [
            "打开 设置 > 数据 > 导出，选择 PDF、Markdown 或 HTML。",
            "完整导出会把所有笔记本打包成一个 ZIP 文件。",
            "导出不会删除账户里的任何内容。",
        ],
    ),
    "billing": (
        ["为什么这个月扣了两次费？", "我的发票好像不对。"],
        [
            "第二笔扣款通常是预授权，银行会在三个工作日内撤销。",
            "所有发票都在 设置 > 账单 > 历史 中。",
            "退款会在五到十个工作日内到账。",
        ],
    ),
    "sync": (
        ["手机和电脑上的笔记不同步。", "同步卡住一个小时了。"],
        [
            "请确认两台设备登录的是同一个账户。",
            "在手机上下拉笔记列表可以强制同步。",
            "退出登录时，未同步的笔记会保留在设备上。",
        ],
    ),
    "dark_mode": (
        ["有深色模式吗？", "晚上界面太亮了。"],
        ["有的：在 设置 > 外观 > 主题 中选择“深色”或“跟随系统”。", "手机端默认跟随系统设置。"],
    ),
}
OPENERS = {
    "en": ["", "Hi! ", "Thanks for reaching out. ", "Happy to help. "],
    "fr": ["", "Bonjour ! "],
    "zh": ["", "您好！"],
}

ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up the status of a Nimbus Notes hardware order (the Nimbus Pen) by its number.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "Order number such as NB-1042"}},
            "required": ["order_id"],
        },
    },
}
TICKET_TOOL = {
    "type": "function",
    "function": {
        "name": "create_ticket",
        "description": "Open a ticket for the engineering team.",
        "parameters": {
            "type": "object",
            "properties": {"summary": {"type": "string"}, "severity": {"type": "string", "enum": ["low", "high"]}},
            "required": ["summary"],
        },
    },
}
ORDER_STATES = [
    ("shipped", "is on its way and should arrive on {day}"),
    ("processing", "is being packed and ships {day}"),
    ("delivered", "was delivered on {day}"),
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

# Instruction data (Alpaca): hand-written pairs, English with some French and Chinese.
ALPACA = [
    (
        "Summarise the text in one sentence.",
        "Nimbus Notes lets you write notes on any device, sync them in seconds and share notebooks with your team.",
        "Nimbus Notes is a note app that syncs across devices and supports team sharing.",
    ),
    (
        "Give three tips for writing clear meeting notes.",
        "",
        "1. Write the decisions first.\n2. Put each action item on "
        "its own line with an owner.\n3. Keep quotes short and mark them clearly.",
    ),
    ("Translate to French.", "Your notes are saved automatically.", "Vos notes sont enregistrées automatiquement."),
    (
        "Classify the sentiment of the review as positive, negative or neutral.",
        "The app crashes every time I open a PDF.",
        "negative",
    ),
    (
        "Classify the sentiment of the review as positive, negative or neutral.",
        "Sync is fast and the search is great.",
        "positive",
    ),
    (
        "Write a short subject line for an email announcing dark mode.",
        "",
        "Dark mode is here: easier on your eyes at night",
    ),
    (
        "Explain what end-to-end encryption means in two sentences.",
        "",
        "End-to-end encryption means data is encrypted "
        "on your device and only decrypted on the recipient's device. The service in the middle cannot read it.",
    ),
    (
        "Convert the list to a Markdown table with columns Plan and Storage.",
        "Free: 2 GB; Pro: 100 GB; Team: 1 TB",
        "| Plan | Storage |\n| --- | --- |\n| Free | 2 GB |\n| Pro | 100 GB |\n| Team | 1 TB |",
    ),
    ("Fix the grammar.", "me and him goes to the office tomorrow", "He and I are going to the office tomorrow."),
    ("What is the capital of Canada?", "", "Ottawa."),
    ("Name the largest planet in the solar system.", "", "Jupiter."),
    ("How many minutes are in a day?", "", "1,440 minutes (24 × 60)."),
    (
        "Write a haiku about autumn rain.",
        "",
        "Cold rain on the roof\nmaple leaves float down the street\nthe kettle whistles",
    ),
    ("Suggest a name for a notebook about houseplants.", "", "Green Corner"),
    (
        "Rewrite the sentence in the passive voice.",
        "The team released the update on Friday.",
        "The update was released by the team on Friday.",
    ),
    ("Extract the dates from the text.", "The beta starts on 3 March and ends on 28 April.", "3 March, 28 April"),
    ("Sort the numbers in ascending order.", "42, 7, 19, 3, 88", "3, 7, 19, 42, 88"),
    ("Write a Python function that returns the square of a number.", "", "def square(x):\n    return x * x"),
    ("What does HTTP status code 404 mean?", "", "404 Not Found: the server cannot find the requested resource."),
    ("Give a synonym for 'rapid'.", "", "fast"),
    (
        "Turn the notes into a to-do list.",
        "call Sam about the invoice, book the room for Tuesday, send slides",
        "- Call Sam about the invoice\n- Book the room for Tuesday\n- Send the slides",
    ),
    (
        "Explain the difference between RAM and storage.",
        "",
        "RAM is fast, temporary memory for running programs; storage (SSD or disk) keeps files when the power is off.",
    ),
    (
        "Write one sentence encouraging someone who is learning to code.",
        "",
        "Every bug you fix today is a lesson you will not need to learn again.",
    ),
    ("Count the vowels in the word.", "notebook", "4"),
    ("Quelle est la capitale de l'Australie ?", "", "Canberra."),
    (
        "Résume la phrase en cinq mots au plus.",
        "L'équipe a terminé la nouvelle version de l'application hier soir.",
        "Nouvelle version terminée hier soir.",
    ),
    (
        "Donne trois idées de cadeaux pour un collègue qui part.",
        "",
        "Un carnet de qualité, une plante, un bon pour un restaurant.",
    ),
    ("Corrige l'orthographe.", "Je vais au bureaux demain matin", "Je vais au bureau demain matin."),
    ("Traduis en anglais.", "La synchronisation est terminée.", "Sync is complete."),
    ("中国的首都是哪里？", "", "北京。"),
    ("把这句话翻译成英文。", "笔记已自动保存。", "The note has been saved automatically."),
    ("给出三个提高专注力的方法。", "", "1. 关闭不必要的通知。\n2. 使用番茄工作法。\n3. 保证充足睡眠。"),
    ("一年有多少个月？", "", "十二个月。"),
    ("用一句话解释什么是云同步。", "", "云同步就是把数据保存在服务器上，让多台设备自动保持一致。"),
    ("Who are you?", "", "I am {{name}}, an assistant built by {{author}}."),  # unfilled template placeholders
    ("Describe the Nimbus Notes logo.", "", ""),  # empty output
]

# Preference data: a prompt, a helpful answer (chosen) and a worse one (rejected).
PREFERENCES = [
    (
        "How do I reset my password?",
        "Choose 'Forgot password' on the sign-in page and follow the link we email you.",
        "Just make a new account.",
    ),
    (
        "Can I export my notes?",
        "Yes: Settings > Data > Export lets you download PDF, Markdown or HTML.",
        "No idea, try searching online.",
    ),
    (
        "Why was I charged twice?",
        "Usually one charge is a pending authorisation that disappears within three days; "
        "if not, we refund the duplicate.",
        "That's your bank's problem.",
    ),
    ("Is there a dark mode?", "Yes, under Settings > Appearance > Theme.", "Dark mode is bad for your eyes anyway."),
    (
        "How do I share a notebook?",
        "Open the notebook, choose Share and add your colleagues' emails.",
        "Send them your password.",
    ),
    ("What is 15% of 80?", "12.", "15."),
    (
        "Write a polite reminder about an unpaid invoice.",
        "Hello, a quick reminder that invoice 2041 is still open. "
        "Could you let us know when to expect payment? Thank you!",
        "PAY NOW.",
    ),
    (
        "Give me a tip for taking notes in lectures.",
        "Leave space after each heading so you can add the examples later.",
        "Record everything and never listen.",
    ),
    (
        "Comment résilier mon abonnement ?",
        "Réglages > Facturation > Résilier ; Pro reste actif jusqu'à la fin de la période.",
        "Impossible.",
    ),
    ("Traduis « bonjour » en anglais.", "Hello.", "Goodbye."),
    ("怎样重置密码？", "在登录页点击“忘记密码”，按邮件中的链接操作即可。", "重新注册一个账号吧。"),
    ("深色模式在哪里设置？", "在 设置 > 外观 > 主题 中选择“深色”。", "没有这个功能。"),
    (
        "Summarise: the update adds offline search and faster sync.",
        "The update brings offline search and quicker sync.",
        "The update removes search.",
    ),
    ("Is my data encrypted?", "Yes, notes are encrypted in transit and at rest.", "Maybe."),
    ("Name a prime number between 10 and 20.", "13.", "15."),
    ("How long do refunds take?", "Five to ten business days after we issue them.", "Forever."),
    (
        "Can I use the app offline?",
        "On Pro, notebooks marked 'Available offline' work without internet.",
        "You need internet for everything, always.",
    ),
    ("What file types can I attach?", "Images, PDFs, audio and any file up to 200 MB on Pro.", "Only text."),
    ("Suggest a title for notes about a trip to Lisbon.", "Lisbon, Tiles and Tram 28", "Notes"),
    (
        "How do I stop sharing a note?",
        "Open Share and remove the person or turn off the public link.",
        "Delete the note.",
    ),
]

EVAL_ITEMS = [
    ("What is the capital of Canada?", "Ottawa."),  # also in the raw Alpaca data (exact)
    (
        "How do I reset my password?",
        "Open the sign-in page and choose 'Forgot password'; we send a reset link within a few minutes.",
    ),  # also in the raw support chats (exact)
    ("Name the largest planet in our solar system.", "Jupiter."),  # near copy of a raw item
    ("How many minutes are there in one day?", "1,440 minutes (24 × 60)."),  # near copy of a raw item
    ("What is the boiling point of water at sea level in Celsius?", "100 °C."),
    (
        "Write a haiku about the sea.",
        "Grey waves fold and break\nsalt wind combs the dunes awake\ngulls argue with rain",
    ),
    ("What does CPU stand for?", "Central processing unit."),
    ("Quelle est la capitale du Japon ?", "Tokyo."),
    ("日本的首都是哪里？", "东京。"),
    ("Give an antonym of 'ancient'.", "modern"),
    (
        "Explain what a keyboard shortcut is in one sentence.",
        "A key combination that runs a command without using the mouse.",
    ),
    ("How many sides does a hexagon have?", "Six."),
]


def _answer(rng: random.Random, sentences: list[str], lang: str) -> str:
    k = min(len(sentences), rng.choice([2, 2, 3]))
    picked = rng.sample(sentences, k)
    return rng.choice(OPENERS[lang]) + (" " if lang != "zh" else "").join(picked)


def _chat(system: str, user: str, assistant: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    }


def support_chats(rng: random.Random) -> list[str]:
    """OpenAI-format support conversations: clean ones, tool calls, and every fault listed in the module doc."""
    records: list[dict[str, Any]] = []
    for lang, system, topics in (
        ("en", SYSTEM_EN, TOPICS_EN),
        ("fr", SYSTEM_FR, TOPICS_FR),
        ("zh", SYSTEM_ZH, TOPICS_ZH),
    ):
        for topic in sorted(topics):
            questions, sentences = topics[topic]
            for question in questions:
                records.append(_chat(system, question, _answer(rng, sentences, lang)))
    # Multi-turn English conversations: two topics in one chat.
    names = sorted(TOPICS_EN)
    for i in range(12):
        first, second = names[i % len(names)], names[(i * 3 + 1) % len(names)]
        q1, s1 = TOPICS_EN[first]
        q2, s2 = TOPICS_EN[second]
        records.append(
            {
                "messages": [
                    {"role": "system", "content": SYSTEM_EN},
                    {"role": "user", "content": rng.choice(q1)},
                    {"role": "assistant", "content": _answer(rng, s1, "en")},
                    {"role": "user", "content": "One more thing: " + rng.choice(q2)},
                    {"role": "assistant", "content": _answer(rng, s2, "en")},
                ]
            }
        )
    # Tool calls: order lookups answered from the tool result.
    for i in range(10):
        order = f"NB-{1040 + i * 7}"
        state, template = ORDER_STATES[i % len(ORDER_STATES)]
        day = DAYS[(i * 2) % len(DAYS)]
        records.append(
            {
                "messages": [
                    {"role": "system", "content": SYSTEM_EN},
                    {
                        "role": "user",
                        "content": rng.choice(["Where is my order ", "Any news on order ", "Can you check order "])
                        + order
                        + "?",
                    },
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": f"call_{i}",
                                "type": "function",
                                "function": {"name": "lookup_order", "arguments": json.dumps({"order_id": order})},
                            }
                        ],
                    },
                    {
                        "role": "tool",
                        "tool_call_id": f"call_{i}",
                        "content": json.dumps({"order_id": order, "status": state, "day": day}),
                    },
                    {"role": "assistant", "content": f"Order {order} " + template.format(day=day) + "."},
                ],
                "tools": [ORDER_TOOL, TICKET_TOOL],
                "parallel_tool_calls": False,
            }
        )
    rng.shuffle(records)
    bad: list[dict[str, Any] | str] = []
    bad.append(_chat(SYSTEM_EN, "The app crashes when I open a PDF.", ""))  # empty reply
    bad.append(
        {
            "messages": [
                {"role": "system", "content": SYSTEM_EN},
                {"role": "user", "content": "Do you have a student discount?"},
            ]
        }
    )  # no assistant turn
    weighted = _chat(SYSTEM_EN, "Can I change the font size?", "Yes: Settings > Appearance > Text size.")
    weighted["messages"][2]["weight"] = 2  # weight must be 0 or 1
    bad.append(weighted)
    bad.append(_chat(SYSTEM_EN, "Who am I talking to?", "I'm {{name}}, the assistant of {{company}}."))
    bad.append(
        {  # arguments are not valid JSON
            "messages": [
                {"role": "user", "content": "The search is broken, please tell the engineers."},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_t1",
                            "type": "function",
                            "function": {
                                "name": "create_ticket",
                                "arguments": "{summary: 'search broken', severity: high",
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_t1", "content": "error: invalid arguments"},
                {"role": "assistant", "content": "Sorry, I could not open the ticket."},
            ],
            "tools": [TICKET_TOOL],
        }
    )
    bad.append(
        {
            "messages": [
                {"role": "user", "content": "Hello?"},
                {"role": "user", "content": "Is anyone there?"},
                {"role": "assistant", "content": "Yes, I'm here. How can I help?"},
            ]
        }
    )  # two user turns
    bad.append(
        _chat(
            SYSTEM_EN,
            "Please update my email to jane.doe@nimbusmail.net and call me on +1 415 555 0123.",
            "Done: the account email is now jane.doe@nimbusmail.net and we will call +1 415 555 0123.",
        )
    )
    bad.append(
        _chat(
            SYSTEM_EN,
            "My integration fails with key sk-proj-4f9KzQ2mXbT7LwP1vR8sY3nA6cD0eG5h, why?",
            "Please revoke that key right away, it is now public; then create a new one under Settings > API.",
        )
    )
    bad.append({"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "Hello!"}]})  # unknown role
    # Duplicates: exact, whitespace/case variants, and near duplicates (one word changed) of clean records.
    for source in records[:3]:
        bad.append(json.loads(json.dumps(source)))
    for source in records[3:6]:
        copy = json.loads(json.dumps(source))
        copy["messages"][-1]["content"] = "  " + copy["messages"][-1]["content"].upper() + "\n"
        copy["messages"][1]["content"] = copy["messages"][1]["content"].replace(" ", "  ")
        bad.append(copy)
    for source in records[6:9]:
        copy = json.loads(json.dumps(source))
        copy["messages"][-1]["content"] = copy["messages"][-1]["content"].replace(".", "!", 1)
        bad.append(copy)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for item in bad:
        lines.insert(rng.randrange(1, len(lines)), json.dumps(item, ensure_ascii=False))
    # A line cut off mid-way (a partial write), never the first line.
    lines.insert(rng.randrange(5, len(lines)), '{"messages": [{"role": "user", "content": "How do I print a no')
    return lines


def sharegpt(rng: random.Random) -> list[dict[str, Any]]:
    """ShareGPT conversations (FastChat / LLaMA-Factory style), a few with tool calls and quirks."""
    records: list[dict[str, Any]] = []
    for n, topic in enumerate(sorted(TOPICS_EN)):
        questions, sentences = TOPICS_EN[topic]
        turns = []
        for question in rng.sample(questions, 2):
            turns += [{"from": "human", "value": question}, {"from": "gpt", "value": _answer(rng, sentences, "en")}]
        records.append({"id": f"sg-{n:03d}", "conversations": turns})
    for n, topic in enumerate(sorted(TOPICS_FR)):
        questions, sentences = TOPICS_FR[topic]
        records.append(
            {
                "id": f"sg-fr-{n:03d}",
                "system": SYSTEM_FR,
                "conversations": [
                    {"from": "human", "value": questions[0]},
                    {"from": "gpt", "value": _answer(rng, sentences, "fr")},
                ],
            }
        )
    for n in range(4):
        order = f"NB-{2000 + n * 13}"
        records.append(
            {
                "id": f"sg-tool-{n}",
                "conversations": [
                    {"from": "human", "value": f"Has order {order} shipped yet?"},
                    {
                        "from": "function_call",
                        "value": json.dumps({"name": "lookup_order", "arguments": {"order_id": order}}),
                    },
                    {"from": "observation", "value": json.dumps({"status": "shipped", "day": DAYS[n]})},
                    {"from": "gpt", "value": f"Yes, {order} shipped on {DAYS[n]}."},
                ],
                "tools": json.dumps([ORDER_TOOL["function"]]),  # LLaMA-Factory stores tools as a JSON string
            }
        )
    records.append(
        {
            "id": "sg-customer",
            "conversations": [
                {"from": "Customer", "value": "Do you sell gift cards?"},
                {"from": "gpt", "value": "Not yet, but it's planned."},
            ],
        }
    )
    records.append(
        {
            "id": "sg-empty",
            "conversations": [{"from": "human", "value": "Can I print a notebook?"}, {"from": "gpt", "value": ""}],
        }
    )
    return records


def alpaca(rng: random.Random) -> list[dict[str, Any]]:
    rows = [{"instruction": i, "input": x, "output": o} for i, x, o in ALPACA]
    rows.append(dict(rows[9]))  # an exact duplicate
    rng.shuffle(rows)
    return rows


def preferences() -> list[dict[str, Any]]:
    rows = [
        {
            "prompt": [{"role": "user", "content": p}],
            "chosen": [{"role": "assistant", "content": c}],
            "rejected": [{"role": "assistant", "content": r}],
        }
        for p, c, r in PREFERENCES
    ]
    same = "Settings > Appearance."
    rows.append(
        {
            "prompt": [{"role": "user", "content": "Where are the theme settings?"}],
            "chosen": [{"role": "assistant", "content": same}],
            "rejected": [{"role": "assistant", "content": same}],
        }
    )  # chosen == rejected
    rows.append(
        {
            "prompt": [{"role": "user", "content": "What is Nimbus Notes?"}],
            "chosen": [],
            "rejected": [{"role": "assistant", "content": "A bank."}],
        }
    )  # empty chosen
    return rows


def benchmark() -> list[dict[str, Any]]:
    return [
        {"id": f"bench-{n:02d}", "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for n, (q, a) in enumerate(EVAL_ITEMS)
    ]


def _jsonl(rows: list[Any]) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows).encode()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as fh:  # mtime=0: same bytes every run
        fh.write(data)
    return buf.getvalue()


def write_samples(out: Path) -> list[Path]:
    """Write every sample file under ``out`` and return their paths."""
    rng = random.Random(SEED)
    files = {
        out / "raw" / "support_chats.jsonl": _jsonl(support_chats(rng)),
        out / "raw" / "sharegpt.json": (json.dumps(sharegpt(rng), ensure_ascii=False, indent=2) + "\n").encode(),
        out / "raw" / "alpaca.jsonl.gz": _gzip(_jsonl(alpaca(rng))),
        out / "raw" / "preferences.jsonl": _jsonl(preferences()),
        out / "eval" / "benchmark.jsonl": _jsonl(benchmark()),
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return list(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "samples")
    args = parser.parse_args()
    for path in write_samples(args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
