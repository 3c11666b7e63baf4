"""The Decisions tab: the register's decisions as table rows, the row a click selects (by its
values, since the browser may sort and search the table), the passage a row comes from, and
an item's history across meetings as a timeline; then the tab's gradio layout and events.
gradio is only imported by the caller and passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from ...core.dates import human_date
from ...core.types import Chunk
from ...core.text import shorten
from .common import DECISION_HEADERS, DECISION_WIDTHS, OUTCOMES, SCROLL_JS, esc, highlight
from .sources import meta_list, source_actions


def vote_text(d) -> str:
    """The register's own wording of the vote ('4-1', '5-0, 1 absent', 'unanimous'), as `minutes decisions` prints it."""
    return d.vote_summary()


def decision_rows(decisions) -> list[list[str]]:
    """One row per decision, in DECISION_HEADERS order (cells are plain text)."""
    rows = []
    for d in decisions:
        body = ", ".join(p for p in (d.council, d.committee) if p)
        item = " ".join(p for p in (d.item, f"({d.title})" if d.title else "") if p)
        moved = "; ".join(p for p in (f"moved by {d.mover}" if d.mover else "",
                                       f"seconded by {d.seconder}" if d.seconder else "", vote_text(d)) if p)
        rows.append([d.date or "", body, item, d.kind, d.outcome or "", d.text, moved, f"{Path(d.source).name} p.{d.page}"])
    return rows


def pick_decision(shown: list, row: int | None, row_value: list | None = None):
    """The decision a selected table row shows."""
    if row_value:
        wanted = [str(v) for v in row_value]
        for d in shown or []:
            if [str(v) for v in decision_rows([d])[0]] == wanted:
                return d
    if row is not None and shown and 0 <= row < len(shown):
        return shown[row]
    return None


def render_timeline(topic: str, entries, files, page_text, served) -> str:
    if not (topic or "").strip():
        return '<div class="muted">Type an item or topic to see its decisions and discussions across meetings.</div>'
    if not entries:
        return f'<div class="muted">No recorded history for “{esc(topic)}”.</div>'
    items = []
    for e in entries:
        when = getattr(e, "when", "") or (human_date(e.date) if e.date else "date not stated")
        who = ", ".join(p for p in (e.council, e.committee) if p)
        what = e.kind + (f" ({e.outcome})" if e.outcome else "")
        item = " ".join(p for p in (f"item {e.item}" if e.item else "", e.title) if p)
        items.append(
            f"<li><strong>{esc(when)}</strong> · {esc(who)} · {esc(item)} · <em>{esc(what)}</em>"
            f'<div class="passage">{esc(e.text)}</div>'
            f"{source_actions(files(e.source), e.page, e.text, page_text, served)}</li>"
        )
    return f'<ol class="timeline">{"".join(items)}</ol>'


def render_decision_source(d, chunk: Chunk | None, files, page_text, served) -> str:
    """The passage a decision row links to, with the decision's words marked."""
    passage = chunk.text if chunk is not None else d.text
    return (f'<div class="source-card"><h4>{esc(d.kind.capitalize())}: {esc(shorten(d.title or d.item, 90))}</h4>'
            f'{meta_list(_DecisionPlace(d))}<div class="passage">{highlight(passage, d.text)}</div>'
            f"{source_actions(files(d.source), d.page, d.text, page_text, served)}</div>")


@dataclass(frozen=True)
class _DecisionPlace:
    """A Decision seen through the fields meta_list reads."""

    d: object

    def __getattr__(self, name):
        if name in ("page_start", "page_end"):
            return self.d.page
        return getattr(self.d, name)


def _empty_decision_panel() -> str:
    return '<div class="muted">Select a row to see the passage it comes from.</div>'


def build_decisions_tab(gr) -> SimpleNamespace:
    """The tab's controls: words and outcome to list decisions, the table, the selected row's
    passage, and an item's history."""
    with gr.Tab("Decisions", id="decisions") as decisions_tab:
        with gr.Row():
            dtext = gr.Textbox(label="Words in the decision or item title", elem_id="decision-text", scale=3)
            doutcome = gr.Dropdown([("Any outcome", "")] + [(o, o) for o in OUTCOMES], value="",
                                   label="Outcome", elem_id="decision-outcome", scale=1)
            dsearch = gr.Button("Show decisions", elem_id="decision-search", scale=1)
        dnote = gr.Markdown("", elem_id="decision-note")
        dtable = gr.Dataframe(headers=DECISION_HEADERS, value=[], datatype="str", interactive=False,
                              wrap=True, elem_id="decision-table", max_height=420, show_search="search",
                              column_count=len(DECISION_HEADERS), column_widths=DECISION_WIDTHS)
        dshown = gr.State([])
        dsource = gr.HTML(_empty_decision_panel(), elem_id="decision-source", js_on_load=SCROLL_JS)
        gr.Markdown("### History of an item")
        with gr.Row():
            topic = gr.Textbox(label="Item or topic", placeholder="e.g. improvement plan", elem_id="history-topic",
                               scale=4)
            hbutton = gr.Button("Show history", elem_id="history-show", scale=1)
        timeline = gr.HTML(render_timeline("", [], None, None, None), elem_id="history", js_on_load=SCROLL_JS)
    return SimpleNamespace(tab=decisions_tab, text=dtext, outcome=doutcome, search=dsearch, note=dnote,
                           table=dtable, shown=dshown, source=dsource, topic=topic, show_history=hbutton,
                           timeline=timeline)


def wire_decisions_tab(gr, app, level, tab: SimpleNamespace, filters: list, demo) -> None:
    """Decisions and history use the same filters as the chat; the list loads with the page."""

    def decisions(text, outcome, council, committee, since, until, request):
        return app.decisions(text, outcome, council, committee, since, until, level(request))

    def history(topic, council, committee, since, until, request):
        return app.history(topic, council, committee, since, until, level(request))

    def select_decision(shown, evt: gr.SelectData, request):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return app.decision_source(shown, row, getattr(evt, "row_value", None), level(request))

    # This module postpones annotations, and gradio finds SelectData and Request by the annotation's type.
    select_decision.__annotations__["evt"] = gr.SelectData
    for handler in (decisions, history, select_decision):
        handler.__annotations__["request"] = gr.Request

    decision_inputs = [tab.text, tab.outcome, *filters]
    gr.on([tab.search.click, tab.text.submit, tab.outcome.change, tab.tab.select, demo.load], decisions,
          decision_inputs, [tab.table, tab.note, tab.shown, tab.source], api_visibility="private",
          show_progress="hidden")
    tab.table.select(select_decision, tab.shown, tab.source, api_visibility="private")
    gr.on([tab.show_history.click, tab.topic.submit], history, [tab.topic, *filters], tab.timeline,
          api_visibility="private")
