"""URL sources: single pages, sitemaps (index sitemaps too), whole sites, and scheduled refreshes."""

from __future__ import annotations

import asyncio

from modelpilot.knowledge.lifecycle import queue_due_refreshes
from tests.knowledge.conftest import count_rows, create_bot, docs_path, search, wait_done
from tests.knowledge.fixtures import Site, make_pdf
from tests.support import Api, eventually


def page(title: str, body: str, links: tuple[str, ...] = ()) -> str:
    anchors = "".join(f'<a href="{href}">{href}</a>' for href in links)
    return (f"<html><head><title>{title}</title></head><body><nav>{anchors}</nav><main><h1>{title}</h1>"
            f"<p>{body}</p></main></body></html>")


def add_url(api, bot, url: str, mode: str = "page", **extra) -> dict:
    return api.ok("POST", docs_path(api, bot) + "/url", 202, json={"url": url, "mode": mode, **extra})


def build_site(site: Site) -> None:
    site.html("/", page("Home", "Welcome to the bicycle repair guide.", ("/tyres", "/brakes", "/private/notes")))
    site.html("/tyres", page("Tyres", "Patch an inner tube by roughing the rubber and pressing the patch for a minute.",
                             ("/", "/chains")))
    site.html("/brakes", page("Brakes", "Replace brake pads when the groove is worn flat.", ("/#top",)))
    site.html("/chains", page("Chains", "Oil the chain every two hundred kilometres."))
    site.html("/private/notes", page("Notes", "Staff-only notes that robots.txt forbids."))
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"},
                                  b"User-agent: *\nDisallow: /private/\n")
    site.routes["/manual.pdf"] = (200, {"Content-Type": "application/pdf"},
                                  make_pdf(["Gear cables stretch and need tension adjustments."], title="Manual"))


def test_single_page_keeps_title_url_and_heading(intranet, site: Site) -> None:
    live, api, bot = intranet
    build_site(site)
    doc = wait_done(api, bot, add_url(api, bot, f"{site.base}/tyres")["id"])
    assert doc["status"] == "indexed" and doc["title"] == "Tyres"
    top = search(api, bot, "how to patch an inner tube")[0]
    assert top["url"] == f"{site.base}/tyres" and top["heading"] == "Tyres"


def test_pdf_url_is_read_as_pdf(intranet, site: Site) -> None:
    live, api, bot = intranet
    build_site(site)
    doc = wait_done(api, bot, add_url(api, bot, f"{site.base}/manual.pdf")["id"])
    assert doc["status"] == "indexed"
    top = search(api, bot, "gear cable tension")[0]
    assert top["page"] == 1 and top["url"].endswith("/manual.pdf")


def test_site_crawl_stays_on_host_respects_robots_and_max_pages(intranet, site: Site) -> None:
    live, api, bot = intranet
    build_site(site)
    doc = wait_done(api, bot, add_url(api, bot, f"{site.base}/", "site", max_pages=10)["id"])
    assert doc["status"] == "indexed", doc
    urls = {r["url"] for r in search(api, bot, "bicycle tyres brakes chains oil", k=20)}
    assert urls == {f"{site.base}{p}" for p in ("/", "/tyres", "/brakes", "/chains")}
    assert "/private/notes" not in site.hits
    assert "Mozilla" not in str(site.hits)
    small = wait_done(api, bot, add_url(api, bot, f"{site.base}/", "site", max_pages=2)["id"])
    assert count_rows(live.settings, "SELECT count(*) FROM document_pages WHERE document_id = ?",
                      (small["id"],)) == 2


def test_sitemap_index_is_followed(intranet, site: Site) -> None:
    live, api, bot = intranet
    build_site(site)
    xml = {"Content-Type": "application/xml"}
    site.routes["/sitemap.xml"] = (200, xml, (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.base}/sitemap-a.xml</loc></sitemap>"
        f"<sitemap><loc>{site.base}/sitemap-b.xml</loc></sitemap></sitemapindex>").encode())
    site.routes["/sitemap-a.xml"] = (200, xml, f"<urlset><url><loc>{site.base}/tyres</loc></url></urlset>".encode())
    site.routes["/sitemap-b.xml"] = (200, xml, (f"<urlset><url><loc>{site.base}/chains</loc></url>"
                                                f"<url><loc>{site.base}/missing</loc></url></urlset>").encode())
    doc = wait_done(api, bot, add_url(api, bot, f"{site.base}/sitemap.xml", "sitemap", max_pages=10)["id"])
    assert doc["status"] == "indexed", doc
    assert search(api, bot, "how often to oil the chain")[0]["url"] == f"{site.base}/chains"
    assert count_rows(live.settings, "SELECT count(*) FROM document_pages") == 2


