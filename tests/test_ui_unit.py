"""The chat's pure helpers: escaping, highlighting, filters, source rendering. No browser,
no gradio, no models."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from assistant.app import ui
from assistant.answer.prompts import CLOSEST_MATCHES, NOT_FOUND
from assistant.core.errors import MinutesError
from assistant.core.types import Answer, Chunk, Citation, Filters, Hit
from assistant.decisions.records import Decision
from conftest import ROOT

HOSTILE = 'Before <script>alert(1)</script> <img src=x onerror=alert(2)> [click](http://evil.example) https://evil.example & "q" ${1+1}'


def chunk(text="The cabinet resolved to endorse the Phase 2 plan.", source="corpus/a.txt", **kw) -> Chunk:
    fields = dict(id="c1", text=text, embed_text=text, source=source, page_start=1, page_end=1, section="resolution",
                  council="Herefordshire Council", committee="Cabinet", date="2024-09-26", item="24",
                  title="Improvement Plan")
    fields.update(kw)
    return Chunk(**fields)


def no_text(file, page):
    return ""


def nothing_served(path):
    return False


# ---- escaping ---------------------------------------------------------------------------------

def test_esc_makes_markup_inert():
    out = ui.esc(HOSTILE)
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&amp;" in out and "&quot;q&quot;" in out
    assert ui.esc(None) == ""


def test_answer_html_escapes_and_keeps_lines():
    out = ui.answer_html('He said "<b>yes</b>" [1]\nand https://x.example [2]')
    assert out == "He said &quot;&lt;b&gt;yes&lt;/b&gt;&quot; [1]<br>and https://x.example [2]"


def test_plain_text_round_trips_answer_html():
    text = 'Cabinet: “endorse <the> plan” & more [1]\nsecond line'
    assert ui.plain_text(ui.answer_html(text)) == text
    assert ui.plain_text([{"type": "text", "text": "<div>a &amp; b</div>"}]) == "a & b"


def test_history_for_service_gives_plain_turns():
    history = [
        {"role": "user", "content": [{"type": "text", "text": "what &amp; when?"}]},
        {"role": "assistant", "content": ui.answer_html("It was agreed [1]")},
        {"role": "assistant", "content": ui.PLACEHOLDER},
        {"role": "system", "content": "ignored"},
    ]
    assert ui.history_for_service(history) == [
        {"role": "user", "content": "what & when?"},
        {"role": "assistant", "content": "It was agreed [1]"},
    ]
    assert ui.history_for_service(None) == []


# ---- highlighting -------------------------------------------------------------------------------

def test_highlight_marks_quote_across_whitespace_and_escapes():
    passage = "Intro <b>bold</b>.\nIt was resolved that the\n  cabinet endorse the plan. After."
    out = ui.highlight(passage, "It was resolved that the cabinet endorse the plan.")
    assert out.count("<mark>") == 1
    assert "<mark>It was resolved that the\n  cabinet endorse the plan.</mark>" in out
    assert "&lt;b&gt;bold&lt;/b&gt;" in out


def test_highlight_escapes_inside_mark_and_handles_missing_quote():
    assert ui.highlight("a <i>x</i> b", "<i>x</i>") == "a <mark>&lt;i&gt;x&lt;/i&gt;</mark> b"
    assert ui.highlight("nothing here", "absent words") == "nothing here"
    assert ui.highlight("", "x") == ""
    assert ui.find_quote("Some Text", "some text") == (0, 9)  # case-insensitive fallback


def test_find_quote_uses_longest_piece_of_a_joined_quote():
    passage = "First sentence is here. Unrelated. The board agreed to note the report today."
    span = ui.find_quote(passage, "not in passage at all … The board agreed to note the report")
    assert span is not None and passage[span[0]:span[1]] == "The board agreed to note the report"


# ---- filters ------------------------------------------------------------------------------------

def test_parse_filters_accepts_dates_in_several_forms():
    f = ui.parse_filters(" Herefordshire Council ", "Cabinet", "1 January 2020", "2024-09-26")
    assert f == Filters("Herefordshire Council", "Cabinet", "2020-01-01", "2024-09-26")
    assert ui.parse_filters(None, None, None, None) == Filters()
    assert ui.parse_filters("", "", "2019", "2020") == Filters(since="2019-01-01", until="2020-12-31")
    assert ui.parse_filters("", "", "", "01/02/2020").until == "2020-02-01"  # day first


@pytest.mark.parametrize("since,until,words", [
    ("soon", "", "not a date"),
    ("", "2020-13-45", "not a date"),
    ("2024-01-01", "2020-01-01", "after Until"),
])
def test_parse_filters_rejects_bad_input_plainly(since, until, words):
    with pytest.raises(MinutesError, match=words):
        ui.parse_filters("", "", since, until)


def test_describe_filters():
    assert ui.describe(Filters()).startswith("No filters")
    text = ui.describe(Filters(committee="Cabinet", until="2020-01-01"))
    assert "committee Cabinet" in text and "… to 2020-01-01" in text


# ---- sources --------------------------------------------------------------------------------------

def test_safe_url_allows_only_plain_http_links():
    assert ui.safe_url("https://councillors.example.gov.uk/mgAi.aspx?ID=60707") == \
        "https://councillors.example.gov.uk/mgAi.aspx?ID=60707"
    for bad in ("javascript:alert(1)", "data:text/html,x", "ftp://x", "https://x\" onclick=\"y", "", None, "//x"):
        assert ui.safe_url(bad) == ""


def test_file_link_is_by_id_and_opens_page():
    fid = ui.file_id("/data/min utes/a#b.pdf", "ab" * 32)
    assert len(fid) == 32 and fid != ui.file_id("/data/min utes/a#b.pdf", "cd" * 32)  # new content, new id
    assert ui.file_link(fid, 3) == f"minutes/source/{fid}#page=3"
    assert ui.file_link(fid, 0).endswith("#page=1")
    assert ui.file_link("../x/y", 1) == "minutes/source/..%2Fx%2Fy#page=1"


def test_pdf_citation_links_to_served_page():
    c = chunk(source="/m/x.pdf", page_start=4, page_end=5)
    pdf = ui.SourceFile("/m/x.pdf", "/m/x.pdf", "pdf", url="https://example.gov.uk/x", id="f" * 32)
    html = ui.citation_card(1, c, "resolved to endorse", pdf, no_text, lambda p: True)
    assert f'href="minutes/source/{"f" * 32}#page=4"' in html
    assert 'href="https://example.gov.uk/x"' in html and "noopener" in html
    assert "<mark>resolved to endorse</mark>" in html
    for shown in ("Herefordshire Council", "Cabinet", "26 September 2024", "24 (Improvement Plan)", "4–5"):
        assert shown in html


def test_pdf_outside_served_folders_is_shown_not_linked():
    pdf = ui.SourceFile("/elsewhere/x.pdf", "x.pdf", "pdf", id="f" * 32)
    html = ui.source_actions(pdf, 2, "words", lambda f, p: "page two has the words here", nothing_served)
    assert "minutes/source/" not in html and "gradio_api/file=" not in html
    assert "<mark>words</mark>" in html


def test_text_source_shows_page_with_words_marked_and_escaped():
    txt = ui.SourceFile("/c/a.txt", "corpus/a.txt", "text")
    page = "Header\n" + HOSTILE + "\nThe cabinet resolved to endorse the Phase 2 plan.\nEnd"
    html = ui.source_actions(txt, 1, "resolved to endorse the Phase 2 plan.", lambda f, p: page, nothing_served)
    assert "<details" in html and 'class="source-view"' in html
    assert "<mark>resolved to endorse the Phase 2 plan.</mark>" in html
    assert "<script>" not in html and "<img" not in html and "evil.example</a>" not in html
    assert "gradio_api/file=" not in html


def test_unreadable_source_says_so():
    txt = ui.SourceFile("/c/gone.txt", "gone.txt", "text")

    def broken(file, page):
        raise OSError("gone")

    assert "cannot be read now" in ui.source_actions(txt, 1, "q", broken, nothing_served)
    assert "no longer in the index" in ui.source_actions(None, 1, "q", no_text, nothing_served)


def test_render_sources_for_an_answer_with_hostile_document_text():
    c = chunk(text=HOSTILE + " The cabinet resolved to endorse the plan.", title="<b>Plan</b>")
    answer = Answer("what did cabinet resolve?", "Cabinet: “resolved to endorse the plan” [1]", False,
                    (Citation(1, c, "resolved to endorse the plan"),), mode="extractive",
                    timings_ms={"total": 420.0}, filters=Filters(until="2025-01-01"))
    files = {"corpus/a.txt": ui.SourceFile("/c/a.txt", "corpus/a.txt", "text")}
    html = ui.render_sources(answer, files.get, lambda f, p: c.text, nothing_served)
    assert "[1]" in html and "26 September 2024" in html and "Cabinet" in html
    assert "Answer mode: extractive" in html and "0.4 s" in html and "2025-01-01" in html
    assert "<mark>resolved to endorse the plan</mark>" in html
    assert "<script>" not in html and "<img" not in html and "<b>Plan" not in html
    assert 'href="http://evil.example"' not in html


def test_render_sources_for_a_refusal_lists_closest_matches():
    c = chunk()
    answer = Answer("q", NOT_FOUND, True, (), (Hit(c, 0.1, 1),), filters=Filters(until="2020-01-01"))
    html = ui.render_sources(answer, lambda s: None, no_text, nothing_served)
    assert CLOSEST_MATCHES in html and "[1]" not in html
    assert "26 September 2024" in html
    assert "Sources appear here" in ui.render_sources(None, lambda s: None, no_text, nothing_served)
    empty = Answer("q", NOT_FOUND, True)
    assert "No sources" in ui.render_sources(empty, lambda s: None, no_text, nothing_served)


# ---- status, uploads, decisions -------------------------------------------------------------------------

def test_status_line():
    line = ui.status_line({"files_indexed": 5, "files_skipped": 1, "chunks": 26, "last_ingest": 0}, "extractive")
    assert "5 documents (1 skipped)" in line and "26 chunks" in line and "never" in line and "extractive" in line
    assert "LLM" in ui.status_line({"files_indexed": 1, "chunks": 1, "last_ingest": 1_700_000_000}, "llm")


def test_safe_upload_name():
    assert ui.safe_upload_name("../../etc/passwd") == "passwd"
    assert ui.safe_upload_name("Minutes 3 March (final).PDF") == "Minutes_3_March_final.pdf"
    assert ui.safe_upload_name("<script>.html") == "script.html"
    assert ui.safe_upload_name("....pdf") == "upload.pdf"


def test_upload_results_html_escapes_names():
    html = ui.upload_results_html([("<b>a</b>.pdf", True, "ingested, 3 chunks"), ("x.docx", False, "skipped: no")])
    assert "&lt;b&gt;a&lt;/b&gt;.pdf" in html and "ingested, 3 chunks" in html and "skipped: no" in html
    assert "No files" in ui.upload_results_html([])


def FakeDecision(**changes) -> Decision:
    """A register record as the Decisions tab receives it."""
    fields = dict(id="d-19-330", source="/m/2019-06-04.pdf", page=3, council="Alameda City Council",
                  committee="City Council", meeting="", date="2019-06-04", item="19-330", title="Budget", kind="motion",
                  text="Councilmember Oddie moved approval <b>now</b>.", outcome="carried", mover="Oddie",
                  seconder="Knox White", ayes=5, noes=0)
    return Decision(**{**fields, **changes})


def test_decision_rows_are_plain_text_cells():
    rows = ui.decision_rows([FakeDecision()])
    assert len(rows) == 1 and len(rows[0]) == len(ui.DECISION_HEADERS) == len(ui.DECISION_WIDTHS)
    row = dict(zip(ui.DECISION_HEADERS, rows[0]))
    assert row["Date"] == "2019-06-04" and row["Outcome"] == "carried"
    assert row["Decision"] == "Councilmember Oddie moved approval <b>now</b>."  # the table shows cells as text
    assert "moved by Oddie" in row["Moved, seconded, vote"] and "5-0" in row["Moved, seconded, vote"]
    assert row["Source"] == "2019-06-04.pdf p.3"


def test_pick_decision_by_row_values_then_by_number():
    a, b = FakeDecision(), FakeDecision(text="Another decision.", page=4)
    shown = [a, b]
    assert ui.pick_decision(shown, 0, ui.decision_rows([b])[0]) is b  # sorted in the browser: values win
    assert ui.pick_decision(shown, 1, None) is b
    assert ui.pick_decision(shown, 5, None) is None and ui.pick_decision([], 0, None) is None


def test_decision_source_marks_the_decision_in_its_passage():
    d = FakeDecision()
    c = chunk(text="Item 19-330. " + d.text + " Carried 5-0.", source=d.source)
    pdf = ui.SourceFile(d.source, d.source, "pdf", id="f" * 32)
    html = ui.render_decision_source(d, c, {d.source: pdf}.get, no_text, lambda p: True)
    assert "<mark>Councilmember Oddie moved approval &lt;b&gt;now&lt;/b&gt;.</mark>" in html
    assert "#page=3" in html and "4 June 2019" in html


def test_render_timeline():
    assert "Type an item" in ui.render_timeline("", [], None, None, None)
    assert "No recorded history" in ui.render_timeline("<b>x</b>", [], None, None, None)

    @dataclass
    class Entry:
        date: str = "2024-09-26"
        council: str = "Herefordshire Council"
        committee: str = "Cabinet"
        item: str = "24"
        title: str = "Plan"
        kind: str = "decision"
        text: str = "Resolved <i>to endorse</i>."
        source: str = "corpus/a.txt"
        page: int = 1
        outcome: str | None = "approved"

    html = ui.render_timeline("plan", [Entry()], lambda s: None, no_text, nothing_served)
    assert "26 September 2024" in html and "decision (approved)" in html and "&lt;i&gt;" in html


def test_friendly_error_hides_internals():
    assert ui.friendly_error(MinutesError("The index is empty."), "x") == "The index is empty."
    text = ui.friendly_error(KeyError("/secret/path"), "answering")
    assert "KeyError" in text and "/secret/path" not in text and "Traceback" not in text


def test_importing_ui_does_not_import_gradio():
    import subprocess

    code = "import sys, assistant.app.ui; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert out.stdout.strip() == "False"


class FakeRecord:
    def __init__(self, path, status="indexed"):
        self.path, self.status = str(path), status


class FakeIndex:
    def __init__(self, records):
        self.catalog = type("Catalog", (), {"files": lambda _self: records})()


def test_no_folder_is_on_gradios_allowed_paths(tmp_path):
    from assistant.core.config import Settings

    index = FakeIndex([FakeRecord(tmp_path / "pdfs" / "a.pdf"), FakeRecord(tmp_path / "texts" / "a.txt")])
    assert ui.launch_options(Settings(index_dir=tmp_path / "index"), index)["allowed_paths"] == []


def test_launch_options_are_safe_by_default(tmp_path):
    from assistant.core.config import Settings

    settings = Settings(index_dir=tmp_path, host="127.0.0.1", port=7999, max_upload_mb=7, concurrency=3)
    options = ui.launch_options(settings, FakeIndex([]))
    assert options["share"] is False and options["server_name"] == "127.0.0.1" and options["server_port"] == 7999
    assert options["max_file_size"] == "7mb" and options["run_history"] is False and options["show_error"] is False
    assert options["allowed_paths"] == []
    assert "auth" not in options
    assert "auth" not in ui.launch_options(Settings(index_dir=tmp_path, auth_user="clerk"), FakeIndex([]))
    with_login = ui.launch_options(Settings(index_dir=tmp_path, auth_user="clerk", auth_password="s3cret"), FakeIndex([]))
    assert with_login["auth"]("clerk", "s3cret") and not with_login["auth"]("clerk", "wrong")
    assert not with_login["auth"]("someone", "s3cret")
    assert ui.launch_options(settings, FakeIndex([]), server_port=1234)["server_port"] == 1234
