"""Fetch one page, every page of a sitemap (index sitemaps too), or a whole site.

Everything goes through the SafeFetcher. A site crawl stays on the start URL's scheme, host and
port, honours robots.txt for our user agent, and stops at max_pages.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable
from urllib.parse import urldefrag, urlsplit
from urllib.robotparser import RobotFileParser

import anyio

from modelpilot.core.safe_http import FetchError, FetchedPage, SafeFetcher
from modelpilot.knowledge.extract import ExtractionError, sniff_type
from modelpilot.knowledge.reader import ReadResult

MAX_SITEMAPS = 50
MAX_SITEMAP_BYTES = 20_000_000
SKIP_EXTENSIONS = re.compile(r"\.(png|jpe?g|gif|webp|svg|ico|css|js|zip|gz|tgz|bz2|xz|7z|rar|exe|dmg|iso|mp[34]|"
                             r"avi|mov|webm|woff2?|ttf|eot|json|xml|rss|atom|txt|epub|tar)$", re.I)
_LOC = re.compile(rb"<loc>\s*(.*?)\s*</loc>", re.S | re.I)

# ReaderPool.read: (bytes, content type, title, url, want_links) -> ReadResult, in a reader process.
Read = Callable[[bytes, str, str, str, bool], Awaitable[ReadResult]]


@dataclass
class CrawledPage:
    url: str
    read: ReadResult

    @property
    def content_hash(self) -> str:
        return self.read.content_hash


@dataclass
class PageFailure:
    url: str
    message: str
    transient: bool = False


def normalize(url: str) -> str:
    return urldefrag(url.strip())[0]


def page_type(page: FetchedPage) -> str:
    declared = page.content_type.split(";")[0].strip().lower()
    if declared == "application/pdf":
        return "pdf"
    if declared in {"text/html", "application/xhtml+xml"}:
        return "html"
    return sniff_type(page.content, urlsplit(page.url).path)


def is_html(page: FetchedPage) -> bool:
    return "html" in page.content_type or page.content.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))


async def fetch_and_read(fetcher: SafeFetcher, read: Read, url: str, want_links: bool = False) -> CrawledPage:
    page = await fetcher.fetch(url, accept="text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.5")
    title = urlsplit(page.url).path.rsplit("/", 1)[-1] or page.url
    result = await read(page.content, page_type(page), title, page.url, want_links and is_html(page))
    return CrawledPage(normalize(page.url), result)


def parse_sitemap(data: bytes) -> tuple[bool, list[str]]:
    """(is_index, locations). Regex, not an XML parser: no entity expansion, tolerant of junk."""
    if data[:2] == b"\x1f\x8b":  # .xml.gz sitemaps; bounded, so a gzip bomb stops at the cap
        data = zlib.decompressobj(wbits=31).decompress(data, MAX_SITEMAP_BYTES)
    is_index = b"<sitemapindex" in data[:2048]
    locations = [m.group(1).decode("utf-8", "replace").replace("&amp;", "&") for m in _LOC.finditer(data)]
    return is_index, locations


async def sitemap_urls(fetcher: SafeFetcher, url: str, limit: int) -> list[str]:
    pending, seen_maps, pages = deque([url]), set(), {}  # dict: ordered, O(1) duplicate check
    while pending and len(pages) < limit and len(seen_maps) < MAX_SITEMAPS:
        sitemap = pending.popleft()
        if sitemap in seen_maps:
            continue
        seen_maps.add(sitemap)
        page = await fetcher.fetch(sitemap, accept="application/xml,text/xml;q=0.9,*/*;q=0.5")
        # A 20k-URL sitemap takes seconds to parse: off the event loop, so chats do not wait on it.
        is_index, locations = await anyio.to_thread.run_sync(parse_sitemap, page.content)
        if is_index:
            pending.extend(locations)
        else:
            pages.update(dict.fromkeys(locations))
    if not pages and not seen_maps - {url}:
        raise ExtractionError("This sitemap lists no pages (expected <urlset><url><loc>...).", "no_text")
    return list(pages)[:limit]


async def load_robots(fetcher: SafeFetcher, start: str) -> RobotFileParser:
    parts = urlsplit(start)
    robots = RobotFileParser(f"{parts.scheme}://{parts.netloc}/robots.txt")
    try:
        page = await fetcher.fetch(robots.url, accept="text/plain")
    except FetchError as exc:
        if exc.code == "http_status" and not exc.transient:
            robots.allow_all = True  # no robots.txt (4xx): everything is allowed
            return robots
        raise
    robots.parse(page.content.decode("utf-8", "replace").splitlines())
    return robots


def same_site_links(links: list[str], origin: tuple[str, str]) -> list[str]:
    """The links (found by the reader in the page) a site crawl follows."""
    kept = []
    for href in links:
        parts = urlsplit(href)
        if (parts.scheme, parts.netloc) == origin and not SKIP_EXTENSIONS.search(parts.path):
            kept.append(href)
    return kept


async def crawl_site(fetcher: SafeFetcher, read: Read, start: str, limit: int) -> AsyncIterator[CrawledPage | PageFailure]:
    robots = await load_robots(fetcher, start)
    parts = urlsplit(start)
    origin = (parts.scheme, parts.netloc)
    queue, seen, done = deque([normalize(start)]), {normalize(start)}, 0
    while queue and done < limit:
        url = queue.popleft()
        if not robots.can_fetch(fetcher.user_agent, url):
            continue
        done += 1
        try:
            crawled = await fetch_and_read(fetcher, read, url, want_links=True)
        except (FetchError, ExtractionError) as exc:
            yield PageFailure(url, exc.message, getattr(exc, "transient", False))
            continue
        for link in same_site_links(crawled.read.links, origin):
            if link not in seen:
                seen.add(link)
                queue.append(link)
        yield crawled


async def crawl(fetcher: SafeFetcher, read: Read, url: str, mode: str,
                max_pages: int) -> AsyncIterator[CrawledPage | PageFailure]:
    """Pages of a URL source, as they come; failures of single pages are yielded, not raised."""
    if mode == "site":
        async for item in crawl_site(fetcher, read, url, max_pages):
            yield item
        return
    urls = [url] if mode == "page" else await sitemap_urls(fetcher, url, max_pages)
    for page_url in urls:
        try:
            yield await fetch_and_read(fetcher, read, page_url)
        except (FetchError, ExtractionError) as exc:
            if mode == "page":
                raise
            yield PageFailure(page_url, exc.message, getattr(exc, "transient", False))
