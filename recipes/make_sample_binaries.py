"""Regenerate the PDF and DOCX files of the sample corpus (their outputs are committed).

Run: .venv/bin/python recipes/make_sample_binaries.py   (needs fpdf2 and python-docx)
"""

from pathlib import Path

HERE = Path(__file__).parent / "sample"

INVOICE = [
    ("Northfield Bee Supplies - Invoice 2025-0417", None),
    ("Invoice date: 28 April 2025. Customer: Maya Lindqvist, 14 Orchard Row.", None),
    ("Items ordered", "h"),
    ("1 x National hive kit, cedar, flat-packed: 189.00 GBP", None),
    ("20 x DN4 brood frames with premier wax foundation: 46.00 GBP", None),
    ("1 x Apiguard thymol gel, pack of 10 trays: 32.50 GBP", None),
    ("1 x Queen marking cage and Posca pen (blue, for 2023 / 2028 queens): 8.75 GBP", None),
    ("Delivery: 9.95 GBP. Total: 286.20 GBP, paid by card.", None),
    ("Notes", "h"),
    ("The hive kit is for a second colony (a swarm, if one turns up). Foundation should be "
     "stored somewhere cool. Apiguard is to be used in late August after the honey harvest "
     "when day temperatures are above 15 C. Returns accepted within 30 days if unused.", None),
]

QUEENS = [
    ("Queen rearing - notes from Tom's winter talk", None),
    ("Why rear queens", "h"),
    ("A calm, productive colony is worth breeding from. Marigold's queen is gentle and "
     "her colony builds up fast in spring, so she is the candidate for 2026. Rearing your own "
     "queens avoids buying imported queens and keeps local, hardy genetics.", None),
    ("The Miller method", "h"),
    ("Give the breeder colony a frame with a zig-zag edge of fresh foundation. The bees draw "
     "comb and the queen lays along the edge. Move the frame to a queenless starter colony; "
     "the bees build queen cells along the edge. Cut out the best cells on day ten and put each "
     "into a mating nucleus.", None),
    ("Timing", "h"),
    ("Start when drones are flying, late May in this area. A virgin queen mates about a week "
     "after emerging and starts laying a few days later. Check the mating nuclei after three "
     "weeks for eggs. Bad weather in June can ruin mating flights.", None),
]


def make_pdf(path: Path, lines) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(lines[0][0])
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for text, kind in lines:
        pdf.set_font("Helvetica", style="B" if kind == "h" else "", size=13 if kind == "h" else 11)
        pdf.multi_cell(0, 6, text)
        pdf.ln(3)
    pdf.output(str(path))


def make_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Greenhouse build plan"
    d.add_heading("Greenhouse build plan", level=0)
    d.add_heading("Site and size", level=1)
    d.add_paragraph(
        "A 2.4 by 3 metre polycarbonate greenhouse on the sunny patch east of the compost bays. "
        "It gets full sun from 9 am until 5 pm in summer. Built with Dan Okafor over four weekends "
        "in April and May 2025.")
    d.add_heading("Base", level=1)
    d.add_paragraph(
        "A timber base of pressure-treated 4x2 sleepers on a level bed of compacted gravel. "
        "Checked with a spirit level and the diagonals measured equal (3.84 m) so the frame is square.")
    d.add_heading("Costs", level=1)
    t = d.add_table(rows=1, cols=2)
    t.rows[0].cells[0].text, t.rows[0].cells[1].text = "Item", "Cost"
    for item, cost in [("Greenhouse kit", "£420"), ("Timber and gravel", "£95"),
                       ("Staging and shelves", "£60"), ("Automatic vent openers", "£38")]:
        row = t.add_row()
        row.cells[0].text, row.cells[1].text = item, cost
    d.add_heading("What goes inside", level=1)
    d.add_paragraph(
        "Black Krim and San Marzano tomatoes (they need the warmth), cucumbers, chillies from "
        "Priya's seedlings and, in winter, salad leaves. Automatic vent openers stop it from "
        "overheating on hot days when nobody is home.")
    d.save(str(path))


if __name__ == "__main__":
    make_pdf(HERE / "purchases" / "bee-supply-invoice.pdf", INVOICE)
    make_pdf(HERE / "bees" / "queen-rearing.pdf", QUEENS)
    make_docx(HERE / "garden" / "greenhouse-build-plan.docx")
    print("wrote sample PDFs and DOCX")
