"""The live session: a page, its server-sent events, and start/pause/end commands for the station.

``/live/events`` streams the :class:`~web.live.LiveFeed`'s events as
server-sent events: first an ``event: state`` with the latest snapshot, then
each event under its ``type`` as the event name, and a comment line after
``LIVE_HEARTBEAT_S`` of quiet so a vanished browser is noticed (the write
fails) and its server thread freed. After ``LIVE_STREAM_MAX_S`` the stream
ends and the browser's EventSource reconnects by itself (3 s later, as the
``retry`` field asks), which also re-checks the log-in.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from station.faults import (AT_ITS_BOTTOM, BOTTOM_NOT_SEEN, BOTTOM_NOT_SEEN_BADGE, FAULT_LABELS, NO_FAULT,
                           NO_FAULT_SEEN, NOT_CHECKED_LABELS, NOT_SCORED)
from station.lamps import clinician_words
from web.auth import login_required
from web.db import get_store
from web.live import COMMANDS, FeedFull, LiveFeed

__all__ = ["bp", "event_stream_response"]

bp = Blueprint("live", __name__, url_prefix="/live")

_LABELS = {"start": "Start", "pause": "Pause", "end": "End", "assign": "Assign"}

#: The station's lamp patterns (station.lamps) and session states in a clinician's words, for the page
#: and its script alike.
LAMP_WORDS = clinician_words()
STATE_WORDS = {"running": "Running", "paused": "Paused", "ended": "Ended", "idle": "Waiting for the next set"}
#: Said after why a frame is not measured (a frame's ``hidden``: someone in front of the patient or their
#: hips, or too close to tell apart). Over the 200 stress recordings a second person on the camera's side
#: hid the bottom of 95 of 339 reps, on the far side 9 of 178; leaning in lost reps from either side
#: (docs/accuracy.md, "Where the clinician stands").
HIDDEN_HINT = "stand on the patient's far side from the camera, and cue without leaning over them"


def _render(status: int = 200, **extra):
    """The live page: the feed's state, the patients to pick, and the words its script shows."""
    patients = get_store().list_patients()
    words = {"lamps": LAMP_WORDS, "states": STATE_WORDS, "faults": FAULT_LABELS, "commands": _LABELS,
             "bottom_not_seen": BOTTOM_NOT_SEEN, "bottom_not_seen_badge": BOTTOM_NOT_SEEN_BADGE,
             "no_fault": NO_FAULT, "no_fault_seen": NO_FAULT_SEEN,
             "not_checked": NOT_CHECKED_LABELS, "not_scored": NOT_SCORED, "at_its_bottom": AT_ITS_BOTTOM,
             "hidden_hint": HIDDEN_HINT,
             "names": {str(patient["id"]): patient["display_name"] for patient in patients}}
    return render_template("live/live.html", state=_feed().state(), patients=patients, words=words,
                           **extra), status


def _feed() -> LiveFeed:
    return current_app.extensions["wallhinge_live"]


@bp.route("/")
@login_required
def page():
    return _render()


def _stream(feed: LiveFeed, subscription, heartbeat_s: float, max_s: float):
    yield "retry: 3000\n\n"
    for item in feed.events(heartbeat_s=heartbeat_s, max_s=max_s, subscription=subscription):
        if item is None:
            yield ": still here\n\n"
            continue
        seq, kind, text = item
        name = "".join(char for char in kind if char.isalnum() or char in "_-") or "message"
        yield f"id: {seq}\nevent: {name}\ndata: {text}\n\n"


@bp.route("/events")
@login_required(json=True)
def events():
    config = current_app.config
    try:
        # Counted as it subscribes: each stream holds one of the server's threads, so refuse rather than starve the pages.
        subscription = _feed().subscribe(group="live", limit=int(config["LIVE_MAX_STREAMS"]))
    except FeedFull:
        response = jsonify(error=f"{config['LIVE_MAX_STREAMS']} live pages are open already: close one "
                                 "(or raise LIVE_MAX_STREAMS and the server's threads)")
        response.status_code = 503
        return response
    return event_stream_response(_stream(_feed(), subscription, float(config["LIVE_HEARTBEAT_S"]),
                                         float(config["LIVE_STREAM_MAX_S"])), subscription)


def event_stream_response(stream, subscription) -> Response:
    """A server-sent events response that closes ``subscription`` however it ends (even never started)."""
    response = Response(stream, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(subscription.close)
    return response


@bp.route("/commands", methods=("POST",))
@login_required(json=True)
def command():
    """Ask the station to start, pause or end a session (or assign its patient).

    Takes JSON ``{"command": "start", "patient_id": 3}`` (answers 202 with
    the command) or a form with the same fields (redirects to the live page).
    """
    as_json = request.is_json
    values = request.get_json(silent=True) if as_json else request.form
    if not isinstance(values, dict) and not hasattr(values, "get"):
        return _refuse("send a JSON object such as {\"command\": \"pause\"}", as_json)
    name = values.get("command")
    if name not in COMMANDS:
        return _refuse(f"command must be one of {', '.join(COMMANDS)}, not {str(name)[:20]!r}", as_json)
    fields = {}
    if "patient_id" in COMMANDS[name]:
        raw = values.get("patient_id")
        if raw in (None, ""):
            fields["patient_id"] = None
        else:
            try:
                patient_id = int(raw)
            except (TypeError, ValueError):
                return _refuse(f"patient_id must be a patient's number, not {str(raw)[:20]!r}", as_json)
            if isinstance(raw, bool) or get_store().get_patient(patient_id) is None:
                return _refuse(f"there is no patient {str(raw)[:20]}", as_json)
            fields["patient_id"] = patient_id
    sent = _feed().command(name, by=g.clinician["username"], **fields)
    current_app.logger.info("live command %s", sent)
    if as_json:
        response = jsonify(command=sent)
        response.status_code = 202
        return response
    flash(f"{_LABELS[name]}: sent to the station.", "info")
    return redirect(url_for("live.page"))


def _refuse(message: str, as_json: bool):
    if as_json:
        response = jsonify(error=message)
        response.status_code = 400
        return response
    return _render(400, error=message)
