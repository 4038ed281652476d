"""The Gradio app: chat with cited answers and the documents tab, over the service (``ui.service``)."""
