"""The reader processes and the work budgets: what stops a hostile file, and how it is reported.

The pool is exercised with real child processes (spawned as in the server); the budgets with
real files built in code.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from modelpilot.core.procpool import BudgetExceeded, ChildDied, ProcessPool
from modelpilot.knowledge.extract import ExtractionError, extract_bytes
from modelpilot.knowledge.extract_html import MAX_DEPTH, nesting_depth
from modelpilot.knowledge.reader import ReaderPool
from tests.knowledge.fixtures import gone, deeply_nested_html, make_pdf


def test_a_call_past_its_budget_is_killed_and_the_next_call_gets_a_fresh_process() -> None:
    async def scenario() -> None:
        pool = ProcessPool(1, budget_seconds=1.0)
        try:
            first = await pool.run(os.getpid)
            with pytest.raises(BudgetExceeded):
                await pool.run(time.sleep, 120)
            assert gone(first)  # the same child ran the sleep and was killed
            second = await pool.run(os.getpid)
            assert second != first and not gone(second)
        finally:
            await pool.close()
        assert gone(second)

    asyncio.run(scenario())


def test_a_cancelled_call_kills_its_process() -> None:
    async def scenario() -> None:
        pool = ProcessPool(1, budget_seconds=600.0)
        try:
            pid = await pool.run(os.getpid)
            task = asyncio.create_task(pool.run(time.sleep, 600))
            await asyncio.sleep(0.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert gone(pid)
            assert await pool.run(sum, [1, 2, 3]) == 6  # the slot is usable again
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_a_crash_and_the_functions_own_errors_come_back_as_such() -> None:
    async def scenario() -> None:
        pool = ReaderPool(1, budget_seconds=60.0)
        try:
            with pytest.raises(ChildDied) as died:
                await pool.processes.run(os._exit, 3)
            assert died.value.exitcode == 3
            with pytest.raises(ExtractionError) as empty:
                await pool.read(b"   ", "txt", "t")
            assert empty.value.code == "empty"  # the code survives the trip between processes
            result = await pool.read(b"<html><title>Hours</title><body><p>Open at nine.</p>"
                                     b"<a href='/next#top'>next</a></body></html>", "html", "t",
                                     "https://shop.example/a", want_links=True)
            assert result.title == "Hours" and result.chunks[0].text.startswith("Open at nine.")
            assert result.links == ["https://shop.example/next"]
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_the_wall_clock_budget_reports_the_format_and_the_time() -> None:
    async def scenario() -> None:
        pool = ReaderPool(1, budget_seconds=1.0)
        try:
            slow = make_pdf([], raw_contents=[b"BT /F1 12 Tf 72 720 Td " + b"(ab) Tj 1 0 Td " * 200_000 + b"ET"],
                            compress=True)
            with pytest.raises(ExtractionError) as stopped:
                await pool.read(slow, "pdf", "t")
            assert stopped.value.code == "too_slow"
            assert stopped.value.message.startswith("This PDF took longer than 1 s to read, so it was stopped.")
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_html_nested_too_deep_is_refused_before_parsing() -> None:
    with pytest.raises(ExtractionError) as deep:
        extract_bytes(deeply_nested_html(), "html", "t")
    assert deep.value.code == "too_deep" and "nested deeper than 1,000 levels" in deep.value.message


@pytest.mark.parametrize("markup, depth", [
    ("<body>" + "<p>paragraph never closed" * 5000, 0),          # the parser closes each <p>
    ("<ul>" + "<li>item" * 5000 + "</ul>", 1),
    ("<div><svg>" + '<path d="M0 0"/>' * 5000 + "</svg></div>", 2),  # XML-style empty elements
    ("<script>" + "<div>" * 5000 + "</script><div>text</div>", 1),   # script text is not markup
    ("<!--" + "<div>" * 5000 + "--><div>text</div>", 1),
    ("<div/>" * 3000, MAX_DEPTH + 1),                                # "/>" does not close a <div>
])
def test_the_depth_estimate_follows_the_parser_on_sloppy_markup(markup: str, depth: int) -> None:
    assert nesting_depth(markup) == depth


def test_sloppy_but_shallow_pages_are_still_read() -> None:
    html = "<html><body>" + "<p>Our harbour tours start at the pier" * 3000 + "</body></html>"
    assert "harbour tours" in extract_bytes(html.encode(), "html", "t").sections[0].text


def test_a_pdf_page_with_too_many_drawing_instructions_is_refused_without_parsing_it() -> None:
    huge_page = make_pdf([], raw_contents=[b"0 0 m 10 10 l S\n" * 300_000], compress=True)  # 4.8 MB decoded
    with pytest.raises(ExtractionError) as refused:  # parsing it would take about a minute
        extract_bytes(huge_page, "pdf", "t")
    assert refused.value.message.startswith("Page 1 of this PDF holds 4.8 MB of drawing instructions")


def test_a_reader_that_died_while_idle_is_replaced_without_failing_the_next_call() -> None:
    async def scenario() -> None:
        pool = ProcessPool(1, budget_seconds=60.0)
        try:
            first = await pool.run(os.getpid)
            os.kill(first, 9)  # say, the kernel's OOM killer
            pool._idle[0].process.join(5)  # the kill has landed, as it would long before the next upload
            assert await pool.run(os.getpid) != first
        finally:
            await pool.close()

    asyncio.run(scenario())
