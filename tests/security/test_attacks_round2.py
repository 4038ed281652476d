"""The second round of attacks on a running govqa (red team, 2026-12-05), each reproduced over HTTP
against the real app, each asserted to fail now."""

from __future__ import annotations

import io
import time
import zipfile
import zlib

import docx

from tests.security.conftest import ADMIN, USER, Serve, gradio_call, ui_config


def _pdf_bomb(n_ops: int, pages: int) -> bytes:
    """Pages that all share one compressed stream of ``n_ops`` empty text operators: tiny, slow to parse."""
    raw = b"BT /F1 12 Tf 10 10 Td\n" + b"() Tj\n" * n_ops + b"ET\n"
    comp = zlib.compress(raw, 9)
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(comp)} /Filter /FlateDecode >>\nstream\n".encode() + comp + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
    objs += [page + b"/Contents 4 0 R >>"] * pages
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(pdf))
        pdf += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(pdf)
    pdf += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    pdf += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    pdf += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(pdf)


def test_a_slow_to_parse_pdf_is_cut_off_at_the_budget_and_the_next_upload_works(serve: Serve) -> None:
    served = serve(ingest_budget_s=3, upload_wait_s=30)
    bomb = _pdf_bomb(600_000, 60)
    assert len(bomb) < 100_000
    with served.http() as http:
        t0 = time.monotonic()
        r = http.post("/v1/documents", files={"file": ("report.pdf", bomb, "application/pdf")})
        assert r.status_code == 413 and "longer than 3 s" in r.json()["error"]["message"], r.text
        assert time.monotonic() - t0 < 15
        good = http.post(
            "/v1/documents",
            files={"file": ("新.txt", "2025年新镇政府工作报告\n\n税收3亿元。\n".encode(), "text/plain")},
        )
        assert good.status_code == 201


def _docx_with_parts(n: int, part_mb: float = 1.0) -> bytes:
    """A .docx with ``n`` extra XML parts named *.bin (the red team's 166 KB file that took 2 GB)."""
    base = io.BytesIO()
    docx.Document().save(base)
    body = b"<w:p/>" * int(part_mb * 1024 * 1024 / 6)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        for i in range(n):
            dst.writestr(f"word/h{i}.bin", body)
    return out.getvalue()


def test_xml_parts_under_other_names_count_against_the_xml_limit(serve: Serve) -> None:
    served = serve()
    with served.http() as http:
        r = http.post(
            "/v1/documents", files={"file": ("parts.docx", _docx_with_parts(20), "application/octet-stream")}
        )
    assert r.status_code == 413 and "MB of XML" in r.text


def test_a_malformed_docx_is_a_400_not_a_500(serve: Serve) -> None:
    base = io.BytesIO()
    docx.Document().save(base)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'.encode()
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&i;</w:t></w:r></w:p></w:body></w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, laughs if item.filename == "word/document.xml" else src.read(item.filename))
    served = serve()
    with served.http() as http:
        r = http.post(
            "/v1/documents", files={"file": ("laughs.docx", out.getvalue(), "application/octet-stream")}
        )
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_input_file", r.text


def test_only_admins_may_upload_to_the_ui_and_never_by_url(serve: Serve) -> None:
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN])
    files = {"files": ("a.txt", b"2025", "text/plain")}
    with served.http(USER) as user:
        assert user.post("/ui/gradio_api/upload", files=files).status_code == 403
        deps = ui_config(user)["dependencies"]
        upload = next(i for i, d in enumerate(deps) if d.get("api_name") == "upload")
        remote = {"path": "http://127.0.0.1:9/x.txt", "meta": {"_type": "gradio.FileData"}}
        status, text = gradio_call(user, upload, [[remote], "all", "all", "all"])
        assert status == 400 and "never fetched by URL" in text
        status, _ = gradio_call(user, upload, [[{**remote, "path": "//127.0.0.1:9/x"}], "all", "all", "all"])
        assert status == 400
    with served.http(ADMIN) as admin:
        assert admin.post("/ui/gradio_api/upload", files=files).status_code == 200


def test_a_local_server_refuses_other_sites_and_rebound_hosts(serve: Serve) -> None:
    served = serve(allowed_hosts=[])  # the default on loopback: the loopback names only
    report = {"file": ("evil.txt", "2025年假报告\n\n税收收入999亿元。\n".encode(), "text/plain")}
    with served.http() as http:
        cross = http.post("/v1/documents", files=report, headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403 and cross.json()["error"]["code"] == "cross_site"
        assert (
            http.post(
                "/ui/gradio_api/queue/join", json={}, headers={"Origin": "http://evil.example"}
            ).status_code
            == 403
        )
        assert (
            http.post("/login", data={"key": "x"}, headers={"Origin": "http://evil.example"}).status_code
            == 403
        )
        rebound = http.get("/v1/documents", headers={"Host": f"attacker.example:{served.server.port}"})
        assert rebound.status_code == 400 and rebound.json()["error"]["code"] == "bad_host"
        assert http.get("/ui/", headers={"Host": "attacker.example"}).status_code == 400
        same = http.post(
            "/v1/ask", json={"question": "2019年精武镇税收收入是多少？"}, headers={"Origin": served.url}
        )
        assert same.status_code == 200  # the server's own pages, and clients that send no Origin, pass
        assert http.post("/v1/ask", json={"question": "2019年精武镇税收收入是多少？"}).status_code == 200
        assert "evil.txt" not in {d["source"] for d in http.get("/v1/documents").json()["documents"]}


def test_logins_are_rate_limited_and_cannot_push_out_other_keys_sessions(serve: Serve) -> None:
    served = serve(api_keys=[USER], admin_api_keys=[ADMIN], failed_auth_per_minute=5)
    with served.http(follow_redirects=False) as admin_browser:
        assert admin_browser.post("/login", data={"key": ADMIN}).status_code == 303
        codes = []
        with served.http(follow_redirects=False) as attacker:
            for _ in range(8):
                codes.append(attacker.post("/login", data={"key": USER}).status_code)
        assert 429 in codes and codes.count(303) <= 4
        assert admin_browser.get("/v1/documents").status_code == 200  # the admin's session survives
