"""Entry point for `flask run` and gunicorn (app:app)."""

from civic import create_app

app = create_app()
