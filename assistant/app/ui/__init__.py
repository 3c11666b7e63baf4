"""The chat: a Gradio app over the index, with a sources panel, filters, uploads and the
decisions register, one module per part of the page.

- `common`: constants, styles, escaping, filters, the status line (plain Python);
- `sources`: the Chat tab's sources panel (plain Python);
- `logins`: who may sign in, at which level;
- `handlers`: `ChatApp`, the handlers of every tab over one AnswerService (plain Python);
- `chat_tab`, `decisions_tab`, `upload_tab`: each tab's rendering, layout and events;
- `page`: `build_app`, which assembles the page from the tabs;
- `server`: `serve` and `launch`, the launch options and the source route.

Nothing runs at import time, and only `page` and `server` import gradio, inside their
functions: everything else is plain Python, tested without a browser.

Rendering rule: text that comes from documents (passages, quotes, titles, file names) is
always HTML-escaped and never goes through a Markdown renderer, so no markup and no link
from a document ever reaches the page as anything but text.

This package re-exports what the command line and the tests use.
"""

from .common import (
    API_CHAT, CSS, DECISION_HEADERS, DECISION_WIDTHS, EXAMPLES, OUTCOMES, PLACEHOLDER, SOURCE_LIMIT, SOURCE_ROUTE,
    STATUS_REFRESH_S, TITLE, UPLOAD_DIR, answer_html, describe, esc, find_quote, friendly_error, highlight,
    history_for_service, parse_date, parse_filters, plain_text, status_line,
)
from .decisions_tab import decision_rows, pick_decision, render_decision_source, render_timeline, vote_text
from .handlers import ChatApp
from .logins import load_users, login_checker, user_levels
from .page import build_app
from .server import add_source_route, launch, launch_options, serve, theme
from .sources import SourceFile, citation_card, file_id, file_link, meta_list, ocr_note, render_sources, safe_url, source_actions
from .upload_tab import safe_upload_name, upload_folder, upload_results_html
