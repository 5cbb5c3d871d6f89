"""Error pages and JSON errors: every refusal says what went wrong and what to do."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from station.store import NotFoundError, StoreError

__all__ = ["init_app", "wants_json"]

_JSON_ENDPOINTS = {"live.events", "live.command"}


def wants_json() -> bool:
    """The request came from a script (the API, the live page's calls), not a page load."""
    return (request.path.startswith("/api/") or request.endpoint in _JSON_ENDPOINTS or request.is_json
            or request.accept_mimetypes.best == "application/json")


def _respond(status: int, title: str, message: str):
    if wants_json():
        response = jsonify(error=message)
        response.status_code = status
        return response
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(400, "Form expired", "The form expired or did not come from this dashboard "
                        f"({error.description}). Go back, reload the page and send it again.")

    @app.errorhandler(NotFoundError)
    def not_found(error):
        return _respond(404, "Not found", str(error))

    @app.errorhandler(StoreError)
    def store_error(error):
        app.logger.error("store error: %s", error)
        return _respond(503, "Database unavailable", f"{error}")

    @app.errorhandler(HTTPException)
    def http_error(error):
        messages = {404: "There is nothing at this address. Use the menu to find the patient or session.",
                    405: "This address does not take that kind of request."}
        message = error.description
        if message == type(error).description:  # werkzeug's generic words: say it for people
            message = messages.get(error.code, message)
        return _respond(error.code or 500, error.name, message)
