"""The chat in a real browser: Debian's Chromium driven by Playwright's sync API, against the
app launched in this process (same launch options as `minutes chat`) over a tmp index of
the bundled corpus. A failing test leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from assistant.answer.prompts import CLOSEST_MATCHES, NOT_FOUND
from conftest import CORPUS, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEED_QUESTION = "what did cabinet resolve on the phase 2 plan?"
WAIT_MS = 30_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chat_index(tmp_path_factory, real_embedder):
    """A tmp index of the bundled corpus of this module's own (the upload test adds to it)."""
    from assistant.core.config import Settings
    from assistant.decisions import decision_hooks
    from assistant.retrieve.minutes_index import MinutesIndex
    from assistant.ingest.pipeline import ingest

    settings = Settings(index_dir=tmp_path_factory.mktemp("ui-index"), port=free_port(), max_upload_mb=1)
    index = MinutesIndex.open(settings, embedder=real_embedder)
    report = ingest(index, [str(CORPUS)], hooks=decision_hooks(index))
    assert report.files_indexed == 5, report.summary()
    return index


@pytest.fixture(scope="module")
def app_url(chat_index):
    from assistant.app import ui
    from assistant.answer.service import AnswerService
    from assistant.decisions.answerer import RECORDS

    settings = chat_index.settings
    service = AnswerService(settings, chat_index, records=RECORDS)
    service.warm()
    app = ui.build_app(service, settings)
    ui.launch(app, settings, chat_index, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://{settings.chat.host}:{settings.chat.port}"
    finally:
        app.close()


@pytest.fixture(scope="module")
def chromium_browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make setup` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def tab(chromium_browser, app_url, request):
    """A fresh browser tab on the app; on failure its screenshot goes to test-artifacts/."""
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    dialogs, outside = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((app_url, "data:", "blob:")) else None)
    failed_before = request.session.testsfailed
    try:
        page.goto(app_url)
        page.get_by_role("textbox", name="Question", exact=True).wait_for()
    except Exception:
        screenshot(page, request.node.name + "-setup")
        context.close()
        raise
    try:
        yield page
        assert not dialogs, f"a document ran script on the page: {dialogs}"
        assert not outside, f"the page fetched from outside the app (it must work offline): {outside}"
    finally:
        if request.session.testsfailed > failed_before:  # the call's report is in by teardown
            screenshot(page, request.node.name)
        context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        safe = re.sub(r"[^\w.-]+", "_", name)
        page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)
    except Exception as exc:  # the screenshot must not hide the failure
        print(f"could not save a screenshot: {exc}")


# ---- helpers ----------------------------------------------------------------------------------

def ask(tab, question: str):
    """Ask, and wait for the answer to finish (the sources panel names the question last)."""
    answers = tab.locator("#chatbot [data-testid=bot]")
    before = answers.count()
    tab.get_by_role("textbox", name="Question", exact=True).fill(question)
    tab.get_by_role("button", name="Ask", exact=True).click()
    tab.locator("#sources .sources-for").filter(has_text=question).wait_for()
    assert answers.count() == before + 1
    return answers.last


def ask_expecting(tab, question: str, words: str):
    """Ask, and wait for an answer that says `words` (for messages that have no sources)."""
    answers = tab.locator("#chatbot [data-testid=bot]")
    before = answers.count()
    tab.get_by_role("textbox", name="Question", exact=True).fill(question)
    tab.get_by_role("button", name="Ask", exact=True).click()
    answers.nth(before).filter(has_text=words).wait_for()
    return answers.nth(before)


def documents(tab) -> int:
    return int(re.search(r"Index: (\d+) documents", tab.locator("#status-line").inner_text())[1])


def flat(text: str) -> str:
    return " ".join(text.split())


# ---- tests ------------------------------------------------------------------------------------

def test_seed_question_is_answered_with_citations_and_sources(tab):
    assert documents(tab) >= 5 and "Answer mode: extractive" in tab.locator("#status-line").inner_text()
    answer = ask(tab, SEED_QUESTION)
    assert "[1]" in answer.inner_text()
    card = tab.locator("#sources .source-card").first
    text = card.inner_text()
    assert text.startswith("[1]")
    for shown in ("26 September 2024", "Cabinet", "Herefordshire Council", "Page:", "Item:"):
        assert shown in text
    mark = card.locator(".passage mark").first
    assert "Phase 2" in mark.inner_text()  # the supporting words, marked inside the passage
    assert "Answer mode: extractive" in tab.locator("#sources").inner_text()


def test_open_source_shows_the_quoted_words_in_the_document(tab):
    ask(tab, SEED_QUESTION)
    card = tab.locator("#sources .source-card").first
    quoted = flat(card.locator(".passage mark").first.inner_text())
    view = card.locator(".source-view")
    assert not view.is_visible()
    card.locator("summary").filter(has_text="Open the source").click()
    view.locator("mark").wait_for(state="visible")
    assert flat(view.locator("mark").inner_text()) == quoted
    assert "Issue - meetings" in view.inner_text()  # the whole page of the file, not only the chunk
    # A source with a URL in the manifest links to it, as a plain outside link.
    url = tab.locator("#sources a.source-url")
    if url.count():
        assert url.first.get_attribute("href").startswith("https://")
        assert url.first.get_attribute("rel") == "noopener noreferrer nofollow"


def test_follow_up_uses_the_conversation(tab):
    ask(tab, SEED_QUESTION)
    follow = ask(tab, "who introduced the report?")
    text = follow.inner_text()
    assert NOT_FOUND not in text, "the follow-up was refused: the answer service did not use the conversation"
    # Alone this question is answered from Plymouth's minutes first; after the phase 2
    # question it stays with the cabinet meeting of 26 September 2024.
    assert "[1]" in text and "26 September 2024" in text
    assert "Plymouth" not in text
    assert "26 September 2024" in tab.locator("#sources .source-card").first.inner_text()


def test_date_filter_excluding_the_answer_gives_the_refusal(tab):
    tab.get_by_role("textbox", name="Until", exact=True).fill("2020-01-01")
    tab.locator("#active-filters").filter(has_text="2020-01-01").wait_for()
    answer = ask(tab, SEED_QUESTION)
    assert NOT_FOUND in answer.inner_text()
    assert "[1]" not in answer.inner_text()
    assert CLOSEST_MATCHES in tab.locator("#sources").inner_text()
    # The filter stays for the rest of the conversation.
    again = ask(tab, "what did the health and wellbeing board resolve?")
    assert NOT_FOUND in again.inner_text()


def test_bad_filter_is_a_plain_message_and_the_app_keeps_working(tab):
    tab.get_by_role("textbox", name="From", exact=True).fill("next tuesday")
    answer = ask_expecting(tab, SEED_QUESTION, "is not a date")
    assert "is not a date" in answer.inner_text() and "Traceback" not in answer.inner_text()
    tab.get_by_role("textbox", name="From", exact=True).fill("")
    assert "[1]" in ask(tab, SEED_QUESTION).inner_text()


def test_example_question_and_new_conversation(tab):
    tab.locator("#chatbot").get_by_role("button", name=re.compile("cabinet resolve on the phase 2", re.I)).click()
    tab.locator("#sources .source-card").first.wait_for()
    assert "[1]" in tab.locator("#chatbot [data-testid=bot]").last.inner_text()
    tab.get_by_role("button", name="New conversation").click()
    tab.locator("#sources .sources-empty").wait_for()
    assert tab.locator("#chatbot [data-testid=bot]").count() == 0


def make_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in (
        "Springfield Borough Council",
        "Planning Committee - Minutes of the meeting held on 3 March 2025",
        "Item 7: Zebra crossing on Quimby Lane",
        "RESOLVED: that the committee approves the zebra crossing on Quimby Lane at a cost of 48,000 pounds, "
        "to be painted in Wiggum green.",
        "Markup stays text: <b>bold</b> <img src=x onerror=alert(1)> [link](http://evil.example) https://evil.example",
    ):
        pdf.multi_cell(0, 8, line)
        pdf.ln(2)
    pdf.output(str(path))


def test_upload_a_pdf_then_ask_about_it(tab, tmp_path, chat_index):
    pdf = tmp_path / "quimby lane minutes.pdf"
    make_pdf(pdf)
    before = documents(tab)
    tab.get_by_role("tab", name="Add documents").click()
    tab.locator("#upload input[type=file]").set_input_files(str(pdf))
    result = tab.locator("#upload-results li").first
    result.filter(has_text="ingested").wait_for(timeout=90_000)
    assert re.search(r"quimby_lane_minutes\.pdf: ingested, \d+ chunks?", result.inner_text())
    tab.locator("#status-line").filter(has_text=f"Index: {before + 1} documents").wait_for()

    tab.get_by_role("tab", name="Chat").click()
    answer = ask(tab, "what did the committee resolve about the zebra crossing on Quimby Lane?")
    assert "[1]" in answer.inner_text() and "Wiggum green" in answer.inner_text()
    card = tab.locator("#sources .source-card").first
    assert "Springfield Borough Council" in card.inner_text()
    assert "<b>bold</b>" in card.inner_text()  # shown as text
    assert card.locator("b, img").count() == 0 and card.locator("a[href*='evil']").count() == 0
    link = card.locator("a.open-source")
    href = link.get_attribute("href")
    assert re.fullmatch(r"minutes/source/[0-9a-f]{32}#page=1", href)
    served = tab.request.get(tab.url.rstrip("/") + "/" + href.split("#")[0])
    assert served.status == 200 and served.headers["content-type"] == "application/pdf"
    # Ingested PDFs are served by id only: no folder, not even the uploads', is served.
    uploaded = next((Path(chat_index.settings.index.index_dir) / "uploads").rglob("*.pdf"))
    for path in ("/etc/passwd", str(CORPUS / "manifest.json"), str(uploaded)):
        assert tab.request.get(tab.url.rstrip("/") + "/gradio_api/file=" + path).status == 403


def test_uploads_that_cannot_be_used_are_refused_with_a_reason(tab, tmp_path):
    tab.get_by_role("tab", name="Add documents").click()
    before = documents(tab)
    upload = tab.locator("#upload input[type=file]")
    empty = tmp_path / "blank.txt"
    empty.write_text("  \n")
    upload.set_input_files(str(empty))
    tab.locator("#upload-results li").filter(has_text="blank.txt: skipped: empty file").wait_for()

    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK\x03\x04 not really a docx")
    upload.set_input_files(str(odd))
    tab.get_by_text("Invalid file type: notes.docx").wait_for()

    big = tmp_path / "big.txt"  # the test app allows 1 MB
    big.write_text("minutes " * 200_000)
    upload.set_input_files(str(big))
    tab.get_by_text(re.compile("exceed|too large|maximum", re.I)).first.wait_for()
    assert documents(tab) == before


def test_decisions_tab_shows_a_table(tab, chat_index):
    from assistant.decisions import DecisionRegister

    tab.get_by_role("tab", name="Decisions").click()
    table = tab.locator("#decision-table")
    table.get_by_text("Decision", exact=True).first.wait_for()
    for header in ("Date", "Body", "Outcome", "Source"):
        assert table.get_by_text(header, exact=True).first.is_visible()
    tab.locator("#decision-note").filter(has_text=re.compile(r"decision|No recorded")).wait_for()
    found = DecisionRegister(chat_index.catalog).list(limit=500)
    if not found:
        assert "No recorded decisions" in tab.locator("#decision-note").inner_text()
        return
    seed = next((d for d in found if d.committee == "Cabinet" and "resolved" in d.text.lower()), found[0])
    words = seed.text.split("\n")[0][:40]
    # Sort in the browser (rows move; each row must still open its own passage).
    table.locator("th:visible").filter(has_text="Body").first.hover()
    table.locator("button.cell-menu-button:visible").first.click()
    tab.get_by_text("Sort descending", exact=True).click()
    cell = table.locator("[role=gridcell]").filter(has_text=words).first
    cell.wait_for()
    cell.click()
    tab.locator("#decision-source .passage").wait_for()
    assert flat(words) in flat(tab.locator("#decision-source").inner_text())
