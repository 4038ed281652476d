"""The real local model (Qwen2.5 1.5B through llama.cpp) answering in the chat UI, in Chromium.

Marked ``llm``: it runs in ``make llm-test`` (the end of ``make test``) after the model is prepared, not in
the main pytest run, and skips with the reason when the model is not prepared. The fake-model browser test
(tests/ui/test_browser.py) holds the stream to check the pending answer precisely; this one checks that the
real model's tokens reach the page before the final answer replaces them, and that the final answer cites.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govqa.settings import Settings
from rag.llm.local_model import PREPARE_COMMAND, check_gguf, gguf_path
from tests.ui.http.helpers import LiveServer
from tests.ui.web.test_browser import SCREENSHOTS, _open_page, browser  # noqa: F401  (browser is a fixture)
from ui.http import create_app, mount_ui
from ui.service import GovQA, sample_reports

pytestmark = [pytest.mark.llm, pytest.mark.model, pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u4e00-\u9fff]")
ANSWER_WAIT_MS = 600_000  # a wait for a 2-core machine under load, not a speed check

# records, in the page, every text a pending (still streaming) answer showed
WATCH_PENDING = """() => {
  window.__pending = [];
  const seen = () => document.querySelectorAll('#gq-chat .gq-answer.gq-pending .gq-text')
    .forEach(e => { const t = e.textContent.trim(); if (t && !window.__pending.includes(t)) window.__pending.push(t); });
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _dir(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@pytest.fixture
def real_local_url(tmp_path: Path) -> Iterator[str]:
    models = _dir("GOVQA_TEST_MODELS_DIR", REPO / "var" / "models")
    problem = check_gguf(gguf_path(models))
    if problem is not None:
        pytest.skip(f"local model not prepared ({problem}): run `make llm` or `{PREPARE_COMMAND}`")
    pytest.importorskip("llama_cpp", reason=f"llama-cpp-python is not installed: run `{PREPARE_COMMAND}`")
    data = tmp_path / "data"
    index = _dir("GOVQA_TEST_DATA_DIR", REPO / "var" / "test-data") / "index"
    if index.is_dir():
        shutil.copytree(index, data / "index")
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data, models_dir=models, answer_mode="local", rate_limit_per_minute=0, _env_file=None
    )
    service = GovQA(settings)
    report = service.ingest(sample_reports())  # unchanged reports are skipped when the index was copied
    assert not report.failed, report.summary()
    app = create_app(settings, service)
    assert mount_ui(app, service)
    with LiveServer(app) as server:
        yield server.url
    service.close()


def test_the_real_local_model_streams_a_cited_answer_into_the_chat(
    browser: Any,  # noqa: F811
    real_local_url: str,
) -> None:
    from playwright.sync_api import expect

    for page in _open_page(browser, []):
        page.goto(f"{real_local_url}/ui/")
        page.locator("#gq-question textarea").wait_for()
        expect(page.locator("#gq-mode")).to_contain_text("LLM · local")
        page.evaluate(WATCH_PENDING)
        box = page.locator("#gq-question textarea")
        box.fill("2019年精武镇新引进了多少个重点项目？")
        box.press("Enter")

        answer = page.locator("#gq-chat .gq-answer:not(.gq-pending)")
        expect(answer).to_have_count(1, timeout=ANSWER_WAIT_MS)
        text = answer.locator(".gq-text").inner_text()
        pending = page.evaluate("window.__pending")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "ui-local-real.png"), full_page=True)

        assert answer.evaluate("a => a.classList.contains('gq-refused')") is False, text
        assert CJK.search(text) and "115" in text, text
        assert answer.locator(".gq-text sup.gq-ref").count() >= 1, text
        card = answer.locator("details.gq-card").first
        assert "精武镇" in card.locator("summary").inner_text()
        assert "115" in card.locator("blockquote").inner_text()
        # the model's own tokens were on the page before the checked answer replaced them
        assert pending and any(CJK.search(t) or re.search(r"\d", t) for t in pending), pending
