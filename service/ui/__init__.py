"""Server-rendered staff pages under ``/ui``: triage queue, patient record, reports."""

from service.ui.routes import router

__all__ = ["router"]
