"""A bare Flask "hello" app: the reference the load benchmark divides by."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    """The cheapest possible page."""
    return "hello"
