"""HTML to sections (selectolax): title, headings and paragraphs; page furniture dropped.

The parser's time grows with the square of the nesting depth (100,000 nested <div>s: minutes),
so the depth is estimated from the tags alone, in one linear pass, before anything is parsed.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser, LexborNode as Node

from modelpilot.knowledge.extracted import ExtractionError, Extracted, Section

MAX_DEPTH = 1000  # real pages nest a few dozen levels; the parser stays quick far past this

# Elements that are never content: scripts, styles, navigation, forms and page furniture.
DROP_TAGS = ("script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form",
             "svg", "iframe", "button", "select", "dialog", "canvas", "object", "embed")
DROP_SELECTORS = ('[role="navigation"]', '[role="banner"]', '[role="contentinfo"]', '[aria-hidden="true"]',
                  "[hidden]")
_FURNITURE = re.compile(r"cookie|consent|gdpr|banner|breadcrumb|sidebar|menu|navbar|skip-link|footer", re.I)
BLOCKS = {"p", "div", "li", "ul", "ol", "pre", "blockquote", "table", "tr", "td", "th", "dt", "dd", "dl",
          "section", "article", "main", "br", "hr", "figure", "figcaption", "address", "details", "summary"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_TAG = re.compile(r"<!--.*?(?:-->|\Z)|<[!?][^>]*>|<(/?)([A-Za-z][^\s/>]*)([^>]*)>", re.S)
_RAW_TEXT = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
         "param", "keygen", "frame", "basefont", "bgsound", "image", "menuitem"}
# Elements the parser closes by itself when the next one starts, or refuses to nest (<a> in <a>):
# left unclosed in sloppy markup they must not count as depth.
_NO_NESTING = {"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "caption",
               "colgroup", "rb", "rt", "rp", "rtc", "a", "nobr", "button", "form", "html", "head", "body", *HEADINGS}
_FOREIGN = {"svg", "math"}  # inside these, "/>" ends an element, as in XML


def nesting_depth(html: str, limit: int = MAX_DEPTH) -> int:
    """How deep elements nest, from the tags alone; stops counting once past `limit`."""
    depth = deepest = foreign = 0
    position = 0
    while (match := _TAG.search(html, position)) is not None:
        position = match.end()
        closing, name, rest = match.groups()
        if name is None:
            continue  # comment, doctype, processing instruction
        name = name.lower()
        if closing:
            depth -= name not in _NO_NESTING and depth > 0
            foreign -= name in _FOREIGN and foreign > 0
            continue
        if name in _RAW_TEXT:  # its text is not markup: skip to its end tag
            end = re.compile(f"</{name}", re.I).search(html, position)
            position = end.start() if end else len(html)
            continue
        if name in _VOID or name in _NO_NESTING or ((foreign or name in _FOREIGN) and rest.endswith("/")):
            continue
        foreign += name in _FOREIGN
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


def check_depth(html: str) -> None:
    if nesting_depth(html) > MAX_DEPTH:
        raise ExtractionError(f"This HTML is nested deeper than {MAX_DEPTH:,} levels (elements inside elements), "
                              "more than we read safely; real pages stay far below that. Simplify it or save it "
                              "as plain text.", "too_deep")


def extract_html(html: str, title: str, url: str | None = None) -> Extracted:
    check_depth(html)
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
