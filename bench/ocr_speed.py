"""OCR benchmark: the five sample reports as scanned PDFs through govqa's loader (Tesseract, chi_sim+eng).

Makes the scans with real tools (``eval.real_files``: reportlab text PDF → pdftoppm at ``--dpi`` →
img2pdf) unless ``--scans`` names a folder of them, then loads each scan with ``ingest.loaders.load_file``
(pages rendered at 300 dpi by pypdfium2, read by Tesseract one page at a time) and reports pages, seconds,
pages/s and the share of the .txt original's characters recovered (difflib ratio after ``clean_text``).

    .venv/bin/python bench/ocr_speed.py [--scans var/realfiles/scanned] [--dpi 150] [--limit N]
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eval.real_files import SAMPLES, sample_pdfs  # noqa: E402
from ingest.clean import clean_text  # noqa: E402
from ingest.loaders import load_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scans", type=Path, help="folder of scanned PDFs named like the samples")
    parser.add_argument("--dpi", type=int, default=150, help="scan resolution when making scans")
    parser.add_argument("--limit", type=int, default=0, help="only the first N reports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scans = args.scans
        if scans is None:
            sample_pdfs(Path(tmp), scanned=True, dpi=args.dpi)
            scans = Path(tmp) / "scanned"
        files = sorted(scans.glob("*.pdf"))[: args.limit or None]
        print(
            f"OMP_THREAD_LIMIT={os.environ.get('OMP_THREAD_LIMIT', '(unset: govqa sets 1)')}, cpus={os.cpu_count()}"
        )
        print("| report | pages | seconds | pages/s | text recovered |")
        print("|---|---:|---:|---:|---:|")
        total_pages, total_s = 0, 0.0
        for scan in files:
            t0 = time.perf_counter()
            loaded = load_file(scan, max_bytes=1 << 30)
            seconds = time.perf_counter() - t0
            pages = len(loaded.ocr_pages)
            original = clean_text((SAMPLES / f"{scan.stem}.txt").read_text(encoding="utf-8"))
            ratio = difflib.SequenceMatcher(None, original, clean_text(loaded.text), autojunk=False).ratio()
            total_pages += pages
            total_s += seconds
            print(
                f"| {scan.stem} | {pages} | {seconds:.1f} | {pages / seconds:.3f} | {ratio:.3f} |", flush=True
            )
        print(f"| all | {total_pages} | {total_s:.1f} | {total_pages / max(total_s, 1e-9):.3f} | |")


if __name__ == "__main__":
    main()
