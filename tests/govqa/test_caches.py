"""The LRU cache and the answer cache: repeated questions are served from it, and any document change
(through this service or another writer of the same index) means the next answer is computed afresh."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from govqa.cache import LRUCache
from govqa.errors import ConfigError
from govqa.settings import Settings
from ui.service import GovQA

NEW_REPORT = (
    "2025年测试镇政府工作报告\n\n一、2025年工作回顾\n\n"
    "2025年全镇实现税收收入9.5亿元，同比增长7.2%。新建口袋公园3座。\n"
)
QUESTION = "2025年测试镇税收收入是多少？"


def test_lru_keeps_the_most_recently_used() -> None:
    cache: LRUCache[int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)  # evicts b
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    stats = cache.stats()
    assert (stats.size, stats.hits, stats.misses) == (2, 3, 1)
    cache.clear()
    assert len(cache) == 0


def test_a_zero_size_cache_stores_nothing_and_a_negative_one_is_refused() -> None:
    cache: LRUCache[int] = LRUCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None
    with pytest.raises(ConfigError):
        LRUCache(-1)


def _service(fake_sample_index: Path, tmp_path: Path, name: str = "data", **overrides: Any) -> GovQA:
    data = tmp_path / name
    if not data.exists():
        shutil.copytree(fake_sample_index, data)
    settings = Settings(data_dir=data, embedding_model="fake", _env_file=None, **overrides)  # type: ignore[call-arg]
    return GovQA(settings)


class CountingChain:
    def __init__(self, chain: Any) -> None:
        self.chain = chain
        self.calls = 0

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.chain.invoke(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.chain.stream(*args, **kwargs)


def _counting(service: GovQA) -> CountingChain:
    counting = CountingChain(service.chain)
    service._chain = counting
    return counting


def test_a_repeated_question_is_answered_from_the_cache(fake_sample_index: Path, tmp_path: Path) -> None:
    service = _service(fake_sample_index, tmp_path)
    chain = _counting(service)
    first = service.ask("2019年精武镇税收收入是多少？")
    again = service.ask("2019年精武镇税收收入是多少？")
    assert chain.calls == 1
    assert again.text == first.text and again.citations == first.citations
    assert "answer_cache" in again.timings_ms and "answer_cache" not in first.timings_ms
    streamed = list(service.ask_stream("2019年精武镇税收收入是多少？"))
    assert chain.calls == 1
    assert streamed[-1]["answer"].text == first.text
    service.ask("2019年精武镇税收收入是多少？", history=[("你好", "你好")])  # other history: other key
    assert chain.calls == 2
    service.close()


def test_filters_are_part_of_the_key(fake_sample_index: Path, tmp_path: Path) -> None:
    from rag.scope import Filters

    service = _service(fake_sample_index, tmp_path)
    chain = _counting(service)
    service.ask("税收收入是多少？", filters=Filters(year=2019))
    service.ask("税收收入是多少？", filters=Filters(year=2020))
    service.ask("税收收入是多少？", filters=Filters(year=2019))
    assert chain.calls == 2
    service.close()


def test_a_document_change_through_the_service_invalidates(fake_sample_index: Path, tmp_path: Path) -> None:
    service = _service(fake_sample_index, tmp_path)
    chain = _counting(service)
    before = service.ask(QUESTION)
    assert "9.5亿元" not in before.text
    outcome = service.ingest_bytes("test-town-2025.txt", NEW_REPORT.encode())
    after = service.ask(QUESTION)
    assert chain.calls == 2
    assert "9.5亿元" in after.text
    service.delete_document(outcome.doc_id)
    gone = service.ask(QUESTION)
    assert chain.calls == 3
    assert "9.5亿元" not in gone.text
    service.close()


def test_a_write_by_another_writer_of_the_index_invalidates(fake_sample_index: Path, tmp_path: Path) -> None:
    server = _service(fake_sample_index, tmp_path)
    chain = _counting(server)
    server.ask(QUESTION)
    other = _service(fake_sample_index, tmp_path)  # e.g. `govqa ingest` from the command line
    other.ingest_bytes("test-town-2025.txt", NEW_REPORT.encode())
    other.close()
    after = server.ask(QUESTION)
    assert chain.calls == 2
    assert "9.5亿元" in after.text
    server.close()


def test_the_answer_cache_can_be_switched_off(fake_sample_index: Path, tmp_path: Path) -> None:
    service = _service(fake_sample_index, tmp_path, answer_cache_size=0)
    chain = _counting(service)
    service.ask(QUESTION)
    service.ask(QUESTION)
    assert chain.calls == 2
    service.close()
