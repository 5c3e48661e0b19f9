"""PDF rendering: real WeasyPrint output, checked by parsing the bytes it writes."""

from __future__ import annotations

import re

from mstoutcomes.core.pdf import html_to_pdf, pdf_response, render_pdf


def _page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_html_becomes_a_pdf_with_one_page_per_break():
    html = "<h1>One</h1><p style='page-break-before: always'>Two</p>"
    pdf = html_to_pdf(html, compress=False)
    assert pdf.startswith(b"%PDF-")
    assert _page_count(pdf) == 2


def test_template_renders_with_print_styles_and_inline_svg():
    pdf = render_pdf(
        "core/print_base.html",
        {"title": "Consort flow"},
        compress=False,
    )
    assert pdf.startswith(b"%PDF-")
    assert _page_count(pdf) == 1
    assert b"/Title (Consort flow)" in pdf
    assert len(html_to_pdf("<p>x</p>")) < len(pdf)  # compressed by default


def test_response_names_the_file_safely():
    response = pdf_response(b"%PDF-1.7", 'a "b"/c.pdf')
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="a--b--c.pdf"'
