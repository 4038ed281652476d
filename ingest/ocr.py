"""Page images → text with Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-chi-sim``), offline.

``pytesseract`` runs the ``tesseract`` binary on one image at a time. Scanned PDF pages are rendered with
pypdfium2 (``render_pdf_page``) at ``DPI``; images (.png/.jpg) are read with Pillow. Tesseract's
Chinese output puts a space between ideographs: ``ingest.clean`` drops spaces next to CJK text, so the
raw output is returned as is.

``OcrEngine`` is the seam: ``read(image) -> str`` and a ``label`` the document records
(``DocumentMeta.ocr_engine``). The binary is looked up once, on first use, and a missing binary or
language pack is an ``OcrUnavailable`` that says what to install.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from govqa.errors import GovQAError

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

DEFAULT_LANG = "chi_sim+eng"  # chi_sim reads digits and Latin too; eng helps with English words in reports
DPI = 300  # Tesseract's recommended resolution for body text
# Tesseract's chi_sim reads the em-dash pair opening a delivery line ("——2024年1月…在…会议上") as "一一"
_DASHES_AS_ONES = re.compile(r"(?m)^([ \t]*)[一—－-][ \t]*[一—－-][ \t]*(?=\d)")
_INSTALL_HINT = "install it with `apt-get install tesseract-ocr tesseract-ocr-chi-sim` (scripts/install.sh)"


class OcrUnavailable(GovQAError):
    """Tesseract or its language data is not installed."""


@dataclass(frozen=True)
class OcrEngine:
    """Tesseract through pytesseract, in one language setting (``chi_sim+eng`` by default)."""

    lang: str = DEFAULT_LANG
    psm: int = 3  # fully automatic page segmentation: the layout of a scanned report page

    @property
    def label(self) -> str:
        return f"tesseract {_tesseract_version()} ({self.lang})"

    def check(self) -> None:
        """Raise ``OcrUnavailable`` unless the binary and every language of ``lang`` are installed."""
        _tesseract_version()
        missing = set(self.lang.split("+")) - _languages()
        if missing:
            raise OcrUnavailable(
                f"Tesseract has no language data for {', '.join(sorted(missing))}; "
                "install tesseract-ocr-chi-sim (scripts/install.sh)"
            )

    def read(self, image: Image.Image) -> str:
        import pytesseract

        self.check()
        # Tesseract's OpenMP threads cost more than they gain on a small shared machine: one page took
        # 28 s with them and 11.6 s without on 2 busy cores. A limit set by the deployment wins.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        text = str(pytesseract.image_to_string(image, lang=self.lang, config=f"--psm {self.psm}"))
        return repair_ocr_text(text)


def repair_ocr_text(text: str) -> str:
    """Undo OCR confusions a later stage depends on: a line opening "一一2024年…" is "——2024年…"."""
    return _DASHES_AS_ONES.sub(r"\1——", text)


@functools.cache
def _tesseract_version() -> str:
    import pytesseract

    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise OcrUnavailable(f"the tesseract OCR program is not installed; {_INSTALL_HINT}")
    return str(pytesseract.get_tesseract_version())


@functools.cache
def _languages() -> frozenset[str]:
    import pytesseract

    return frozenset(pytesseract.get_languages(config=""))


def render_pdf_page(data: bytes, index: int, dpi: int = DPI) -> Image.Image:
    """Page ``index`` (0-based) of the PDF ``data`` as a greyscale image at ``dpi``."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[index]
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        return bitmap.to_pil()
    finally:
        pdf.close()


def open_image(data: bytes) -> Image.Image:
    """A .png/.jpg file's first frame, in greyscale (raises ``OSError``/``ValueError`` when unreadable)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("L")
