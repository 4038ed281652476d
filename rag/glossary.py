"""Report vocabulary: the lexicon, English→Chinese glossary, variants, cue patterns and stop words.

Question analysis (``rag.question``) matches questions against these lists: a Chinese question is cut by
forward maximum matching over ``ZH_LEXICON`` ∪ ``ZH_STOP``, an English one is mapped to Chinese through
``EN_GLOSSARY``. The glossary and lexicon are genre vocabulary of 政府工作报告 (税收收入, 国内生产总值,
GDP → 生产总值), kept as data in ``rag/data/glossary.json`` that a deployment extends with its own files
(``GOVQA_GLOSSARY_FILES``); no place, official or other fact of one report belongs there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

GLOSSARY_FILE = Path(__file__).with_name("data") / "glossary.json"
EXTRA_FILES_ENV = "GOVQA_GLOSSARY_FILES"  # a deployment's own glossary files (os.pathsep-separated)


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated text."""
    return frozenset(text.split())


Glossary = tuple[tuple[str, tuple[str, ...]], ...]


def _load() -> tuple[Glossary, tuple[str, ...], frozenset[tuple[str, ...]], tuple[frozenset[str], ...]]:
    """The glossary files: the packaged one, then those named in ``GOVQA_GLOSSARY_FILES``. Each is a JSON
    object with ``en_glossary`` ([[regex, [Chinese terms]], ...]), ``zh_lexicon`` ([word, ...]) and
    ``rival_measures`` ([[word, ...], ...]). A Chinese term written ``A|B`` stands for alternatives: it
    adds A and B as terms and (A, B) as a group."""
    paths = [GLOSSARY_FILE, *(Path(p) for p in os.environ.get(EXTRA_FILES_ENV, "").split(os.pathsep) if p)]
    en: list[tuple[str, tuple[str, ...]]] = []
    words: list[str] = []
    groups: set[tuple[str, ...]] = set()
    rivals: list[frozenset[str]] = []
    for path in paths:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for pattern, terms in data.get("en_glossary", ()):
            split = [tuple(w for w in str(t).split("|") if w) for t in terms]
            groups.update(g for g in split if len(g) > 1)
            en.append((str(pattern), tuple(w for g in split for w in g)))
        words += [str(w) for w in data.get("zh_lexicon", ())]
        rivals += [frozenset(str(w) for w in group) for group in data.get("rival_measures", ())]
    return tuple(en), tuple(dict.fromkeys(words)), frozenset(groups), tuple(rivals)


# What an English place name ends with, and capitalised words before one that are no name (Which town).
PLACE_SUFFIXES_EN = r"town(?:ship)?|sub-?district|street|district|county|village"
NOT_PLACE_NAMES_EN: frozenset[str] = _words(
    """The This That These Those Which What Whose Each Every Other Another Any All Some Our Their Its His Her
    Whole Same New Old Rural Urban Central Home Neighbouring Neighboring Nearby Per Small Large University
    Industrial Economic Development Business Commercial Historic Ancient Town Township District County
    Village Street Subdistrict"""
)

# English phrase (regex) → Chinese report terms, the content words of the reports, the groups of
# alternatives (``A|B`` in a glossary entry) and groups of words naming rival measures of one thing
# (出口 / 进口 / 产量; 新增 / 累计): data files (rag/data/glossary.json, plus a deployment's own), see
# ``_load``. ``rag.quantity`` keeps a figure of one measure from answering a question about its rival.
EN_GLOSSARY, ZH_LEXICON_WORDS, ALTERNATIVES, RIVAL_MEASURES = _load()
ZH_LEXICON: frozenset[str] = frozenset(ZH_LEXICON_WORDS) | frozenset(
    t for _, terms in EN_GLOSSARY for t in terms
)

# Verbs among the terms: in a follow-up the topic to replace is a noun, not one of these.
PREDICATE_TERMS: frozenset[str] = _words(
    "新建 建成 建设 完成 实现 新增 提升 推进 开工 竣工 引进 改造 落地 投产 盘活 增长 同比增长 累计 提高 减少 下降"
    " 投入 成立 落户 印发 获评 拆除 出让 挂牌出让 开学 投用 播种 收获 增收 减排 巡查 拨付 安置 还迁"
)

# Quantities the reports state as figures: a question about one of these wants a number.
METRIC_TERMS: frozenset[str] = _words(
    """税收收入 税收 一般预算收入 一般公共预算收入 预算收入 规模工业总产值 规上工业总产值 工业总产值 总产值
    限上批零销售额 批零销售额 销售额 限上社会消费品零售总额 社会消费品零售总额 零售总额 固定资产投资 固定资产投入
    固定资产 地区生产总值 生产总值 人均可支配收入 可支配收入 津外内资到位额 内资到位额 外资到位额 投资到位额
    产业项目到位额 到位额 增加值 增速 增幅 人口 收入 支出"""
)

# A term found in a Chinese question also brings its shorter common form, so that a report writing
# 规上工业总产值 or 固定资产投入 still matches verbatim. Only substrings-in-common, never rival forms.
# Words a report uses for what a question calls by another name: a question term counts as found in a
# passage that holds one of these (学校 → 第一小学, 新建 → 建成). Used by rag.rerank.term_found: term
# coverage, and the bigram feature of rag.extractive.
ZH_SYNONYMS: dict[str, tuple[str, ...]] = {
    "学校": ("小学", "中学", "幼儿园", "学校"),
    "新建": ("建成", "新建"),
}

