"""Extraction and chunking: types by content, structure kept, hostile files refused with a reason."""

from __future__ import annotations

import pytest

from modelpilot.knowledge.chunking import MAX_TOKENS, chunk_sections, count_tokens
from modelpilot.knowledge.extract import (ExtractionError, Section, UnsupportedType, decode_text, extract_bytes,
                                          sniff_type)
from tests.knowledge.fixtures import docx_bomb, encrypted_pdf, image_only_pdf, make_docx, make_pdf, pdf_bomb


@pytest.mark.parametrize("data, name, kind", [
    (make_pdf(["x"]), "report.txt", "pdf"),                      # content wins over the name
    (make_docx([(None, "x")]), "file.bin", "docx"),
    (b"<!DOCTYPE html><html><body>x</body></html>", "page.txt", "html"),
    (b"# Title\n\ntext", "readme.md", "md"),
    (b"a,b\n1,2\n", "data.csv", "csv"),
    (b"plain words", "notes", "txt"),
    ("caf\u00e9 cr\u00e8me".encode("utf-16"), "notes.txt", "txt"),
])
def test_type_is_sniffed_from_content(data, name, kind) -> None:
    assert sniff_type(data, name) == kind


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, b"\xff\xd8\xff\xe0" + b"\x00" * 50,
                                  b"PK\x03\x04" + b"\x00" * 50, b"\x7fELF\x02\x01" + b"\x00" * 50,
                                  bytes(range(256)) * 4])
def test_unknown_binary_types_are_unsupported(data) -> None:
    with pytest.raises(UnsupportedType):
        sniff_type(data, "file.pdf")


def test_non_utf8_text_is_decoded() -> None:
    latin1 = "Caf\u00e9s in M\u00fcnchen \u00f6ffnen fr\u00fch, sagt der Bäcker. " * 5
    assert decode_text(latin1.encode("cp1252")) == latin1
    # Detection of single-byte Cyrillic code pages can differ in a few capitals; the words must survive.
    cyrillic = "Привет, как дела? Это проверка кодировки текста. Магазин открыт с девяти утра до восьми вечера. " * 5
    decoded = decode_text(cyrillic.encode("cp1251"))
    assert sum(a == b for a, b in zip(decoded, cyrillic)) / len(cyrillic) > 0.97
    assert decode_text("日本語のテキストです。営業時間は九時からです。".encode("shift_jis")).startswith("日本語")
    assert extract_bytes(latin1.encode("cp1252"), "txt", "t").sections[0].text.startswith("Café")


@pytest.mark.parametrize("make, code", [
    (lambda: b"%PDF-1.7\n" + b"\x13garbage" * 200, "corrupt"),
    (lambda: encrypted_pdf("secret plans"), "encrypted"),
    (image_only_pdf, "no_text"),
    (pdf_bomb, "too_large"),
])
def test_bad_pdfs_end_in_a_clear_error(make, code) -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_bytes(make(), "pdf", "t")
    assert caught.value.code == code and caught.value.message.endswith((".", "?", "first."))


def test_image_only_pdf_message_suggests_ocr() -> None:
    with pytest.raises(ExtractionError, match="scan"):
        extract_bytes(image_only_pdf(), "pdf", "t")


def test_docx_zip_bomb_and_broken_zip() -> None:
    with pytest.raises(ExtractionError) as bomb:
        extract_bytes(docx_bomb(), "docx", "t")
    assert bomb.value.code == "too_large"
    with pytest.raises(ExtractionError) as broken:
        extract_bytes(make_docx([(None, "text")])[:60], "docx", "t")
    assert broken.value.code == "corrupt"


def test_empty_and_textless_inputs() -> None:
    for data, kind in [(b"", "txt"), (b"   \n\n ", "txt")]:
        with pytest.raises(ExtractionError) as caught:
            extract_bytes(data, kind, "t")
        assert caught.value.code == "empty"
    html = b"<html><head><title>x</title><script>var a = 'lots of code';</script></head><body><nav>Home</nav></body></html>"
    with pytest.raises(ExtractionError, match="no readable text"):
        extract_bytes(html, "html", "t")


def test_html_keeps_title_and_headings_and_drops_furniture() -> None:
    html = ("<html><head><title>Guide</title><style>p{}</style></head><body><header>Site</header>"
            "<div id='cookie-consent'>We use cookies</div><h2>Install</h2><p>Run the installer.</p>"
            "<footer>Copyright</footer></body></html>").encode()
    result = extract_bytes(html, "html", "fallback", url="https://x.example/guide")
    text = " ".join(s.text for s in result.sections)
    assert result.title == "Guide" and result.url == "https://x.example/guide"
    assert [s.heading for s in result.sections] == ["Install"]
    assert "cookies" not in text and "Copyright" not in text and "Site" not in text


def test_chunks_fit_the_model_and_overlap() -> None:
    sentences = [f"Fact number {i} says the answer to question {i} is {i * 7}." for i in range(200)]
    chunks = chunk_sections([Section(" ".join(sentences), "Facts", 3)], "Handbook")
    assert len(chunks) > 3
    assert all(count_tokens([c.embed_text])[0] + 2 <= MAX_TOKENS for c in chunks)
    assert all(c.page == 3 and c.heading == "Facts" for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert before.text.split(". ")[-1].rstrip(".") in after.text  # the last sentence carries over
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)


def test_one_enormous_sentence_is_cut_by_tokens() -> None:
    chunks = chunk_sections([Section("word " * 3000)], "T")
    assert len(chunks) > 10 and all(count_tokens([c.embed_text])[0] + 2 <= MAX_TOKENS for c in chunks)


def test_what_is_embedded_fits_the_model_even_with_a_huge_title() -> None:
    from modelpilot.knowledge.chunking import chunk_sections
    from modelpilot.knowledge.ingest import embed_text_of, text_chunks

    title = "A title that goes on " * 40
    chunks = text_chunks(chunk_sections([Section("Some sentence here. " * 200, "Heading " * 30)], title), title)
    assert all(count_tokens([embed_text_of(c)])[0] + 2 <= MAX_TOKENS for c in chunks)


def test_gzipped_sitemaps_are_read_and_a_gzip_bomb_is_cut_off() -> None:
    import gzip

    from modelpilot.knowledge.crawler import MAX_SITEMAP_BYTES, parse_sitemap

    plain = b"<sitemapindex><sitemap><loc>https://x.example/a.xml</loc></sitemap></sitemapindex>"
    assert parse_sitemap(gzip.compress(plain)) == (True, ["https://x.example/a.xml"])
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES * 3), 1)
    assert parse_sitemap(bomb) == (False, [])
