"""The clinician's pages: patients, a patient, a session, a rep's replay, exports, calibration."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from station.faults import (BOTTOM_NOT_SEEN, FAULT_NAMES, NOT_SCORED, Thresholds, back_checked, knee_checked,
                            touch_checked)
from station.fhir_export import export_session
from station.hidden_spans import set_hidden_words
from station.store.outbox import station_states
from station.patient_targets import LIMIT_NAMES, TARGET_DEFAULTS
from station.store import SERIES_NAMES, ConflictError, series_to_list, thresholds_from_targets
from web import charts
from web.auth import login_required
from web.db import get_store
from web.filters import local_time, parse_time
from web.forms import TARGET_FIELDS, FormError, parse_patient, parse_targets
from web.queries import due_to_progress
from web.replay import replay_frames
from web.summaries import patient_progress, session_overview

__all__ = ["bp"]

bp = Blueprint("dashboard", __name__)

RANGES = {"90": 90, "365": 365, "all": None}
RECENT_SESSIONS = 20


# -- patients -----------------------------------------------------------------------

def _patients_page(status: int = 200, **extra):
    store = get_store()
    query = request.args.get("q", "").strip()[:64]
    archived = request.args.get("archived") == "1"
    patients = (store.search_patients(query, include_archived=archived, limit=100) if query
                else store.list_patients(include_archived=archived))
    return render_template("dashboard/patients.html", patients=patients, query=query, archived=archived,
                           recent=store.recent_activity(limit=8), due=due_to_progress(store),
                           stations=station_states(store), **extra), status


@bp.route("/")
@login_required
def patients():
    return _patients_page()


@bp.route("/patients", methods=("POST",))
@login_required
def add_patient():
    store = get_store()
    try:
        fields = parse_patient(request.form)
        patient_id = store.add_patient(code=fields["code"], display_name=fields["display_name"])
    except FormError as error:
        return _patients_page(400, add_error=str(error), form=request.form)
    except ConflictError:
        return _patients_page(400, add_error=f"Code: {request.form['code'].strip()} is another patient's code.",
                              form=request.form)
    flash(f"Added {fields['display_name']} ({fields['code']}). Set their targets below.", "info")
    return redirect(url_for("dashboard.patient", patient_id=patient_id))


def _patient_or_404(patient_id: int) -> dict:
    patient = get_store().get_patient(patient_id)
    if patient is None:
        abort(404, f"There is no patient {patient_id}.")
    return patient


def _progress_charts(summaries: list[dict], targets: dict, thresholds) -> list[dict]:
    labels = [local_time(item["started"], "short") for item in summaries]

    def percent(name):
        return [None if item[name] is None else 100 * item[name] for item in summaries]

    target = targets["target_trunk_angle_deg"]
    specs = [
        ("Good reps", "Share of reps with no fault seen at a bottom that was seen (and deep enough, if there "
                      "is a target); where the back was not checked, a rounded back was not looked for",
         charts.progress_chart(labels, percent("good_rate"), title="Good-rep rate per session (%)", unit="%",
                               y_range=(0, 100), width=560, height=240)),
        ("Wall touched", "Share of the reps checked for touch (buttocks in view at the bottom) whose closest gap was within the touch tolerance",
         charts.progress_chart(labels, percent("touch_rate"), title="Touch rate per session (%)", unit="%",
                               y_range=(0, 100), width=560, height=240)),
        ("Peak trunk lean", "Mean of the reps' deepest trunk angle",
         charts.progress_chart(labels, [item["mean_peak_trunk_angle_deg"] for item in summaries],
                               title="Mean peak trunk angle per session (degrees)", unit="°", y_range=(0, None),
                               reference=None if target is None else (target, f"target {target:g}°"),
                               width=560, height=240)),
        ("Knee bend", "Mean of the reps' largest knee flexion; above the limit is a squat",
         charts.progress_chart(labels, [item["mean_peak_knee_flexion_deg"] for item in summaries],
                               title="Mean peak knee flexion per session (degrees)", unit="°", y_range=(0, None),
                               reference=(thresholds.max_knee_flexion_deg,
                                          f"squat limit {thresholds.max_knee_flexion_deg:g}°"),
                               width=560, height=240)),
        # A rep whose bottom was not seen has no score: the mean is of the scored reps, and a session
        # with none is a gap in the line, never a 0.
        ("Score", "Mean rep score (100 minus the points each fault costs) of the scored reps; a rep whose bottom "
                  f"was not seen is {NOT_SCORED}",
         charts.progress_chart(labels, [item["mean_score"] for item in summaries], title="Mean score per session",
                               y_range=(0, 100), width=560, height=240,
                               empty="No scored reps yet" if any(item["reps"] for item in summaries)
                               else "No sessions with reps yet")),
        ("Faults by kind", "Reps showing each fault, per session",
         charts.fault_bars(labels, {name: [item["fault_counts"].get(name, 0) for item in summaries]
                                    for name in FAULT_NAMES}, title="Reps with each fault per session",
                           width=560, height=270)),
    ]
    return [{"heading": heading, "note": note, "svg": Markup(svg)} for heading, note, svg in specs]


def _patient_page(patient_id: int, status: int = 200, **extra):
    patient = _patient_or_404(patient_id)
    store = get_store()
    range_key = request.args.get("range", "all")
    if range_key not in RANGES:
        range_key = "all"
    days = RANGES[range_key]
    since = None if days is None else _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=days)
    progress = patient_progress(store, patient_id, since=since)
    summaries = progress["summaries"]
    show_all = request.args.get("all") == "1"
    sessions = list(reversed(summaries))
    return render_template(
        "dashboard/patient.html", patient=patient, targets=progress["targets"], thresholds=progress["thresholds"],
        progress=progress["progress"], charts=_progress_charts(summaries, progress["targets"], progress["thresholds"]),
        sessions=sessions if show_all else sessions[:RECENT_SESSIONS], session_count=len(sessions),
        show_all=show_all, range_key=range_key, target_fields=TARGET_FIELDS, **extra), status


@bp.route("/patients/<int:patient_id>")
@login_required
def patient(patient_id: int):
    return _patient_page(patient_id)


@bp.route("/patients/<int:patient_id>", methods=("POST",))
@login_required
def edit_patient(patient_id: int):
    _patient_or_404(patient_id)
    form = dict(request.form)
    form.setdefault("archived", "0")  # an unticked box is not sent
    try:
        fields = parse_patient(form)
        get_store().update_patient(patient_id, **fields)
    except FormError as error:
        return _patient_page(patient_id, 400, patient_error=str(error), patient_form=request.form)
    except ConflictError:
        return _patient_page(patient_id, 400, patient_error=f"Code: {form['code'].strip()} is another patient's code.",
                             patient_form=request.form)
    flash("Patient details saved.", "info")
    return redirect(url_for("dashboard.patient", patient_id=patient_id))


@bp.route("/patients/<int:patient_id>/targets", methods=("POST",))
@login_required
def set_targets(patient_id: int):
    _patient_or_404(patient_id)
    try:
        checked = parse_targets(request.form)
        get_store().set_targets(patient_id, **checked)
    except FormError as error:
        return _patient_page(patient_id, 400, targets_error=str(error), error_field=error.field,
                             targets_form=request.form)
    except ValueError as error:  # the store's own range checks
        return _patient_page(patient_id, 400, targets_error=str(error), targets_form=request.form)
    flash("Targets saved. They apply from the next session.", "info")
    return redirect(url_for("dashboard.patient", patient_id=patient_id) + "#targets")


# -- sessions -----------------------------------------------------------------------

def _session_or_404(session_id: int) -> dict:
    session = get_store().get_session(session_id)
    if session is None:
        abort(404, f"There is no session {session_id}.")
    return session


def _targets_for(session: dict) -> dict:
    store = get_store()
    if session["patient_id"] is None:
        return {**TARGET_DEFAULTS, "updated": None}
    return store.get_targets(session["patient_id"])


def _judged_with(rep: dict, targets: dict) -> dict:
    """The limits a rep was judged with, as stored with it; the patient's now for a rep stored without.

    ``thresholds`` (:class:`~station.faults.Thresholds`), ``target_trunk_angle_deg``
    and ``stored`` (False: the limits are today's, not necessarily the rep's).
    """
    limits = rep.get("limits")
    if limits:
        return {"thresholds": Thresholds(**{name: limits[name] for name in LIMIT_NAMES}),
                "target_trunk_angle_deg": limits.get("target_trunk_angle_deg"), "stored": True}
    return {"thresholds": thresholds_from_targets(targets), "target_trunk_angle_deg": targets["target_trunk_angle_deg"],
            "stored": False}


def _session_limits(reps: list[dict], targets: dict) -> dict:
    """The limits a session's reps were judged with, for its report (see :func:`_judged_with`).

    Adds ``mixed`` (the reps were judged with different limits: each rep's
    reasons quote its own) and ``back_checked`` (any rep's back measured).
    """
    judged = [_judged_with(rep, targets) for rep in reps]
    stored = [item for item in judged if item["stored"]]
    distinct = {(item["thresholds"], item["target_trunk_angle_deg"]) for item in stored}
    chosen = stored[-1] if stored else _judged_with({}, targets)
    return {**chosen, "stored": bool(stored) and len(stored) == len(judged), "mixed": len(distinct) > 1,
            "back_checked": any(back_checked(rep) for rep in reps)}


def _spark(rep: dict, name: str, what: str, unit: str) -> Markup:
    series = rep.get("series")
    if series is None:
        return Markup('<span class="muted">no frames</span>')
    t = series["t_s"].tolist()
    values = series_to_list(series[name], decimals=1)
    known = [value for value in values if value is not None]
    summary = f"{what} over the rep: {min(known):.0f} to {max(known):.0f} {unit}" if known else f"{what}: not measured"
    return Markup(charts.sparkline(t, values, title=summary))


def _session_page(session_id: int, status: int = 200, **extra):
    session = _session_or_404(session_id)
    store = get_store()
    reps = store.session_reps(session_id, with_series=True)
    for rep in reps:
        rep["spark_gap"] = _spark(rep, "wall_gap_mm", "Wall gap", "mm")
        rep["spark_trunk"] = _spark(rep, "trunk_angle_deg", "Trunk angle", "degrees")
    sets = store.session_sets(session_id)
    by_set = {item["number"]: [] for item in sets}
    for rep in reps:
        by_set.setdefault(rep["set_number"], []).append(rep)
    calibration = (store.get_calibration(session["calibration_id"]) if session["calibration_id"] is not None
                   else None)
    targets = _targets_for(session)
    return render_template("dashboard/session.html", session=session, sets=sets, by_set=by_set,
                           overview=session_overview(reps), targets=targets,
                           thresholds=thresholds_from_targets(targets), calibration=calibration, **extra), status


@bp.route("/sessions/<int:session_id>")
@login_required
def session(session_id: int):
    return _session_page(session_id)


@bp.route("/sessions/<int:session_id>/patient", methods=("POST",))
@login_required
def assign_patient(session_id: int):
    """Give a session (a guest's, or a wrong one) to the patient with this code; empty code = guest."""
    _session_or_404(session_id)
    store = get_store()
    code = request.form.get("code", "").strip()
    if not code:
        store.update_session(session_id, patient_id=None)
        flash("The session is now a guest's.", "info")
        return redirect(url_for("dashboard.session", session_id=session_id))
    patient = store.get_patient_by_code(code)
    if patient is None:
        return _session_page(session_id, 400, assign_error=f"No patient has the code {code[:32]}.", assign_code=code)
    store.update_session(session_id, patient_id=patient["id"])
    flash(f"The session now belongs to {patient['display_name']} ({patient['code']}).", "info")
    return redirect(url_for("dashboard.session", session_id=session_id))


def _rep_or_404(session_id: int, rep_id: int) -> tuple[dict, list[dict]]:
    reps = get_store().session_reps(session_id)
    for rep in reps:
        if rep["id"] == rep_id:
            return rep, reps
    abort(404, f"Session {session_id} has no rep {rep_id}.")


@bp.route("/sessions/<int:session_id>/reps/<int:rep_id>")
@login_required
def rep(session_id: int, rep_id: int):
    """One rep: its figures, why it lost points, its curves and a side-view replay."""
    session = _session_or_404(session_id)
    rep, reps = _rep_or_404(session_id, rep_id)
    store = get_store()
    series = store.rep_series(rep_id)
    targets = _targets_for(session)
    judged = _judged_with(rep, targets)
    thresholds = judged["thresholds"]
    position = next(k for k, item in enumerate(reps) if item["id"] == rep_id)
    previous = reps[position - 1] if position > 0 else None
    following = reps[position + 1] if position + 1 < len(reps) else None
    curves, replay = [], None
    if series is not None:
        t = [value - rep["start_s"] for value in series["t_s"].tolist()]
        # A bottom not seen has no time: no marker at the detector's guess.
        bottom = [] if rep["peak_trunk_angle_deg"] is None else [(rep["bottom_s"] - rep["start_s"], "bottom")]
        target = judged["target_trunk_angle_deg"]
        touch, knee_limit = thresholds.touch_tolerance_mm, thresholds.max_knee_flexion_deg

        def curve(name, title, unit, reference):
            return charts.curve_chart(t, series_to_list(series[name], decimals=1), title=title, unit=unit,
                                      y_range=(0, None), markers=bottom, reference=reference)
        curves = [
            ("Wall gap", curve("wall_gap_mm", "Buttocks to wall over the rep (mm)", " mm",
                               (touch, f"touch within {touch:g} mm"))),
            ("Trunk angle", curve("trunk_angle_deg", "Trunk angle over the rep (degrees)", "°",
                                  None if target is None else (target, f"target {target:g}°"))),
            ("Knee flexion", curve("knee_flexion_deg", "Knee flexion over the rep (degrees)", "°",
                                   (knee_limit, f"squat limit {knee_limit:g}°"))),
        ]
        replay = replay_frames({name: series_to_list(series[name], decimals=3) for name in SERIES_NAMES},
                               standoff_mm=targets["standoff_mm"], start_s=rep["start_s"])
        if not replay["frames"]:
            replay = None
    bottom_frame = None
    if replay:
        bottom_frame = max(range(len(replay["frames"])), key=lambda k: replay["frames"][k]["trunk"])
    return render_template("dashboard/rep.html", session=session, rep=rep, previous=previous, following=following,
                           curves=[(name, Markup(svg)) for name, svg in curves], replay=replay,
                           bottom_frame=bottom_frame, targets=targets, thresholds=thresholds, judged=judged)


_CSV_COLUMNS = ("set_number", "index", "start_s", "bottom_s", "end_s", "min_wall_gap_mm", "touched",
                "peak_trunk_angle_deg", "peak_knee_flexion_deg", "peak_spine_flexion_deg", "return_trunk_angle_deg",
                "descent_s", "hold_s", "ascent_s", "faults", "touch", "knee", "back", "bottom", "score", "good",
                "lost_points", "limits", "view_note", "back_note", "set_patient_hidden", "recorded", "id")


def _csv_text(value) -> str:
    """A cell: numbers as they are, text guarded against spreadsheet formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/sessions/<int:session_id>/reps.csv")
@login_required
def reps_csv(session_id: int):
    """Every rep of a session, one row each, for a spreadsheet or the clinical notes."""
    session = _session_or_404(session_id)
    reps = get_store().session_reps(session_id)
    # When each set's patient was hidden (its rep count may be short), on each of its rows.
    hidden = {set_["number"]: "; ".join(set_hidden_words(set_)) for set_ in get_store().session_sets(session_id)}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    for rep in reps:
        row = dict(rep)
        row["faults"] = " ".join(rep["faults"])
        # An empty touched cell is a touch not checked (the buttocks hidden at the bottom), never "did not touch".
        row["touch"] = "checked" if touch_checked(rep) else "not checked"
        if not touch_checked(rep):
            row["touched"] = None
        # An empty peak knee cell of a rep whose bottom was seen is a squat not judged (the legs out of view).
        row["knee"] = "checked" if knee_checked(rep) else "not checked"
        row["back"] = "checked" if back_checked(rep) else "not checked"
        # An empty peak trunk cell is a rep whose bottom was not seen (someone in front of the patient), never 0;
        # so is an empty score cell (such a rep is not scored: station.scoring), never 100.
        row["bottom"] = "seen" if rep["peak_trunk_angle_deg"] is not None else BOTTOM_NOT_SEEN
        row["limits"] = ("" if not rep["limits"] else
                         "; ".join(f"{name} {value:g}" for name, value in rep["limits"].items() if value is not None))
        row["set_patient_hidden"] = hidden.get(rep["set_number"])
        row["lost_points"] = "; ".join(f"{item.get('fault')} -{item.get('points')}: {item.get('why')}"
                                       for item in rep["lost_points"] or () if isinstance(item, dict))
        writer.writerow([_csv_text(row.get(name)) for name in _CSV_COLUMNS])
    day = parse_time(session["started"]).astimezone().date().isoformat()
    name = f"session-{session_id}-{day}-reps.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/sessions/<int:session_id>/fhir.json")
@login_required
def fhir(session_id: int):
    """The session as a FHIR R4 bundle (Patient by code, an Observation per rep and per set), to download."""
    session = _session_or_404(session_id)
    bundle = export_session(get_store(), session_id)
    day = parse_time(session["started"]).astimezone().date().isoformat()
    return Response(json.dumps(bundle, ensure_ascii=False), mimetype="application/fhir+json",
                    headers={"Content-Disposition": f'attachment; filename="session-{session_id}-{day}.fhir.json"'})


@bp.route("/sessions/<int:session_id>/report")
@login_required
def report(session_id: int):
    """A one-page session report to print (or save as PDF) for the clinical notes."""
    session = _session_or_404(session_id)
    store = get_store()
    reps = store.session_reps(session_id)
    targets = _targets_for(session)
    return render_template("dashboard/report.html", session=session, sets=store.session_sets(session_id), reps=reps,
                           overview=session_overview(reps), targets=targets, limits=_session_limits(reps, targets),
                           target_fields=TARGET_FIELDS,
                           printed=_dt.datetime.now(_dt.timezone.utc).isoformat())


# -- calibration --------------------------------------------------------------------

@bp.route("/calibration")
@login_required
def calibration():
    store = get_store()
    latest = store.latest_calibration()
    if latest is not None:
        latest = {key: value for key, value in latest.items() if key != "document"}
    return render_template("dashboard/calibration.html", latest=latest, history=store.list_calibrations(limit=10))


@bp.app_template_filter("tojson_compact")
def tojson_compact(value) -> Markup:
    """JSON for a ``<script type="application/json">`` block, safe against ``</script>``."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
