"""A certificate as a one-page PDF (A4 landscape), drawn with fpdf2 (pure Python).

With DejaVu's TrueType fonts (settings.CERTIFICATE_FONT_DIR) every script a name may be
written in prints; without them the PDF uses the PDF core fonts, which hold Latin-1 only,
so other characters are folded (ř → r) rather than failing the download.
"""

import unicodedata
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from enrollment.models import Certificate

FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
INK = (31, 41, 55)
MUTED = (90, 99, 112)
ACCENT = (37, 99, 235)


def issued_on(certificate: Certificate) -> str:
    """The issue date as the page and the PDF print it (UTC), e.g. 3 May 2026."""
    day = certificate.issued_at
    return f"{day.day} {day:%B %Y}"


def instructors_text(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _latin1(text: str) -> str:
    kept = []
    for char in text:
        try:
            char.encode("latin-1")
            kept.append(char)
        except UnicodeEncodeError:
            base = "".join(
                part
                for part in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(part)
            )
            kept.append(base if base and base.isascii() else "?")
    return "".join(kept)


class _Page:
    """Writes centred lines on the page in one font family, folding text when needed."""

    def __init__(self, pdf: FPDF, family: str, unicode: bool) -> None:
        self.pdf, self.family, self.unicode = pdf, family, unicode

    def text(self, value: str) -> str:
        return value if self.unicode else _latin1(value)

    def line(self, value: str, *, size: float, bold: bool = False, color=INK, gap: float = 0):
        pdf = self.pdf
        pdf.set_font(self.family, "B" if bold else "", size)
        pdf.set_text_color(*color)
        pdf.multi_cell(
            0, size * 0.5, self.text(value), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        if gap:
            pdf.ln(gap)


def certificate_pdf(
    certificate: Certificate, *, verify_url: str, font_dir: str | None = None
) -> bytes:
    """The certificate's PDF. `verify_url`: where its page is (printed on it)."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(30, 30, 30)
    fonts = Path(font_dir) if font_dir else None
    unicode = fonts is not None and all((fonts / name).is_file() for name in FONT_FILES.values())
    family = "Helvetica"
    if fonts is not None and unicode:
        family = "DejaVu"
        for style, name in FONT_FILES.items():
            pdf.add_font(family, style, str(fonts / name))
    page = _Page(pdf, family, unicode)
    title = f"Certificate of completion: {certificate.course_title}"
    pdf.set_title(page.text(title))
    pdf.set_subject(page.text(f"{certificate.student_name}, {issued_on(certificate)}"))
    pdf.set_author("Learning Portal")
    pdf.set_creator("Learning Portal")
    pdf.set_keywords(certificate.code)
    pdf.set_creation_date(certificate.issued_at)
    pdf.add_page()

    width, height = pdf.w, pdf.h
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, height - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, width - 28, height - 28)

    pdf.set_y(32)
    page.line("LEARNING PORTAL", size=12, bold=True, color=ACCENT, gap=8)
    page.line("Certificate of completion", size=30, bold=True, gap=10)
    page.line("This certifies that", size=13, color=MUTED, gap=4)
    page.line(certificate.student_name, size=28, bold=True, gap=6)
    page.line("has completed the course", size=13, color=MUTED, gap=4)
    page.line(certificate.course_title, size=20, bold=True, gap=6)
    names = instructors_text(certificate.instructor_names)
    if names:
        page.line(f"taught by {names}", size=13, color=MUTED, gap=2)
    page.line(f"Issued on {issued_on(certificate)}", size=13, color=MUTED)

    pdf.set_y(height - 40)
    page.line(f"Certificate {certificate.code}", size=11, bold=True, gap=1)
    page.line(f"Verify it at {verify_url}", size=10, color=MUTED)
    return bytes(pdf.output())