ZH_VARIANTS: dict[str, tuple[str, ...]] = {
    "税收收入": ("税收",),
    "规模工业总产值": ("工业总产值",),
    "规上工业总产值": ("工业总产值",),
    "固定资产投资": ("固定资产",),
    "固定资产投入": ("固定资产",),
    "限上批零销售额": ("批零销售额",),
    "一般公共预算收入": ("预算收入",),
    "一般预算收入": ("预算收入",),
    "限上社会消费品零售总额": ("社会消费品零售总额",),
}

# Cues with no single word to match, in either language: who delivered the report → the speaker's title
# and the 代表 of "我代表…向大会报告". Matched anywhere in the question (years and names may sit inside).
CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"谁.{0,8}(?:作|做|宣读|发表|代表).{0,6}报告|报告.{0,4}谁|报告人|(?:作|做)报告的是"
        r"|\b(?:deliver|present|gave|give|read)(?:s|ed|ing)?\b.{0,60}\breport|\bspeaker\b|\bwho\s+(?:reported|spoke)",
        ("镇长", "区长", "代表"),
    ),
)

# Question words, function words and units dropped from a Chinese question's terms.
ZH_STOP: frozenset[str] = _words(
    """多少 是多少 有多少 为多少 多少个 多少家 多少亿 多少元 什么 是什么 有什么 为什么 为何 哪些 有哪些 哪个 哪一个
    哪里 哪儿 哪一年 哪年 哪位 怎么样 怎样 怎么 如何 是否 有没有 是不是 能否 多大 多高 多长 多快 多远
    请问 告诉 告诉我 介绍 介绍一下 一下 说说 讲讲 列举 分别 各自 比较 对比 相比 相较 比起 较之 变化 情况
    方面 一共 总共 共计 合计 总计 大约 大概 左右 那么 那个 这个 它的 它们 我们 你们 以及 还有 还是 或者 关于
    对于 根据 报告 报告中 提到 提及 提出 里面 之中 期间 时候 当年 全年 今年 去年 明年 计划 预计 打算 准备 主要
    有关 相关 具体 工作 超过 达到 高于 低于 不到 以上 以下 亿元 万元 亿 万 元 平米 平方米 亩 万人 人次
    更高 更多 更大 更快 最高 最多 最大 最快 最低 最少 较高 较多 增加了 减少了 下降了 提高了 多了 少了
    几 几个 几所 几家 几座 几条 几项 几位 几名 几次 几种 几年 全镇 全区 本镇 本区 该镇 该区 当地 这里 那里
    其中 同期 同比 呢 吗 吧 啊 呀 么 了 的 地 得 是 在 有 和 与 及 跟 或 把 被 对 从 到 至 为 于 将 又 还 也 都
    让 各 每 啥 谁 哪 个 所 座 项 位 次 年 那 这 它 其 该 此 多 少 高 低 更 最 比 做 说 讲 请
    过去 今后 截至 两份 两年 作 上 由 哪天 哪次 何时 多久"""
)
ZH_MAX_WORD = max(len(w) for w in ZH_LEXICON | ZH_STOP)

# Intent cues (regex alternations, matched case-insensitively on the folded question).
NUMBER_CUES = (  # the question asks for a figure
    r"多少|几|多大|多高|多长|多快|多重|多远|数量|数额|金额|总额|占比|比重|比例|增速|增幅|增长率|百分"
    r"|\bhow\s+(?:much|many|big|large|high|fast)\b|\bby\s+how\s+much\b"
    r"|\b(?:amount|number|total|percentage|percent|share|rate|growth|figure|count)\b"
)
OPEN_CUES = (  # the question asks for an account, not a figure (even about a metric)
    r"哪些|如何|怎么|怎样|为什么|为何|举措|措施|做法"
    r"|\b(?:which|why)\b|\bwhat\s+(?:measures|steps|actions|projects|plans|did|does|will)\b"
    r"|\bhow\s+(?:will|to|can|should|does|do|is|are)\b"
)
COMPARE_CUES = (  # the question compares years or bodies, or asks for several figures at once
    r"比较|对比|相比|相较|比起|较之|变化|变动|增长了多少|增加了多少|减少了多少|下降了多少|提高了多少|多了多少|少了多少"
    r"|分别|各自|区别|差别|差异|差距|哪个.{0,4}(?:更|最)|谁.{0,3}(?:更|最)|还是.{0,12}(?:高|多|大|低|少)"
    r"|(?<![对相较占同无])比(?![重例较起率])[^，,。？?]{1,15}?(?:高|低|多|少|大|小|快|慢)"
    r"|\b(?:compare[sd]?|comparing|comparison|change[sd]?|changing|differ|difference|differences|versus|vs\.?"
    r"|respectively|grow|grew|grown|increase[sd]?|decrease[sd]?|decline[sd]?|rose|risen|fell|fallen|trend)\b"
    r"|\bwhich\s+(?:one\s+|town\s+|district\s+)?(?:is|was|had|has)\s+(?:higher|lower|bigger|larger|more|less)\b"
)
CUMULATIVE_CUES = r"累计|合计|总共|一共|共计|总计|\bin\s+total\b|\bcumulative(?:ly)?\b|\baltogether\b"
