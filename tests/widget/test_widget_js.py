"""The widget's SSE parser and markdown renderer, run in Chromium from the built chat module."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

STREAM = ('data: {"text": "Grüße, "}\n\n: a comment line\n\ndata: {"text": "naïve 🙂"}\r\n\r\n'
          'data: {"text": "cr"}\r\rdata: {"done": true, "sources": []}\n\n')
EXPECTED = [{"text": "Grüße, "}, {"text": "naïve 🙂"}, {"text": "cr"}, {"done": True, "sources": []}]

SPLIT_EVERYWHERE = """async ([url, text]) => {
  const { createSseParser } = await import(url);
  const bytes = new TextEncoder().encode(text);
  const runs = [];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const events = [];
    const parser = createSseParser(e => events.push(e));
    parser.push(bytes.slice(0, cut));
    parser.push(bytes.slice(cut));
    parser.end();
    runs.push(JSON.stringify(events));
  }
  const single = [];
  const byteByByte = createSseParser(e => single.push(e));
  for (const b of bytes) byteByByte.push(new Uint8Array([b]));
  byteByByte.end();
  runs.push(JSON.stringify(single));
  return runs;
}"""

RENDER = """async ([url, text]) => {
  const { renderMarkdown } = await import(url);
  const box = document.createElement('div');
  renderMarkdown(text, box, [{title: 'Hours', url: 'https://shop.example/hours'}, {title: 'Bad', url: 'javascript:x'}]);
  return box.innerHTML;
}"""

LINK = '<a href="{0}" target="_blank" rel="noopener noreferrer">{1}</a>'
CASES = [
    ("**bold**, *it* and `co*de*`", "<p><strong>bold</strong>, <em>it</em> and <code>co*de*</code></p>"),
    ("- one\n- two\n\n1. first\n2. second", "<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>"),
    ("line\nnext\n\nnew para", "<p>line<br>next</p><p>new para</p>"),
    ("```\n<b>x</b>\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>"),
    ("<script>alert(1)</script><img src=x onerror=alert(1)>",
     "<p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</p>"),
    ("[site](https://example.com/a)", "<p>" + LINK.format("https://example.com/a", "site") + "</p>"),
    ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
    ("[x](data:text/html,hi) [y](/relative)", "<p>[x](data:text/html,hi) [y](/relative)</p>"),
    ("see https://example.com/p?q=1.", "<p>see " + LINK.format("https://example.com/p?q=1", "https://example.com/p?q=1") + ".</p>"),
    ("snake_case_name stays", "<p>snake_case_name stays</p>"),
    ("per [1], not [3]", '<p>per <a href="https://shop.example/hours" target="_blank" rel="noopener noreferrer"'
                         ' class="mp-cite" title="Hours">1</a>, not [3]</p>'),
    ("bad source [2]", '<p>bad source <span class="mp-cite" title="Bad">2</span></p>'),
]


@pytest.fixture
def module_url(server, host_site, tab) -> str:
    tab.goto(host_site.page("/", "<!doctype html><title>units</title>"))
    return f"{server.url}/widget-chat.js"


@pytest.mark.parametrize("parser", ["widget", "dashboard"])
def test_sse_events_survive_any_split_of_the_stream(tab, module_url, server, parser) -> None:
    # The dashboard imports the widget's parser (/js/sse.js): CR, CRLF and LF read alike in both.
    url = module_url if parser == "widget" else f"{server.url}/js/sse.js"
    runs = tab.evaluate(SPLIT_EVERYWHERE, [url, STREAM])
    assert len(runs) == len(STREAM.encode()) + 2
    assert {run for run in runs} == {json.dumps(EXPECTED, ensure_ascii=False, separators=(",", ":"))}


@pytest.mark.parametrize("text, html", CASES)
def test_markdown_subset_is_built_from_dom_nodes(tab, module_url, text, html) -> None:
    assert tab.evaluate(RENDER, [module_url, text]) == html
