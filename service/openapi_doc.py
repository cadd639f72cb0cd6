"""The committed OpenAPI document is generated from the app (and a test fails when it is stale)."""

from __future__ import annotations

import json

from service.app import create_app
from service.settings import Settings


def openapi_json() -> str:
    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40, environment="test"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
