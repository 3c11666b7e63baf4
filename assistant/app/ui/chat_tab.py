"""The Chat tab: the conversation with its example questions, the question box, and the
sources panel beside it; its events stream an answer into the conversation (one public
endpoint, named for gradio_client) and start a new conversation. gradio is only imported by
the caller and passed in.
"""

from __future__ import annotations

from types import SimpleNamespace

from .common import API_CHAT, EXAMPLES, SCROLL_JS
from .handlers import _Skip


def build_chat_tab(gr, app) -> SimpleNamespace:
    with gr.Tab("Chat", id="chat"):
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="chatbot", height=520, render_markdown=False,
                    sanitize_html=True, latex_delimiters=[], feedback_options=None,
                    buttons=["copy", "copy_all"],
                    examples=[{"text": q} for q in EXAMPLES],
                    placeholder="Ask about decisions, votes, actions and discussions in the minutes. "
                                "Every answer cites the passages it comes from.",
                )
                with gr.Row():
                    msg = gr.Textbox(label="Question", placeholder="Ask a question about the minutes…",
                                     elem_id="question", scale=5, lines=1, max_lines=4, autofocus=True)
                    send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                new = gr.Button("New conversation", elem_id="new-conversation", size="sm")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(app.sources_html(None), label="Sources", elem_id="sources",
                                  js_on_load=SCROLL_JS)
    return SimpleNamespace(chatbot=chatbot, msg=msg, send=send, new=new, sources=sources)


def wire_chat_tab(gr, app, level, tab: SimpleNamespace, filters: list) -> None:
    """Chat: one public endpoint, named for gradio_client; the rest is private to the page."""

    def unskip(values):
        return tuple(gr.skip() if isinstance(v, _Skip) else v for v in values)

    def chat(message, history, council, committee, since, until, request):
        for values in app.chat(message, history, council, committee, since, until, level(request)):
            yield unskip(values)

    def new_conversation(request):
        return app.new_conversation()

    def example(evt: gr.SelectData):
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    # This module postpones annotations, and gradio finds SelectData and Request by the annotation's type.
    example.__annotations__["evt"] = gr.SelectData
    for handler in (chat, new_conversation):
        handler.__annotations__["request"] = gr.Request

    chatbot, msg, sources = tab.chatbot, tab.msg, tab.sources
    gr.on([msg.submit, tab.send.click], chat, inputs=[msg, chatbot, *filters], outputs=[chatbot, msg, sources],
          api_name=API_CHAT, api_description="Ask a question; returns the conversation, the cleared box and the sources.")
    chatbot.example_select(example, None, msg, api_visibility="private").then(
        chat, [msg, chatbot, *filters], [chatbot, msg, sources], api_visibility="private")
    tab.new.click(new_conversation, None, [chatbot, msg, sources], api_visibility="private")
    chatbot.clear(new_conversation, None, [chatbot, msg, sources], api_visibility="private")
