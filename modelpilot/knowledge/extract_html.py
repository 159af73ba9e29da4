"""HTML to sections (selectolax): title, headings and paragraphs; page furniture dropped."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser, LexborNode as Node

from modelpilot.knowledge.extract import Extracted, Section

# Elements that are never content: scripts, styles, navigation, forms and page furniture.
DROP_TAGS = ("script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form",
             "svg", "iframe", "button", "select", "dialog", "canvas", "object", "embed")
DROP_SELECTORS = ('[role="navigation"]', '[role="banner"]', '[role="contentinfo"]', '[aria-hidden="true"]',
                  "[hidden]")
_FURNITURE = re.compile(r"cookie|consent|gdpr|banner|breadcrumb|sidebar|menu|navbar|skip-link|footer", re.I)
BLOCKS = {"p", "div", "li", "ul", "ol", "pre", "blockquote", "table", "tr", "td", "th", "dt", "dd", "dl",
          "section", "article", "main", "br", "hr", "figure", "figcaption", "address", "details", "summary"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def extract_html(html: str, title: str, url: str | None = None) -> Extracted:
    tree = HTMLParser(html)
    page_title = _title(tree)
    root = tree.css_first("main") or tree.css_first("article") or tree.css_first('[role="main"]') or tree.body
    if root is None:
        return Extracted(page_title or title, "html", [], url)
    _drop_furniture(root)
    return Extracted(page_title or title, "html", _walk(root), url)


def _title(tree: HTMLParser) -> str:
    node = tree.css_first("title") or tree.css_first("h1")
    return " ".join(node.text().split()) if node is not None else ""


def _drop_furniture(root: Node) -> None:
    for tag in DROP_TAGS:
        for node in root.css(tag):
            node.decompose()
    for selector in DROP_SELECTORS:
        for node in root.css(selector):
            node.decompose()
    for node in root.css("[class], [id]"):
        marker = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if _FURNITURE.search(marker) and node.tag not in ("body", "main", "article", "html"):
            node.decompose()


def _walk(root: Node) -> list[Section]:
    """Depth-first without recursion (deeply nested markup must not hit the recursion limit)."""
    sections: list[Section] = []
    heading: str | None = None
    paragraphs: list[str] = []
    current: list[str] = []

    def end_paragraph() -> None:
        text = " ".join("".join(current).split())
        if text:
            paragraphs.append(text)
        current.clear()

    stack: list[Node | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):  # a block's end marker
            end_paragraph()
            continue
        tag = item.tag
        if tag == "-text":
            current.append(item.text_content or "")
            continue
        if tag in HEADINGS:
            end_paragraph()
            sections.append(Section("\n\n".join(paragraphs), heading))
            heading, paragraphs = " ".join(item.text().split()).rstrip("¶#") or heading, []
            continue
        if tag in BLOCKS:
            end_paragraph()
            stack.append("end")
        children = list(item.iter(include_text=True))
        stack.extend(reversed(children))
    end_paragraph()
    sections.append(Section("\n\n".join(paragraphs), heading))
    return sections
