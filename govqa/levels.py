"""Levels of government in China: how a body's name ends, what its head is called, its English name.

One module for the level vocabulary that ingest (reading a title block) and rag (finding a body in a
question, naming it in English) both use. This is knowledge of the genre 政府工作报告 — every report is
delivered by the head of a government at one of these levels — not of any particular place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    suffix: str  # how the body's name ends: 镇, 区, 省 ...
    english: str  # the English level word: Town, District, Province ...


# longest suffix first, so 自治区 is read before 区 and 街道 before 道
LEVELS: tuple[Level, ...] = (
    Level("特别行政区", "Special Administrative Region"),
    Level("自治区", "Autonomous Region"),
    Level("自治州", "Autonomous Prefecture"),
    Level("自治县", "Autonomous County"),
    Level("自治旗", "Autonomous Banner"),
    Level("街道", "Subdistrict"),
    Level("新区", "New Area"),
    Level("省", "Province"),
    Level("市", "City"),
    Level("区", "District"),
    Level("县", "County"),
    Level("镇", "Town"),
    Level("乡", "Township"),
)
SUFFIXES: tuple[str, ...] = tuple(lv.suffix for lv in LEVELS)
SUFFIX_PATTERN = "|".join(re.escape(s) for s in SUFFIXES)

# the national government: its report is delivered by the 国务院总理 to the 全国人民代表大会
NATIONAL_BODY = "国务院"
NATIONAL_ALIASES_ZH: tuple[str, ...] = ("国务院", "全国", "我国", "中国", "国家")
NATIONAL_EN_NAME = "the State Council"
NATIONAL_ALIASES_EN: tuple[str, ...] = ("State Council", "China", "national", "nationwide")
NATIONAL_CONGRESS = "全国人民代表大会"

# the head of a government who delivers its report (代理 = acting)
ROLES: tuple[str, ...] = (
    "总理",
    "省长",
    "主席",
    "市长",
    "区长",
    "县长",
    "州长",
    "盟长",
    "旗长",
    "镇长",
    "乡长",
    "街道办事处主任",
    "主任",
)
ROLE_PATTERN = rf"(?:代理)?(?:{'|'.join(ROLES)})"


def level_of(body: str) -> Level | None:
    """The level a body's name ends with (张家镇 → 镇); None for a name with no level suffix."""
    return next((lv for lv in LEVELS if body.endswith(lv.suffix) and len(body) > len(lv.suffix)), None)


def stem(body: str) -> str:
    """The name without its level suffix (东丽区 → 东丽), when at least two characters remain."""
    lv = level_of(body)
    if lv is None:
        return body
    rest = body[: -len(lv.suffix)]
    return rest if len(rest) >= 2 else body
