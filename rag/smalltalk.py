"""Conversational basics: a greeting, "what can you do", "which reports do you have".

These are questions about the assistant, not about the reports, so retrieval has nothing to offer them
(it would refuse with random passages). ``kind`` recognises them — the whole message must be one, once
politeness words are removed, so "2024年有哪些重点工作" is never taken for "有哪些报告" — and
``help_answer`` writes a short help text from what is ingested: each report's title with the years it
reviews and plans, and a few example questions taken from the corpus. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from govqa.types import DocumentMeta

GREETING, THANKS, ABILITIES, INVENTORY = "greeting", "thanks", "abilities", "inventory"

_POLITE = re.compile(
    r"请问|请|麻烦|一下|都|目前|现在|一共|总共|可以|能够|能|吗|呢|呀|啊|吧|哦|嗯|的|了"
    r"|\b(?:please|so|ok(?:ay)?|currently|exactly|just)\b"
    r"|[\s,，.。!！?？~～、:：;；'’]",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"(?:你好|您好|嗨|哈喽|哈啰|早上好|上午好|下午好|晚上好|早安|晚安|在吗|在不在"
    r"|hi|hello|hey|hiya|good(?:morning|afternoon|evening))+",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"(?:谢谢|多谢|感谢|好的|明白|知道了|再见|拜拜|thanks|thankyou|ok|bye|goodbye|great|cool)+", re.I
)
_WHO = r"(?:你好|您好|hi|hello|hey)?(?:你们|你|您)?"
_ABILITIES = re.compile(
    _WHO + r"(?:做什么|干什么|干嘛|会什么|会做什么|有什么用|有什么功能|是谁|是什么|是干什么|"
    r"怎么用|如何用|如何使用|怎么使用|怎么问|问什么|帮我做什么|帮什么|帮我什么|帮助|使用说明|功能"
    r"|help|whatcan(?:i)?do|whatcanido|whoareyou|whatareyou|howdoiuse(?:this|it)?|howdoesthiswork"
    r"|whatcanyouhelp(?:mewith)?|whatcanyoudo|whatdoyoudo)",
    re.IGNORECASE,
)
_INVENTORY = re.compile(
    _WHO
    + r"(?:有|收录|包含|包括|支持|掌握|知道)?(?:哪些|什么|哪几份|几份|多少份?)(?:政府工作)?(?:报告|文件|文档|资料|数据)"
    r"|(?:报告|文件|文档)(?:有)?(?:哪些|列表|清单)"
    r"|(?:which|what)(?:government)?(?:work)?(?:reports|documents|files|data)(?:do|are|have|is)?(?:you)?"
    r"(?:have|there|available|covered|included|loaded|ingested|know)?(?:about|of)?",
    re.IGNORECASE,
)


def kind(question: str) -> str | None:
    """``GREETING``, ``THANKS``, ``ABILITIES`` or ``INVENTORY`` when the whole message is one; else None."""
    text = question.strip()
    if not text or len(text) > 60 or re.search(r"(?:19|20)\d{2}", text):
        return None
    core = _POLITE.sub("", text.lower())
    if not core:
        return None
    if _INVENTORY.fullmatch(core):
        return INVENTORY
    if _ABILITIES.fullmatch(core):
        return ABILITIES
    if _GREETING.fullmatch(core):
        return GREETING
    if _THANKS.fullmatch(core):
        return THANKS
    return None


def _years(years: Sequence[int]) -> str:
    if not years:
        return ""
    ys = sorted(set(years))
    return f"{ys[0]}" if len(ys) == 1 else f"{ys[0]}–{ys[-1]}"


def report_line(meta: DocumentMeta, lang: str) -> str:
    """One ingested report as the help text lists it: its title and the years it reviews and plans."""
    title = meta.title or meta.body or "?"
    reviewed, planned = _years(meta.years_reviewed), _years(meta.years_planned)
    if lang == "zh":
        bits = [f"回顾{reviewed}年" if reviewed else "", f"部署{planned}年" if planned else ""]
        detail = "，".join(b for b in bits if b)
        return f"《{title}》" + (f"（{detail}）" if detail else "")
    bits = [f"reviews {reviewed}" if reviewed else "", f"plans {planned}" if planned else ""]
    detail = ", ".join(b for b in bits if b)
    return f"“{title}”" + (f" ({detail})" if detail else "")


def help_answer(kind: str, lang: str, reports: Sequence[DocumentMeta], examples: Sequence[str]) -> str:
    """A short help text: what the assistant does, which reports it has, three example questions."""
    ordered = sorted(reports, key=lambda m: (m.body, m.title))
    listed = [report_line(m, lang) for m in ordered]
    picks = list(dict.fromkeys(examples))[:3]
    if lang == "zh":
        hello = {GREETING: "您好！", THANKS: "不客气！"}.get(kind, "")
        intro = (
            f"{hello}我根据已收录的政府工作报告回答问题，答案逐字引用报告原文并标注出处[编号]；"
            "也可以概括报告的主要工作、比较不同年份或不同地方的数字。"
        )
        have = (
            ("已收录" + f"{len(listed)}份报告：" + "、".join(listed) + "。")
            if listed
            else "目前还没有收录任何报告。"
        )
        ask = ("可以这样问：" + "；".join(f"“{q}”" for q in picks) + "。") if picks else ""
        return intro + have + ask
    hello = {GREETING: "Hello! ", THANKS: "You're welcome! "}.get(kind, "")
    intro = (
        f"{hello}I answer questions from the government work reports that are loaded, quoting the reports "
        "word for word with a [n] citation; I can also outline a report's main work and compare figures "
        "across years or places."
    )
    have = f" Loaded ({len(listed)}): " + "; ".join(listed) + "." if listed else " No report is loaded yet."
    ask = (" For example: " + " ".join(f"“{q}”" for q in picks)) if picks else ""
    return intro + have + ask


def fallback_examples(reports: Sequence[DocumentMeta], lang: str) -> list[str]:
    """Example questions when no corpus-mined ones are given: an outline of each report, newest first."""
    out = []
    for m in sorted(reports, key=lambda m: max(m.years_reviewed or (0,)), reverse=True):
        if m.title and m.years_reviewed:
            out.append(
                f"{m.title}回顾了哪些主要工作？"
                if lang == "zh"
                else f"What were the main achievements in {m.title}?"
            )
    return out
