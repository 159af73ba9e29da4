"""Every kind of bad input ends in a clear error and leaves the bot's other documents untouched."""

from __future__ import annotations

import pytest

from modelpilot.scheduler.worker import MAX_ATTEMPTS

from tests.knowledge.conftest import add_text, count_rows, docs_path, search, wait_done
from tests.knowledge.fixtures import (Site, docx_bomb, encrypted_pdf, image_only_pdf, make_pdf, never_answers,
                                      pdf_bomb)

KEEPER = "The lighthouse keeper lights the lamp at dusk and logs every passing ship in a ledger."


@pytest.fixture
def keeper(owner, bot) -> dict:
    doc = wait_done(owner, bot, add_text(owner, bot, "Lighthouse", KEEPER)["id"])
    assert doc["status"] == "indexed"
    return doc


def assert_keeper_intact(api, bot, keeper) -> None:
    again = api.ok("GET", f"{docs_path(api, bot)}/{keeper['id']}")
    assert again["status"] == "indexed" and again["chunk_count"] == keeper["chunk_count"]
    assert search(api, bot, "who logs the passing ships")[0]["document_id"] == keeper["id"]


def upload(api, bot, name: str, data: bytes):
    return api.post(docs_path(api, bot), files={"file": (name, data)})


@pytest.mark.parametrize("name, make, expect", [
    ("broken.pdf", lambda: b"%PDF-1.4\n" + b"\x13 not a pdf body " * 100, "damaged"),
    ("locked.pdf", lambda: encrypted_pdf("the vault code"), "password-protected"),
    ("scan.pdf", image_only_pdf, "is it a scan"),
    ("bomb.pdf", pdf_bomb, "compression bomb"),
    ("bomb.docx", docx_bomb, "ZIP bomb"),
    ("empty.html", lambda: b"<html><body><script>app()</script><nav>Menu</nav></body></html>", "no readable text"),
])
def test_bad_files_fail_with_a_reason(owner, bot, keeper, name, make, expect) -> None:
    response = upload(owner, bot, name, make())
    assert response.status_code == 202, response.text
    done = wait_done(owner, bot, response.json()["id"])
    assert done["status"] == "error" and expect in done["error"], done
    assert done["chunk_count"] == 0
    assert_keeper_intact(owner, bot, keeper)


def test_empty_file_is_400_naming_the_field(owner, bot, keeper) -> None:
    response = upload(owner, bot, "empty.txt", b"")
    assert response.status_code == 400 and "file" in response.json()["error"]["message"]
    assert_keeper_intact(owner, bot, keeper)


def test_unknown_type_is_415(owner, bot, keeper) -> None:
    for name, data in [("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100), ("archive.zip", b"PK\x03\x04" + b"\x00" * 100)]:
        response = upload(owner, bot, name, data)
        assert response.status_code == 415, response.text
        assert response.json()["error"]["code"] == "unsupported_media_type"
    assert len(owner.ok("GET", docs_path(owner, bot))) == 1
    assert_keeper_intact(owner, bot, keeper)


def test_file_over_the_size_cap_is_413(server_factory, client_factory) -> None:
    from tests.knowledge.conftest import create_bot
    from tests.support import Api

    live = server_factory(max_upload_bytes=1000)
    api = Api(live.url)
    api.setup_owner()
    bot = create_bot(api)
    response = upload(api, bot, "big.txt", b"words " * 400)
    assert response.status_code == 413 and "file" in response.json()["error"]["message"]
    assert api.ok("GET", docs_path(api, bot)) == []
    api.close()


def test_non_utf8_text_upload_is_indexed(owner, bot, keeper) -> None:
    text = "Die Bäckerei öffnet um sechs Uhr früh und schließt mittags für eine Stunde Pause. " * 3
    response = upload(owner, bot, "hours.txt", text.encode("cp1252"))
    done = wait_done(owner, bot, response.json()["id"])
    assert done["status"] == "indexed"
    assert "Bäckerei" in search(owner, bot, "wann öffnet die Bäckerei")[0]["text"]
    assert_keeper_intact(owner, bot, keeper)


@pytest.mark.parametrize("url", ["http://127.0.0.1/admin", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                 "ftp://example.com/file", "not a url"])
def test_private_and_malformed_urls_are_400(owner, bot, keeper, url) -> None:
    response = owner.post(docs_path(owner, bot) + "/url", json={"url": url})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["field"] == "url"
    assert_keeper_intact(owner, bot, keeper)


def test_a_name_resolving_to_loopback_is_refused_at_fetch_time(owner, bot, keeper, site: Site) -> None:
    site.html("/", "<p>internal admin panel</p>")
    doc = owner.ok("POST", docs_path(owner, bot) + "/url", 202, json={"url": f"http://localhost:{site.port}/"})
    done = wait_done(owner, bot, doc["id"])
    assert done["status"] == "error" and "private, loopback or link-local" in done["error"]
    assert site.hits == {}
    assert_keeper_intact(owner, bot, keeper)


def test_redirect_loop_and_silent_server_fail_cleanly(intranet, site: Site) -> None:
    live, api, bot = intranet
    keeper_doc = wait_done(api, bot, add_text(api, bot, "Lighthouse", KEEPER)["id"])
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    site.routes["/silent"] = never_answers
    loop = api.ok("POST", docs_path(api, bot) + "/url", 202, json={"url": f"{site.base}/a"})
    silent = api.ok("POST", docs_path(api, bot) + "/url", 202, json={"url": f"{site.base}/silent"})
    assert "redirects in a loop" in wait_done(api, bot, loop["id"])["error"]
    done = wait_done(api, bot, silent["id"], statuses=("error",))
    assert "did not answer" in done["error"]
    assert site.hits["/silent"] == MAX_ATTEMPTS  # retried with backoff, then given up
    assert_keeper_intact(api, bot, keeper_doc)
    assert count_rows(live.settings, "SELECT count(*) FROM jobs WHERE status = 'processing'") == 0


def test_transient_errors_are_retried_until_they_pass(intranet, site: Site) -> None:
    live, api, bot = intranet
    answers = iter([(503, {}, b""), (502, {}, b"")])
    page = (200, {"Content-Type": "text/html"}, b"<title>Status</title><p>The ferry runs hourly from pier four.</p>")
    site.routes["/flaky"] = lambda handler: next(answers, page)
    doc = api.ok("POST", docs_path(api, bot) + "/url", 202, json={"url": f"{site.base}/flaky"})
    done = wait_done(api, bot, doc["id"])
    assert done["status"] == "indexed" and done["title"] == "Status" and site.hits["/flaky"] == 3
