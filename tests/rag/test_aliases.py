from __future__ import annotations

import pytest

from rag.aliases import aliases_of, english_name, find_bodies
from rag.question import analyze_question


@pytest.mark.parametrize(
    ("body", "english"),
    [
        ("东丽区", "Dongli District"),
        ("河口镇", "Hekou Town"),
        ("青禾县", "Qinghe County"),
        ("滨江市", "Binjiang City"),
        ("某某街道", "Moumou Subdistrict"),
        ("国务院", "the State Council"),
    ],
)
def test_english_name_is_pinyin_with_the_level(body: str, english: str) -> None:
    assert english_name(body) == english


def test_chinese_aliases_drop_the_level_suffix_when_two_characters_remain() -> None:
    assert aliases_of("东丽区").zh == ("东丽区", "东丽")
    assert aliases_of("和乡").zh == ("和乡",)


@pytest.mark.parametrize(
    ("question", "bodies"),
    [
        ("东丽2022年税收收入是多少", ("东丽区",)),
        ("What was Dongli District's GDP in 2021?", ("东丽区",)),
        ("what was dong li's GDP", ("东丽区",)),
        ("东丽开发区有多少企业", ()),  # a zone named after the body, not the body
        ("2024年全国国内生产总值是多少？", ("国务院",)),
        ("What was China's GDP in 2024?", ("国务院",)),
        ("东丽区获得了哪些全国荣誉", ("东丽区",)),  # 全国 is weak: another body is named
    ],
)
def test_bodies_in_questions(question: str, bodies: tuple[str, ...]) -> None:
    known = ("东丽区", "河口镇", "国务院")
    assert analyze_question(question, known_bodies=known).bodies == bodies


def test_no_known_bodies_no_bodies() -> None:
    assert find_bodies("东丽区2022年税收收入", ()) == []
