"""/v1/documents: list, upload, delete; bad uploads leave the index as it was; names never become paths."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from govqa.errors import InputFileError
from tests.ui.http.helpers import Api, LiveServer, MakeApi, assert_error
from ui.http.routes.documents import safe_basename

REPORT = (
    "2025年示范镇政府工作报告\n\n"
    "一、2025年工作回顾\n\n"
    "2025年全镇实现税收收入9.9亿元，同比增长12.3%。新建口袋公园三座，改造老旧小区两个。\n\n"
    "二、2026年工作安排\n\n"
    "2026年计划新建学校一所，推进智慧社区建设。\n"
)


def _report(tag: str) -> bytes:
    return REPORT.replace("示范镇", f"{tag}镇").encode("utf-8")


def test_list_documents(client: httpx.Client) -> None:
    r = client.get("/v1/documents")
    assert r.status_code == 200
    docs = r.json()["documents"]
    assert len(docs) == 5
    assert {d["meta"]["body"] for d in docs} >= {"精武镇"}
    assert all(d["chunk_count"] > 0 and d["doc_id"] and d["source"].endswith(".txt") for d in docs)


def test_upload_ask_and_delete(api: Api) -> None:
    c = api.client
    r = c.post("/v1/documents", files={"file": ("示范镇2025.txt", _report("示范"), "text/plain")})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["status"] == "added" and up["chunks"] > 0 and up["source"] == "示范镇2025.txt"
    assert up["doc_id"] in {d["doc_id"] for d in c.get("/v1/documents").json()["documents"]}

    answer = c.post(
        "/v1/ask", json={"question": "2025年示范镇税收收入是多少？", "filters": {"document": up["doc_id"]}}
    ).json()
    assert "9.9亿元" in answer["answer"], answer["answer"]

    again = c.post("/v1/documents", files={"file": ("示范镇2025.txt", _report("示范"), "text/plain")})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"

    r = c.delete(f"/v1/documents/{up['doc_id']}")
    assert r.status_code == 200 and r.json()["deleted"]["doc_id"] == up["doc_id"]
    assert len(c.get("/v1/documents").json()["documents"]) == 5
    assert_error(c.delete(f"/v1/documents/{up['doc_id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("empty.txt", b"", 400),
        ("binary.txt", b"\x00\x01\x02\x03" * 100, 400),
        ("program.exe", b"MZ\x90\x00" + b"\x00" * 200, 400),
        ("notes.csv", b"a,b,c\n1,2,3\n" * 10, 400),
        ("tiny.txt", "太短".encode(), 400),
        ("fake.pdf", b"%PDF-1.4 this is not really a pdf" * 5, 400),
        ("fake.docx", b"PK\x03\x04 not a real zip" * 5, 400),
        ("..", _report("点"), 400),
        ("", _report("空"), 422),  # no file name at all: not a file part
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(api: Api, name: str, data: bytes, status: int) -> None:
    before = api.sources()
    r = api.client.post("/v1/documents", files={"file": (name, data, "application/octet-stream")})
    assert_error(r, status)
    assert api.sources() == before


def test_missing_file_field_is_422(client: httpx.Client) -> None:
    assert_error(client.post("/v1/documents", data={"other": "x"}), 422, "validation_error")
    assert_error(client.post("/v1/documents", json={"file": "x"}), 422, "validation_error")


def test_oversize_upload_is_413(make_api: MakeApi) -> None:
    api = make_api(max_upload_mb=0.01)  # ~10 KB
    before = api.sources()
    big = _report("大") * 200  # ~50 KB
    assert_error(
        api.client.post("/v1/documents", files={"file": ("big.txt", big, "text/plain")}),
        413,
        "payload_too_large",
    )
    assert api.sources() == before


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\x.txt", "x.txt"),
        ("C:\\Users\\me\\报告.txt", "报告.txt"),
        ("/abs/path/report.md", "report.md"),
        ("./report.txt", "report.txt"),
    ],
)
def test_upload_names_never_become_paths(api: Api, tmp_path: Path, name: str, stored: str) -> None:
    before = set(tmp_path.parent.rglob(stored))  # other tests may have written such names themselves
    r = api.client.post("/v1/documents", files={"file": (name, _report("路径"), "text/plain")})
    assert r.status_code == 201, r.text
    assert r.json()["source"] == stored
    assert stored in api.sources()
    # nothing was written under the upload's name: not in the data folder, not around it, not in /etc
    assert set(tmp_path.parent.rglob(stored)) == before
    assert not (Path("/etc") / stored).exists()


def test_safe_basename() -> None:
    assert safe_basename("a/b\\c/d.txt") == "d.txt"
    assert safe_basename(" 报告.txt ") == "报告.txt"
    for bad in (None, "", ".", "..", "a/..", "dir/", "\x00\x01"):
        with pytest.raises(InputFileError):
            safe_basename(bad)
    with pytest.raises(InputFileError):
        safe_basename("x" * 300 + ".txt")


def test_concurrent_uploads_lose_nothing(make_api: MakeApi) -> None:
    n = 8
    api = make_api(ingest_queue=n)  # room for all of them in the ingest queue
    results: list[int] = []
    errors: list[BaseException] = []

    def upload(i: int) -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=120) as http:
                r = http.post(
                    "/v1/documents", files={"file": (f"并发{i}.txt", _report(f"并发{i}号"), "text/plain")}
                )
                results.append(r.status_code)
        except BaseException as e:
            errors.append(e)

    with LiveServer(api.app) as server:
        threads = [threading.Thread(target=upload, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        with httpx.Client(base_url=server.url) as http:
            listed = {d["source"] for d in http.get("/v1/documents").json()["documents"]}
    assert not errors and results == [201] * n
    assert {f"并发{i}.txt" for i in range(n)} <= listed
    assert len(listed) == 5 + n


def test_uploads_beyond_the_ingest_queue_are_refused_with_503(make_api: MakeApi) -> None:
    api = make_api(ingest_queue=1)
    release = threading.Event()
    started = threading.Event()

    def slow(*_: object) -> object:
        started.set()
        release.wait(30)
        raise AssertionError("not reached")

    jobs = api.app.state.govqa.jobs
    jobs.submit("a", slow)  # running
    assert started.wait(10)
    jobs.submit("b", slow)  # waiting: the queue is now full
    r = api.client.post("/v1/documents", files={"file": ("c.txt", _report("丙"), "text/plain")})
    release.set()
    assert_error(r, 503, "busy")
    assert r.headers["retry-after"]
    assert "c.txt" not in {d["source"] for d in api.client.get("/v1/documents").json()["documents"]}


def test_a_slow_upload_answers_202_with_a_job_to_poll(make_api: MakeApi) -> None:
    api = make_api(upload_wait_s=0.05)
    gate = threading.Event()
    real = api.service.ingest_bytes

    def held(name: str, data: bytes, pages: object = None) -> object:
        gate.wait(30)
        return real(name, data)

    api.service.ingest_bytes = held  # type: ignore[method-assign]
    r = api.client.post("/v1/documents", files={"file": ("慢.txt", _report("慢"), "text/plain")})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running") and job["url"] == f"/v1/documents/jobs/{job['job_id']}"
    gate.set()
    for _ in range(200):
        polled = api.client.get(job["url"]).json()
        if polled["status"] == "done":
            break
        time.sleep(0.05)
    assert polled["status"] == "done" and polled["result"]["source"] == "慢.txt"
    assert polled["result"]["status"] == "added"
    assert_error(api.client.get("/v1/documents/jobs/" + "0" * 32), 404, "not_found")


def test_viewer_and_text_routes(make_api: MakeApi) -> None:
    api = make_api(api_keys=["u-key"], admin_api_keys=["a-key"])
    doc = next(r for r in api.service.documents() if r.meta.title.startswith("2019年"))
    c = api.client
    assert c.get(f"/ui/documents/{doc.doc_id}").status_code == 401  # behind the UI's gate
    auth = {"Authorization": "Bearer u-key"}
    data = c.get(f"/v1/documents/{doc.doc_id}/text", headers=auth).json()
    at = data["text"].index("18亿元")
    assert data["headings"][0]["level"] == 1 and data["title"] == doc.meta.title
    page = c.get(f"/ui/documents/{doc.doc_id}?start={at}&end={at + 4}", headers=auth)
    assert page.status_code == 200 and "<mark id=gq-hit>18亿元</mark>" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert c.get("/ui/documents/nope", headers=auth).status_code == 404
    assert c.get("/v1/documents/nope/text", headers=auth).status_code == 404
