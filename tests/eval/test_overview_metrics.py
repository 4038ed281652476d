"""eval.overview_metrics: key-point recall for overviews, the stated conclusion for comparisons."""

from __future__ import annotations

from eval.golden import GoldenItem, GoldenSource
from eval.metrics import answer_correct, retrieval_score
from eval.overview_metrics import key_point_recall, states_derived

SRC = (GoldenSource("a.txt", "", "产业基础更加扎实"),)


def _overview() -> GoldenItem:
    groups = (
        ("新动能", "产业基础更加扎实"),
        ("城乡建设", "城市基础设施不断完善"),
        ("民生", "民生福祉持续增进"),
    )
    return GoldenItem("o1", "zh", "overview", "主要成绩有哪些？", "…", (), groups, SRC)


def test_key_point_recall_is_the_share_of_points_stated() -> None:
    item = _overview()
    assert key_point_recall(item, "1. 产业基础更加扎实[1]；2. 城市基础设施 不断完善[2]。", False) == 2 / 3
    assert key_point_recall(item, "报告中没有找到", True) == 0.0
    assert answer_correct(item, "产业基础更加扎实；城乡建设；民生", False) is True
    assert answer_correct(item, "产业基础更加扎实", False) is False  # 1/3 < 0.8
    assert retrieval_score(item, ()) is None  # an outline is not retrieved


def test_a_comparison_must_state_its_direction_and_difference() -> None:
    item = GoldenItem(
        "c1",
        "zh",
        "comparison",
        "有什么变化？",
        "…",
        ("18亿元", "10.8亿元"),
        (),
        SRC,
        derived=("减少7.2亿元",),
    )
    assert states_derived(item, "18亿元……10.8亿元……减少7.2亿元")
    assert answer_correct(item, "18亿元……10.8亿元……减少7.2亿元", False) is True
    assert answer_correct(item, "18亿元……10.8亿元", False) is False
    assert key_point_recall(item, "", False) is None
