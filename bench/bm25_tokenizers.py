"""Which BM25 tokenizer finds the facts in the sample reports: character bigrams, jieba words, or both.

Passages are the real chunks (``ingest.document.make_document`` + ``ingest.chunking.split_document``
with the default budget) indexed the way ``CorpusIndex`` indexes them (``chunk.embed_text``: title ›
headings, then the body), or with ``--passages paragraphs`` the cleaned text split at line breaks.
A question is found at k when one of the top k passages comes from the right report and contains the
expected substring (spaces ignored). Prints recall@1, recall@5, MRR@10, index size and timing.

    .venv/bin/python bench/bm25_tokenizers.py [--passages chunks|paragraphs] [--misses]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.chunking import split_document  # noqa: E402
from ingest.document import make_document  # noqa: E402
from vectorstore.bm25 import BM25Index, bigram_tokens, both_tokens, jieba_tokens  # noqa: E402

SAMPLES = sorted((REPO / "data" / "samples").glob("*.txt"))

# (report file prefix, question, substring the passage must contain) — written from the reports:
# figures, names and projects, asked the way a reader would, not in the report's own words
QUESTIONS: list[tuple[str, str, str]] = [
    ("003", "2019年精武镇税收收入是多少", "税收收入18亿元"),
    ("003", "2019年精武镇固定资产投入增长了多少", "同比增长84.5%"),
    ("003", "精武镇2019年认定了几家国家级高新技术企业", "国家级高新技术企业52家"),
    ("003", "学府科创广场投资了多少钱", "3700万元"),
    ("003", "2019年精武镇PM2.5浓度降了多少", "下降16.4%"),
    ("003", "精武镇投放了多少个垃圾分类桶", "垃圾分类桶508个"),
    ("003", "2019年精武镇关停取缔了哪些工业集聚区", "闫庄子工业集聚区"),
    ("000", "精武镇五年来累计税收收入多少", "73.3亿元"),
    ("000", "精武镇规模以上企业有多少家", "规模以上企业增至100家"),
    ("000", "精武镇的市场主体数量", "市场主体增至8500个"),
    ("000", "精武文化公园有多大", "40万平方米的精武文化公园"),
    ("000", "精武镇的城镇化率是多少", "城镇化率达99%"),
    ("000", "五年间精武镇培育了多少国家高新技术企业", "培育国家高新技术企业60家"),
    ("001", "2024年精武镇全年税收预计完成多少", "税收10.8亿元"),
    ("001", "精武镇规模工业总产值在全区排名", "位列第一"),
    ("001", "2024年精武镇新注册了多少企业", "新增注册企业861个"),
    ("001", "东鹏饮料在精武镇建设什么项目", "东鹏饮料集团天津生产基地"),
    ("001", "南开大学钠离子电池项目到了哪一步", "钠离子电池项目进入中试生产"),
    ("002", "西青区2021年GDP是多少", "地区生产总值915亿元"),
    ("002", "西青区居民人均可支配收入", "48300元"),
    ("002", "西青区有多少家高新技术企业", "高新技术企业达到676家"),
    ("002", "西青区引进了多少高层次人才团队", "领军人才团队175个"),
    ("002", "西青区一般公共预算收入中税收占多少", "税收收入占比达到76%"),
    ("004", "张家窝镇规上工业总产值是多少", "78.46亿元"),
    ("004", "张家窝镇社会消费品零售总额增长了多少", "367.88%"),
    ("004", "张家窝镇帮多少企业拿到了融资贷款", "92家企业完成3.08亿元融资贷款"),
    ("004", "张家窝镇PM2.5降到了多少", "44微克/立方米"),
    ("004", "张家窝镇引进了哪些京冀项目", "京能国际综合智慧能源"),
]

TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "bigram": bigram_tokens,
    "jieba": jieba_tokens,
    "both": both_tokens,
}


@dataclass(frozen=True)
class Passage:
    source: str
    text: str  # what must contain the answer
    indexed: str  # what BM25 sees


def load_passages(kind: str) -> list[Passage]:
    passages = []
    for path in SAMPLES:
        raw = path.read_text(encoding="utf-8")
        doc = make_document(path.name, raw, hashlib.sha256(raw.encode()).hexdigest())
        if kind == "chunks":
            passages += [Passage(path.name, c.text, c.embed_text) for c in split_document(doc)]
        else:
            paras = [p.strip() for p in doc.text.split("\n") if p.strip()]
            passages += [Passage(path.name, p, f"{doc.meta.title}\n{p}") for p in paras]
    return passages


def _squash(s: str) -> str:
    return "".join(s.split())


def evaluate(name: str, passages: list[Passage], show_misses: bool) -> dict[str, float]:
    tokenize = TOKENIZERS[name]
    tokenize("预热")  # load jieba outside the timing
    t0 = time.perf_counter()
    index = BM25Index()
    index.add_many((i, tokenize(p.indexed)) for i, p in enumerate(passages))
    build = time.perf_counter() - t0
    hits1 = hits5 = 0
    rr = 0.0
    t0 = time.perf_counter()
    for prefix, question, expected in QUESTIONS:
        ids, _ = index.search(tokenize(question), limit=10)
        ranks = [
            r
            for r, i in enumerate(ids.tolist(), 1)
            if passages[i].source.startswith(prefix) and _squash(expected) in _squash(passages[i].text)
        ]
        rank = ranks[0] if ranks else None
        hits1 += rank == 1
        hits5 += rank is not None and rank <= 5
        rr += 1.0 / rank if rank else 0.0
        if show_misses and (rank is None or rank > 1):
            print(f"  {name:6} rank {rank or '>10':>3}  {question}  [{expected}]")
    search_ms = (time.perf_counter() - t0) / len(QUESTIONS) * 1000
    n = len(QUESTIONS)
    return {
        "r1": hits1 / n,
        "r5": hits5 / n,
        "mrr": rr / n,
        "hits1": hits1,
        "hits5": hits5,
        "vocab": index.vocabulary_size,
        "build_s": build,
        "query_ms": search_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", choices=["chunks", "paragraphs"], default="chunks")
    parser.add_argument("--misses", action="store_true", help="list questions not found at rank 1")
    args = parser.parse_args()
    passages = load_passages(args.passages)
    print(
        f"{len(passages)} passages ({args.passages}) from {len(SAMPLES)} reports, {len(QUESTIONS)} questions"
    )
    print(
        f"{'tokenizer':10} {'recall@1':>12} {'recall@5':>12} {'MRR@10':>7} {'vocab':>7} {'build s':>8} {'ms/query':>9}"
    )
    for name in TOKENIZERS:
        m = evaluate(name, passages, args.misses)
        n = len(QUESTIONS)
        print(
            f"{name:10} {m['hits1']:>3}/{n} {m['r1']:6.0%} {m['hits5']:>3}/{n} {m['r5']:6.0%} {m['mrr']:7.3f} "
            f"{m['vocab']:7d} {m['build_s']:8.2f} {m['query_ms']:9.2f}"
        )


if __name__ == "__main__":
    main()
