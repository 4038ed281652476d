"""One router per concern: asking, the OpenAI-compatible endpoint, documents, health, the widget."""
