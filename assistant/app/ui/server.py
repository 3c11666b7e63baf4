"""Serving the chat: `serve(settings)` opens the index (ingesting the bundled corpus when it is
empty), warms the models, builds the page and launches it with safe options (no share link,
no folder served, logins when configured), and adds the one route that serves documents: an
ingested PDF by its catalogue id, behind gradio's own login check.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable

from ...core.config import Settings
from ...core.errors import MinutesError
from .common import CSS, MONO, SANS, SOURCE_ROUTE
from .handlers import ChatApp
from .logins import login_checker
from .page import build_app


def launch(demo, settings: Settings, index, **overrides) -> None:
    """Launch the page with `launch_options`, then add the source route to its server. Blocks
    unless `prevent_thread_lock=True` is given."""
    block = not overrides.pop("prevent_thread_lock", False)
    demo.launch(**launch_options(settings, index, prevent_thread_lock=True, **overrides))
    add_source_route(demo)
    if block:
        demo.block_thread()


def add_source_route(demo) -> None:
    """GET /minutes/source/{id}: an ingested PDF by its catalogue id, behind the same login
    check as gradio's own file route. Anything else is 404."""
    from fastapi import Request
    from fastapi.responses import FileResponse, Response
    from fastapi.routing import APIRoute

    server = demo.app
    chat_app: ChatApp = demo.chat_app
    def api_routes(router):
        for r in router.routes:
            if isinstance(r, APIRoute):
                yield r
            elif getattr(r, "original_router", None) is not None:  # an included router (FastAPI >= 0.160)
                yield from api_routes(r.original_router)

    routes = {r.path: r for r in api_routes(server.router)}
    try:  # gradio's own login check and user, so the route is exactly as protected as the page
        login = list(routes["/gradio_api/file={path_or_url:path}"].dependencies)
        current_user = routes["/gradio_api/user"].endpoint
    except KeyError as exc:  # fail closed: no documents are served without the login check
        raise MinutesError(f"this gradio version has no {exc} route: the source route cannot check logins") from exc

    async def source(file_id: str, request: Request):
        user = await current_user(request)
        path = chat_app.served_file(file_id, user)
        if path is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type="application/pdf", filename=path.name, content_disposition_type="inline",
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                                     "Referrer-Policy": "no-referrer"})

    source.__annotations__.update(file_id=str, request=Request)  # this module postpones annotations

    server.add_api_route("/" + SOURCE_ROUTE + "{file_id}", source, methods=["GET", "HEAD"], dependencies=login,
                         include_in_schema=False)
    server.router.routes.insert(0, server.router.routes.pop())  # before any catch-all route


def theme():
    import gradio as gr

    return gr.themes.Default(font=SANS, font_mono=MONO)


def launch_options(settings: Settings, index, **overrides) -> dict:
    """Everything `launch()` gets: safe defaults, settings, and what may be served."""
    options = dict(
        share=False,
        server_name=settings.chat.host,
        server_port=settings.chat.port,
        max_file_size=f"{settings.chat.max_upload_mb}mb",
        allowed_paths=[],  # no folder is served: ingested PDFs go through the source route, by id
        show_error=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        run_history=False,
        footer_links=["api", "settings"],
        theme=theme(),
        css=CSS,
        quiet=False,
    )
    logins = login_checker(settings)
    if logins is not None:
        options["auth"] = logins
        options["auth_message"] = "Sign in to the council minutes assistant."
    options.update(overrides)
    return options


def serve(settings: Settings, watch: Iterable[str] = ()) -> None:
    """`minutes chat`: open (and if need be build) the index, warm the models, launch."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    from ...answer.service import AnswerService
    from ...decisions.answerer import RECORDS
    from ...decisions import decision_hooks
    from ...retrieve.minutes_index import MinutesIndex
    from ...ingest.pipeline import ingest, writer_lock

    index = MinutesIndex.open(settings)
    if index.is_empty():
        corpus = Path(settings.chat.corpus_dir)
        if corpus.is_dir():
            print(f"The index at {settings.index.index_dir} is empty: ingesting the bundled corpus ({corpus}) first.",
                  flush=True)
            with writer_lock(settings.index.index_dir, settings.chat.ingest_lock_wait):
                report = ingest(index, [str(corpus)], progress=sys.stderr.isatty(), hooks=decision_hooks(index))
            print(report.summary(), flush=True)
        else:
            print(f"The index at {settings.index.index_dir} is empty and there is no corpus at {corpus}: "
                  "add documents from the page or with `minutes ingest PATH`.", flush=True)
    service = AnswerService(settings, index, records=RECORDS)
    print("Loading the models…", flush=True)
    service.warm()
    app = build_app(service, settings, watch)
    if settings.chat.users_file or (settings.chat.auth_user and settings.chat.auth_password):
        print("Sign-in is required (MINUTES_AUTH_USER / MINUTES_AUTH_PASSWORD, MINUTES_USERS_FILE); "
              "exempt items are shown to officers only.", flush=True)
    try:
        launch(app, settings, index)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise MinutesError(f"cannot serve the chat on {settings.chat.host}:{settings.chat.port}: {exc} "
                           "(choose another with --port or MINUTES_PORT)") from exc
