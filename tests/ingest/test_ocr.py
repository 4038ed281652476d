"""OCR of scanned PDFs and images: the real Tesseract on a one-page scan (marked ``ocr``), and the
page bookkeeping with a scripted engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from eval.real_files import scanned_pdf, text_pdf
from govqa.errors import InputFileError
from ingest.clean import clean_text
from ingest.limits import Limits
from ingest.loaders import load_bytes, load_file
from ingest.ocr import OcrEngine

MB = 1024 * 1024
TEXT = (
    "2024年精武镇政府工作报告\n"
    "一、2024年工作回顾\n"
    "全镇预计实现税收收入18亿元，同比增长36.8%。规模以上工业总产值完成120亿元。\n"
    "二、2025年工作安排\n"
    "坚持稳中求进工作总基调，加快建设现代化产业体系，推动高质量发展。"
)


@dataclass(frozen=True)
class ScriptedOcr(OcrEngine):
    """Reads every page as ``text``; fails on the pages in ``fail``."""

    text: str = "OCR读出的第{n}页文字内容，全镇税收收入18亿元。"
    fail: tuple[int, ...] = ()
    calls: list[int] | None = None

    @property
    def label(self) -> str:
        return "scripted"

    def read(self, image: Image.Image) -> str:
        assert self.calls is not None
        self.calls.append(len(self.calls) + 1)
        n = len(self.calls)
        if n in self.fail:
            raise RuntimeError("tesseract crashed")
        return self.text.format(n=n)


pytest.importorskip("reportlab")


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-page text PDF rasterised at 150 dpi (pdftoppm) and wrapped into a scan (img2pdf)."""
    d = tmp_path_factory.mktemp("scan")
    return scanned_pdf(text_pdf(TEXT, d / "text.pdf"), d / "scan.pdf", dpi=150)


@pytest.mark.ocr
@pytest.mark.slow
def test_scanned_pdf_is_read_by_tesseract(scan: Path) -> None:
    progress: list[tuple[int, int]] = []
    loaded = load_file(scan, max_bytes=10 * MB, progress=lambda d, t: progress.append((d, t)))
    assert loaded.ocr_pages == (1,)
    assert loaded.ocr_engine.startswith("tesseract 5") and "chi_sim" in loaded.ocr_engine
    assert progress == [(1, 1)]
    text = clean_text(loaded.text)
    for fact in ("税收收入18亿元", "36.8", "一、2024年工作回顾", "现代化产业体系"):
        assert fact in text


@pytest.mark.ocr
@pytest.mark.slow
def test_png_image_is_read_by_tesseract(scan: Path, tmp_path: Path) -> None:
    from ingest.ocr import render_pdf_page

    png = tmp_path / "page.png"
    render_pdf_page(scan.read_bytes(), 0, dpi=200).save(png)
    loaded = load_file(png, max_bytes=10 * MB)
    assert loaded.ocr_pages == (1,)
    assert "税收收入18亿元" in clean_text(loaded.text)


def test_text_pages_are_not_ocrd_and_a_failing_page_is_named(tmp_path: Path, scan: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(str(text_pdf(TEXT, tmp_path / "t.pdf")))  # page 1: text layer
    for _ in range(2):
        writer.append(str(scan))  # pages 2 and 3: images only
    out = tmp_path / "mixed.pdf"
    with out.open("wb") as f:
        writer.write(f)
    engine = ScriptedOcr(fail=(1,), calls=[])  # the first OCR'd page (page 2) fails
    loaded = load_bytes("mixed.pdf", out.read_bytes(), max_bytes=10 * MB, ocr=engine)
    assert engine.calls == [1, 2]  # only the two scanned pages went through OCR
    assert loaded.ocr_pages == (3,)
    assert loaded.ocr_engine == "scripted"
    assert loaded.warnings == ("page 2: OCR failed (tesseract crashed)",)
    assert "税收收入18亿元" in loaded.text and "OCR读出的第2页" in loaded.text


def test_missing_tesseract_says_what_to_install(scan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    from ingest import ocr

    ocr._tesseract_version.cache_clear()
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "no-such-tesseract")
    try:
        with pytest.raises(InputFileError) as ei:
            # in this process: the monkeypatch does not reach the sandbox's child
            load_bytes("scan.pdf", scan.read_bytes(), max_bytes=10 * MB, limits=Limits(isolate=False))
    finally:
        ocr._tesseract_version.cache_clear()
    assert "needs OCR" in ei.value.reason and "tesseract-ocr-chi-sim" in ei.value.reason


def test_repair_ocr_text_restores_the_delivery_dashes_only() -> None:
    from ingest.ocr import repair_ocr_text

    assert repair_ocr_text("一一2019 年12月28日在\n 一 一 2024年") == "——2019 年12月28日在\n ——2024年"
    assert repair_ocr_text("一一是加快发展\n第一一2") == "一一是加快发展\n第一一2"


def test_body_name_misread_in_the_title_block_is_taken_from_the_text() -> None:
    from ingest.document import make_document

    raw = (
        "政府工作报告\n——2024年1月18日在天津市西青区张家窝镇第十九届人民代表大会第八次会议上\n"
        "张家帘镇镇长赵林\n各位代表:\n现在，我代表张家帘镇人民政府向大会作工作报告，请予审议。\n"
        "一、2023年工作回顾\n2023年张家窝镇经济平稳增长，张家窝镇人民生活改善，张家窝镇社会稳定。"
    )
    doc = make_document("004.pdf", raw, "0" * 64, ocr_engine="tesseract", ocr_pages=(1,))
    assert doc.meta.body == "张家窝镇"
    assert "张家帘镇" not in doc.meta.title
