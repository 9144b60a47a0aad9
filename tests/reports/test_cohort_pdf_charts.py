"""The cohort PDF has its charts: drawn as vectors (no raster image in the PDF), and
visible where they should be when the PDF is rasterised (pdftoppm at 60 dpi): the
bars' colours, the Kaplan–Meier bands and curves. An empty cohort gets sentences,
not blank axes."""

import subprocess
from datetime import date, timedelta
from decimal import Decimal

import numpy
import pytest
from django.urls import reverse
from PIL import Image

from reports import charts
from reports.cohort import CohortAdverseEvent, CohortPatient, CohortVisit
from reports.cohort_blocks import cohort_report
from reports.pdf import cohort_report_pdf
from tests.reports.test_report_outputs import _cohort
from thalimon.rules_config import RuleSettings

START = date(2023, 1, 2)
RULES = RuleSettings()
CAPTIONS = ("Figure: Response and remission by week", "Figure: Relapse-free survival among responders",
            "Figure: Adverse-event-free survival")


def _rgb(colour):
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _band(colour, alpha=0.16):
    """The colour of a Kaplan–Meier band (``colour`` at ``alpha`` over white)."""
    return tuple(round(255 - alpha * (255 - c)) for c in _rgb(colour))


def _visit(day, cdai):
    return CohortVisit(date=START + timedelta(days=day), contact="clinic", cdai=cdai)


def _patient(i):
    """Baseline CDAI 300; remission at week 4 (the relapse-free origin). Every 4th patient
    relapses on day 56 + 30·i; the others are followed until day 56 + 45·i. Every 3rd has
    an adverse event."""
    visits = [_visit(28, 100), _visit(56, 110)]
    last = 56 + 45 * i
    visits += [_visit(day, 105) for day in range(84, last, 60)] + [_visit(last, 100)]
    if i % 4 == 0:
        visits = [v for v in visits if v.date <= START + timedelta(days=56 + 30 * i)] + [_visit(56 + 30 * i + 1, 300)]
    events = ()
    if i % 3 == 0:
        events = (CohortAdverseEvent(onset=START + timedelta(days=20 + 25 * i), term="somnolence", drug="thalidomide",
                                     action_thalidomide="none", action_azathioprine="none", hospitalised=False),)
    return CohortPatient(code=f"PC-{i:02d}", diagnosis="CD", start=START, stop=None,
                         recorded_baseline_cdai=Decimal(300), visits=tuple(sorted(visits, key=lambda v: v.date)),
                         adverse_events=events)


def _report(patients):
    return cohort_report(patients, as_of=START + timedelta(days=900), rules_version="test",
                         remission_below=RULES.remission_cdai_below, response_drop=RULES.response_cdai_drop,
                         cdeis_remission_below=RULES.cdeis_remission_below)


def _pages(pdf_bytes, tmp_path):
    """(text, rasterised pages, raster images listed by pdfimages) of a PDF."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(tmp_path / "page")], check=True)
    pages = [numpy.asarray(Image.open(p).convert("RGB"), dtype=int) for p in sorted(tmp_path.glob("page-*.png"))]
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    return text, pages, images.splitlines()[2:]


def _count(pages, colour, tolerance):
    """Pixels within ``tolerance`` (per channel) of ``colour``, over all pages."""
    return sum(int((numpy.abs(page - colour) <= tolerance).all(axis=2).sum()) for page in pages)


@pytest.fixture(scope="module")
def report():
    report = _report([_patient(i) for i in range(16)])
    assert report["relapse_free"]["events"] >= 2 and report["adverse_events"]["patients"] >= 3
    return report


def test_the_cohort_pdf_draws_its_three_charts_as_vectors(report, tmp_path):
    text, pages, images = _pages(cohort_report_pdf(report), tmp_path)
    for caption in CAPTIONS:
        assert caption in text
    assert "Shaded: 95 % confidence interval" in text  # the note under each curve
    assert images == []  # vector graphics only: no raster image anywhere in the PDF
    # Bars: solid areas of the response and remission colours.
    assert _count(pages, _rgb(charts.RESPONSE_COLOUR), 6) > 3000
    assert _count(pages, _rgb(charts.REMISSION_COLOUR), 6) > 3000
    # Kaplan–Meier: each band, and the AE-free curve's colour (the headings share the
    # relapse-free curve's blue, so that one is found by its band; the tables' rules and
    # shaded headers come near that band's colour in a few hundred pixels: see the
    # empty cohort below, where there is no band).
    assert _count(pages, _band(charts.RELAPSE_COLOUR), 2) > 3000
    assert _count(pages, _band(charts.AE_COLOUR), 2) > 3000
    assert _count(pages, _rgb(charts.AE_COLOUR), 40) > 40


def test_each_chart_follows_its_table(report, tmp_path):
    text, _, _ = _pages(cohort_report_pdf(report), tmp_path)
    order = [text.index(s) for s in ("Table 2", CAPTIONS[0], "Relapse-free survival: patients", CAPTIONS[1],
                                      "Table 4", CAPTIONS[2], "Endoscopic outcomes")]
    assert order == sorted(order)


def test_an_empty_cohort_pdf_says_so_instead_of_drawing(tmp_path):
    text, pages, _ = _pages(cohort_report_pdf(_report([])), tmp_path)
    assert text.count("No patients in this cohort") == 3
    assert _count(pages, _rgb(charts.RESPONSE_COLOUR), 6) == 0
    assert _count(pages, _band(charts.RELAPSE_COLOUR), 2) < 1000  # the tables' rules only
    assert _count(pages, _band(charts.AE_COLOUR), 2) == 0


@pytest.mark.django_db
def test_the_downloaded_pdf_has_the_bars(client, clinic_lead, make_patient, clinician, tmp_path):
    _cohort(make_patient, clinician, 4)  # four patients in remission at week 4
    client.force_login(clinic_lead)
    response = client.get(reverse("reports:download", args=["pdf"]))
    assert response.status_code == 200
    text, pages, images = _pages(response.content, tmp_path)
    assert CAPTIONS[0] in text and images == []
    assert _count(pages, _rgb(charts.RESPONSE_COLOUR), 6) > 200
    # followed 0 months after the first response: a sentence, not a flat line on blank axes
    assert charts.NO_FOLLOW_UP in text.replace("\n", " ")
