"""`build_app`: the chat page assembled from its parts: the title, the status line and the
filter row every tab uses, then the Chat, Decisions and Add documents tabs (each module
builds its controls and wires its events), the status refresh, and the queue. The only
place, with `server`, that imports gradio, and only when a page is built.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable

from ...core.access import PUBLIC
from ...core.config import Settings
from ...core.types import Filters
from .chat_tab import build_chat_tab, wire_chat_tab
from .common import STATUS_REFRESH_S, TITLE, describe
from .decisions_tab import build_decisions_tab, wire_decisions_tab
from .handlers import ChatApp
from .upload_tab import build_upload_tab, wire_upload_tab


def build_app(service, settings: Settings, watch: Iterable[str] = ()):
    """The page: filters; Chat (with the sources panel), Decisions and Add documents tabs.
    Folders in `watch` are kept indexed by a background thread while the app runs."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import gradio as gr

    app = ChatApp(service, settings)
    if watch:
        app.start_watching(list(watch))
    level = level_of_request(app)

    def refresh(request):
        councils, committees = app.filter_choices(level(request))
        return app.status(level(request)), gr.update(choices=councils), gr.update(choices=committees)

    refresh.__annotations__["request"] = gr.Request  # this module postpones annotations

    councils, committees = app.filter_choices(PUBLIC)  # the page as built: before anyone is known
    # Uploaded files are copied into the index's folder; gradio's own copies are dropped after an hour.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(f"## {TITLE}")
        status = gr.Markdown(app.status(PUBLIC), elem_id="status-line")
        filters = filter_row(gr, councils, committees)
        active = gr.Markdown(describe(Filters()), elem_id="active-filters")
        council, committee = filters[0], filters[1]

        with gr.Tabs():
            chat = build_chat_tab(gr, app)
            decisions = build_decisions_tab(gr)
            upload = build_upload_tab(gr, settings)

        wire_chat_tab(gr, app, level, chat, filters)
        gr.on([f.change for f in filters], app.filters_changed, filters, active, api_visibility="private",
              show_progress="hidden")
        wire_decisions_tab(gr, app, level, decisions, filters, demo)
        wire_upload_tab(gr, app, level, upload, status, council, committee)
        demo.load(refresh, None, [status, council, committee], api_visibility="private", show_progress="hidden")
        if watch:  # the status line follows the watched folders' syncs
            gr.Timer(STATUS_REFRESH_S).tick(app.status, None, [status], api_visibility="private",
                                            show_progress="hidden")

    demo.queue(default_concurrency_limit=settings.chat.concurrency, max_size=max(16, settings.chat.concurrency * 16))
    demo.chat_app = app  # for the source route, added at launch
    return demo


def level_of_request(app: ChatApp) -> Callable:
    def level(request) -> str:  # the signed-in user's access level (public when nobody is)
        return app.level_of(getattr(request, "username", None))

    return level


def filter_row(gr, councils: list, committees: list) -> list:
    """Council, committee, from and until: the filters the chat and the decisions tab share."""
    with gr.Row(equal_height=True):
        council = gr.Dropdown(councils, value="", label="Council", elem_id="filter-council", scale=2)
        committee = gr.Dropdown(committees, value="", label="Committee", elem_id="filter-committee", scale=2)
        since = gr.Textbox(label="From", placeholder="YYYY-MM-DD", elem_id="filter-since", scale=1)
        until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="filter-until", scale=1)
    return [council, committee, since, until]