def test_refresh_reembeds_only_changed_pages_and_drops_vanished_ones(intranet, site: Site) -> None:
    live, api, bot = intranet
    build_site(site)
    doc = wait_done(api, bot, add_url(api, bot, f"{site.base}/", "site", max_pages=10, refresh_hours=24)["id"])
    assert doc["next_refresh_at"]
    db = live.settings
    before = {row: count_rows(db, "SELECT min(rowid) FROM chunks WHERE url = ?", (f"{site.base}{row}",))
              for row in ("/", "/tyres", "/brakes")}
    site.html("/tyres", page("Tyres", "Tubeless tyres seal small punctures with liquid sealant.", ("/",)))
    site.html("/", page("Home", "Welcome to the bicycle repair guide.", ("/tyres", "/brakes")))  # /chains unlinked
    _force_refresh_due(live)
    refreshed = _wait_refreshed(api, bot, doc)
    assert refreshed["status"] == "indexed" and refreshed["next_refresh_at"] > doc["indexed_at"]
    after = {row: count_rows(db, "SELECT min(rowid) FROM chunks WHERE url = ?", (f"{site.base}{row}",))
             for row in ("/", "/tyres", "/brakes")}
    assert after["/brakes"] == before["/brakes"]          # unchanged text: same rows, not re-embedded
    assert after["/tyres"] != before["/tyres"]
    assert count_rows(db, "SELECT count(*) FROM chunks WHERE url = ?", (f"{site.base}/chains",)) == 0
    assert "sealant" in search(api, bot, "tubeless sealant")[0]["text"]
    assert count_rows(db, "SELECT count(*) FROM chunk_vectors") == count_rows(db, "SELECT count(*) FROM chunks")


def _wait_refreshed(api, bot, doc: dict) -> dict:
    """A refresh keeps the document 'indexed' (searchable) while it runs; wait for a newer indexed_at."""
    return eventually(lambda: api.ok("GET", f"{docs_path(api, bot)}/{doc['id']}"),
                      lambda current: current["indexed_at"] > doc["indexed_at"], timeout=60, interval=0.1,
                      what="the refresh")


def _force_refresh_due(live) -> None:
    from modelpilot.core.database import connect_sync_for

    conn = connect_sync_for(live.settings)
    conn.execute("UPDATE documents SET next_refresh_at = '2000-01-01T00:00:00.000Z'")
    conn.close()
    kb = live.app.state["knowledge"]
    loop = live.app.state["worker"]._task.get_loop()
    assert asyncio.run_coroutine_threadsafe(queue_due_refreshes(kb), loop).result(10) == 1


def test_crawl_ceiling_admits_a_normal_docs_site_and_is_an_instance_setting(server_factory, site: Site) -> None:
    # SQLite's documentation alone has ~800 pages: the default ceiling (5,000) must admit it.
    build_site(site)
    default = server_factory(ingest_allow_private=True)
    api = Api(default.url)
    api.setup_owner()
    bot = create_bot(api)
    assert add_url(api, bot, f"{site.base}/sitemap.xml", "sitemap", max_pages=800)["max_pages"] == 800
    too_many = api.post(docs_path(api, bot) + "/url", json={"url": f"{site.base}/", "mode": "site", "max_pages": 5001})
    assert too_many.status_code == 400 and "max_pages" in too_many.text and "5000" in too_many.text
    api.close()
    small = server_factory(ingest_allow_private=True, crawl_max_pages=100)
    api = Api(small.url)
    api.setup_owner()
    bot = create_bot(api)
    refused = api.post(docs_path(api, bot) + "/url", json={"url": f"{site.base}/", "mode": "site", "max_pages": 101})
    assert refused.status_code == 400 and "100" in refused.text
    assert add_url(api, bot, f"{site.base}/", "site", max_pages=100)["max_pages"] == 100
    api.close()


def test_sitemap_with_many_urls_keeps_order_and_drops_duplicates(intranet, site: Site) -> None:
    live, api, bot = intranet
    build_site(site)
    paths = ["/tyres", "/brakes", "/tyres", "/chains", "/brakes"]
    locs = "".join(f"<url><loc>{site.base}{p}</loc></url>" for p in paths)
    site.routes["/sitemap.xml"] = (200, {"Content-Type": "application/xml"},
                                   f'<?xml version="1.0"?><urlset>{locs}</urlset>'.encode())
    doc = wait_done(api, bot, add_url(api, bot, f"{site.base}/sitemap.xml", "sitemap", max_pages=10)["id"])
    assert doc["status"] == "indexed", doc
    urls = {r["url"] for r in search(api, bot, "tyres brakes chains", k=20)}
    assert urls == {f"{site.base}{p}" for p in ("/tyres", "/brakes", "/chains")}
