"""The embeddable HTTP API: ``create_app(settings, service)`` builds it; ``govqa serve`` runs it."""

from ui.http.app import create_app, mount_ui

__all__ = ["create_app", "mount_ui"]
