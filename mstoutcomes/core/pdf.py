"""PDF documents from HTML with WeasyPrint: one print stylesheet, no browser needed.

Pages that offer a PDF render a small, self-contained HTML document (inline SVG charts, the
print stylesheet below) and pass it to :func:`html_to_pdf`; :func:`pdf_response` serves it.
Build large PDFs in a background task, not in the request.
"""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.template.loader import render_to_string

PRINT_CSS = """
@page { size: A4; margin: 18mm 15mm 20mm 15mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages);
                        font-size: 8pt; color: #505a5f; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #0b0c0c; }
h1 { font-size: 17pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; }
h3 { font-size: 11pt; margin: 4mm 0 2mm; }
p.meta { color: #505a5f; font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; page-break-inside: auto; }
th, td { border-bottom: 0.5pt solid #b1b4b6; padding: 1.2mm 1.5mm; text-align: left;
         vertical-align: top; }
th { background: #f3f2f1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr { page-break-inside: avoid; }
svg { max-width: 100%; height: auto; }
.warning { border-left: 3pt solid #d4351c; padding-left: 3mm; }
"""


def html_to_pdf(html: str, *, compress: bool = True) -> bytes:
    """Return the PDF bytes for an HTML document (which should carry its own styles).

    ``compress=False`` writes plain objects, which tests can read without a PDF library.
    """
    # WeasyPrint logs every unsupported CSS property at WARNING; keep server logs quiet.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf(uncompressed_pdf=not compress)
    if pdf is None:  # pragma: no cover - write_pdf returns bytes when no target is given
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)


def render_pdf(template_name: str, context: dict[str, object], *, compress: bool = True) -> bytes:
    """Render a template (which may extend ``core/print_base.html``) to PDF bytes."""
    html = render_to_string(template_name, {"print_css": PRINT_CSS, **context})
    return html_to_pdf(html, compress=compress)


def pdf_response(pdf: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    """Serve PDF bytes as a download (or inline) with a safe file name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{safe}"'
    return response
