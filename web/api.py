"""The JSON API under ``/api/``: the same data as the pages, documented in ``web/API.md``."""

from __future__ import annotations

import datetime as _dt

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_wtf.csrf import generate_csrf

from station.fhir_export import export_session
from station.store import thresholds_from_targets
from station.store.outbox import station_states
from web.auth import login_required
from web.db import get_store
from web.forms import FormError, parse_targets
from web.queries import due_to_progress
from web.summaries import patient_progress, rep_json, session_overview

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api")


def _bad_request(message: str, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = 400
    return response


def _flag(name: str) -> bool:
    raw = request.args.get(name, "0").strip().lower()
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no", ""):
        return False
    abort(_bad_request(f"{name} must be 1 or 0, not {raw[:20]!r}", name))


def _patient_or_404(patient_id: int) -> dict:
    patient = get_store().get_patient(patient_id)
    if patient is None:
        abort(404, f"there is no patient {patient_id}")
    return patient


def _session_or_404(session_id: int) -> dict:
    session = get_store().get_session(session_id)
    if session is None:
        abort(404, f"there is no session {session_id}")
    return session


@bp.route("/me")
@login_required(json=True)
def me():
    """Who is logged in, and the CSRF token that PUT, PATCH and POST requests send as X-CSRFToken."""
    return jsonify(clinician=g.clinician, csrf_token=generate_csrf())


@bp.route("/patients")
@login_required(json=True)
def patients():
    store = get_store()
    query = request.args.get("q", "").strip()[:64]
    archived = _flag("archived")
    found = (store.search_patients(query, include_archived=archived, limit=100) if query
             else store.list_patients(include_archived=archived))
    return jsonify(patients=found)


@bp.route("/patients/due")
@login_required(json=True)
def due():
    """Patients whose latest session met their targets since the targets last changed."""
    return jsonify(patients=due_to_progress(get_store()))


@bp.route("/patients/<int:patient_id>")
@login_required(json=True)
def patient(patient_id: int):
    patient = _patient_or_404(patient_id)
    progress = patient_progress(get_store(), patient_id)
    return jsonify(patient=patient, targets=progress["targets"], progress=progress["progress"],
                   sessions=len(progress["summaries"]))


@bp.route("/patients/<int:patient_id>/sessions")
@login_required(json=True)
def patient_sessions(patient_id: int):
    """Per session, oldest first, the figures of the progress charts (``Store.session_summaries``)."""
    _patient_or_404(patient_id)
    since = None
    if request.args.get("since"):
        try:
            since = _dt.datetime.fromisoformat(request.args["since"].replace("Z", "+00:00"))
        except ValueError:
            return _bad_request("since must be an ISO 8601 time, e.g. 2026-05-01T00:00:00Z", "since")
        if since.tzinfo is None:
            return _bad_request("since must carry a time zone, e.g. 2026-05-01T00:00:00Z", "since")
    return jsonify(patient_id=patient_id, sessions=get_store().session_summaries(patient_id, since=since))


@bp.route("/patients/<int:patient_id>/targets", methods=("GET", "PUT", "PATCH"))
@login_required(json=True)
def targets(patient_id: int):
    """GET the targets; PUT all of them (null = no target / the default) or PATCH some."""
    _patient_or_404(patient_id)
    store = get_store()
    if request.method == "GET":
        targets = store.get_targets(patient_id)
        return jsonify(targets=targets, thresholds=vars(thresholds_from_targets(targets)))
    body = request.get_json(silent=True)
    if body is None:
        return _bad_request("send the targets as a JSON object with Content-Type: application/json")
    try:
        checked = parse_targets(body, from_json=True, partial=request.method == "PATCH")
        targets = store.set_targets(patient_id, **checked)
    except FormError as error:
        return _bad_request(str(error), error.field or None)
    except ValueError as error:  # the store's own checks
        return _bad_request(str(error))
    current_app.logger.info("targets of patient %s changed by %s: %s", patient_id, g.clinician["username"], checked)
    return jsonify(targets=targets, thresholds=vars(thresholds_from_targets(targets)))


@bp.route("/sessions/<int:session_id>")
@login_required(json=True)
def session(session_id: int):
    session = _session_or_404(session_id)
    store = get_store()
    return jsonify(session=session, sets=store.session_sets(session_id),
                   overview=session_overview(store.session_reps(session_id)))


@bp.route("/sessions/<int:session_id>/reps")
@login_required(json=True)
def session_reps(session_id: int):
    """A session's reps; with ``?series=1`` each rep's per-frame series too."""
    _session_or_404(session_id)
    with_series = _flag("series")
    reps = get_store().session_reps(session_id, with_series=with_series)
    return jsonify(session_id=session_id, reps=[rep_json(rep, with_series=with_series) for rep in reps])


@bp.route("/sessions/<int:session_id>/fhir")
@login_required(json=True)
def session_fhir(session_id: int):
    """The session as a FHIR R4 bundle (see station/fhir_export.py)."""
    _session_or_404(session_id)
    response = jsonify(export_session(get_store(), session_id))
    response.mimetype = "application/fhir+json"
    return response


@bp.route("/stations")
@login_required(json=True)
def stations():
    """The stations that deliver to this database, and whether each is behind."""
    return jsonify(stations=station_states(get_store()))


@bp.route("/calibration")
@login_required(json=True)
def calibration():
    store = get_store()
    latest = store.latest_calibration()
    if latest is not None:
        latest = {key: value for key, value in latest.items() if key != "document"}
    return jsonify(latest=latest, history=store.list_calibrations(limit=20))


@bp.route("/live")
@login_required(json=True)
def live():
    """The live feed's latest snapshot (``LiveFeed.state``)."""
    return jsonify(current_app.extensions["wallhinge_live"].state())
