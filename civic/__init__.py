"""civic: a participatory platform for the politique de la ville.

The application factory is imported lazily so that ``civic.counting`` (pure Python)
can be used and run as ``python -m civic.counting`` without importing Flask.
"""

from __future__ import annotations

from typing import Any


def create_app(test_config: dict[str, Any] | None = None):  # noqa: ANN201
    """Build the Flask application (see civic.factory)."""
    from civic.factory import create_app as _create_app

    return _create_app(test_config)
