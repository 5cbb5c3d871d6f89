"""A session as a FHIR R4 Bundle: the Patient by the clinic's code, an Observation per rep and per set.

The bundle (``type: collection``) holds:

- a ``Patient`` known only by the clinic's pseudonymous code
  (``identifier.system`` :data:`PATIENT_CODE_SYSTEM`), never the display
  name; a guest's session has none, and its Observations no subject;
- per rep, an ``Observation`` whose components are the rep's measures
  (closest wall gap in mm, peak trunk lean, knee bend, spine flexion and
  return in degrees, descent, hold and ascent in s, touched, score, each
  fault seen); a measure that was not measured is a component with
  ``dataAbsentReason`` "not-performed", never a number (for the peak trunk
  lean, with the reason as its text: the rep's bottom was not seen; for the
  score of such a rep, not scored, with why: its bottom faults were not judged);
- per set, an ``Observation`` of its reps and good reps whose ``hasMember``
  are the set's rep Observations, with a note for each span its patient was
  there but hidden (reps done then may not be counted).

Codes are this product's own (:data:`MEASURE_SYSTEM`; no LOINC code exists
for these measures); units are UCUM. Resource ids are UUIDs derived from
the station and session, so exporting a session again gives the same ids.

The bundle is validated with ``fhir.resources`` (pydantic models of the
FHIR specification; its R4B models, whose Patient and Observation are R4's,
both normative since R4) before it is returned, so an export that does not
validate is an error here, never a file handed on.
"""

from __future__ import annotations

import json
import uuid

from fhir.resources.R4B.bundle import Bundle

from station.faults import (BOTTOM_NOT_SEEN_WHY, KNEE_NOT_CHECKED_WHY, NOT_SCORED, NOT_SCORED_WHY,
                            TOUCH_NOT_CHECKED_WHY, back_note_words, bottom_seen, bottom_view_words, touch_checked)
from station.hidden_spans import set_hidden_words


__all__ = ["MEASURE_SYSTEM", "PATIENT_CODE_SYSTEM", "export_session", "session_bundle"]

#: Where the clinic's patient codes come from, as a FHIR identifier system.
PATIENT_CODE_SYSTEM = "urn:wallhinge:patient-code"

#: The code system of the station's measures and faults.
MEASURE_SYSTEM = "urn:wallhinge:measure"

_UCUM = "http://unitsofmeasure.org"
_ABSENT = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed",
                       "display": "Not Performed"}]}
_EXERCISE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                         "code": "exam", "display": "Exam"}]}

#: A rep's measures as components: (name in the store, display, UCUM unit).
REP_MEASURES = (
    ("min_wall_gap_mm", "Closest buttock-to-wall gap", "mm"),
    ("peak_trunk_angle_deg", "Peak trunk lean", "deg"),
    ("peak_knee_flexion_deg", "Peak knee bend", "deg"),
    ("peak_spine_flexion_deg", "Peak spine flexion from standing", "deg"),
    ("return_trunk_angle_deg", "Trunk lean on return", "deg"),
    ("descent_s", "Descent time", "s"),
    ("hold_s", "Hold at the wall", "s"),
    ("ascent_s", "Ascent time", "s"),
    ("score", "Rep score (0-100)", "{score}"),
)

# Measures missing for one reason only, and that reason in words, so no reader takes the gap for a shallow
# rep or a lost score: a rep whose bottom was not seen has no peak trunk lean and no score (station.scoring).
_WHY_ABSENT = {"peak_trunk_angle_deg": BOTTOM_NOT_SEEN_WHY, "score": f"{NOT_SCORED}: {NOT_SCORED_WHY}"}


def _code(code: str, display: str) -> dict:
    return {"coding": [{"system": MEASURE_SYSTEM, "code": code, "display": display}], "text": display}


def _id(session: dict, *parts) -> str:
    origin = f"{session.get('station') or 'station'}/{session.get('station_session_id') or session['id']}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(("urn:wallhinge", origin, *map(str, parts)))))


def _rep_components(rep: dict) -> list[dict]:
    components = []
    for name, display, unit in REP_MEASURES:
        component = {"code": _code(name, display)}
        if rep.get(name) is None:
            why = _WHY_ABSENT.get(name)
            if name == "peak_spine_flexion_deg" and rep.get("back_note"):
                why = back_note_words(rep)  # the set-up, the camera above, or the back hidden
            elif name == "peak_knee_flexion_deg":  # the squat not judged: the legs hidden, or the bottom
                why = KNEE_NOT_CHECKED_WHY if bottom_seen(rep) else BOTTOM_NOT_SEEN_WHY
            component["dataAbsentReason"] = _ABSENT if why is None else dict(_ABSENT, text=why)
        else:
            component["valueQuantity"] = {"value": round(float(rep[name]), 3), "unit": unit, "system": _UCUM,
                                          "code": unit}
        components.append(component)
    touched = {"code": _code("touched", "Buttocks touched the wall")}
    if not touch_checked(rep):  # the closest gap was not read: the touch was not judged, not missed
        touched["dataAbsentReason"] = dict(_ABSENT, text=TOUCH_NOT_CHECKED_WHY)
    else:
        touched["valueBoolean"] = bool(rep["touched"])
    components.append(touched)
    for fault in rep["faults"]:
        components.append({"code": _code("fault", "Fault seen"),
                           "valueCodeableConcept": _code(fault, fault.replace("_", " "))})
    return components


def session_bundle(session: dict, sets: list[dict], reps: list[dict]) -> dict:
    """The FHIR R4 JSON (as a dict) of a session, its sets and reps as the store gives them (validated).

    Raises
    ------
    ValueError
        The bundle does not validate (a fault of this code, not of the data).
    """
    subject, entries = None, []
    if session.get("patient_code"):
        patient_id = _id(session, "patient", session["patient_code"].lower())
        subject = {"reference": f"urn:uuid:{patient_id}"}
        entries.append({"fullUrl": f"urn:uuid:{patient_id}", "resource": {
            "resourceType": "Patient", "id": patient_id,
            "identifier": [{"system": PATIENT_CODE_SYSTEM, "value": session["patient_code"]}]}})
    device = {"display": f"Wall Hinge station {session.get('station') or ''}".strip()}
    rep_ids: dict[int, list[str]] = {}
    for rep in reps:
        rep_id = _id(session, "rep", rep["set_number"], rep["index"])
        rep_ids.setdefault(rep["set_number"], []).append(rep_id)
        entries.append({"fullUrl": f"urn:uuid:{rep_id}", "resource": _observation(
            rep_id, _code("rep", f"Wall-touch hip hinge, set {rep['set_number']} rep {rep['index']}"),
            subject, device, {"effectiveDateTime": rep["recorded"], "component": _rep_components(rep),
                              # Why its bottom was read off less of the patient (the trunk then reads less well).
                              **({"note": [{"text": f"Rep {rep['index']}: {bottom_view_words(rep['view_note'])}."}]}
                                 if rep.get("view_note") else {})})})
    for set_ in sets:
        set_id = _id(session, "set", set_["number"])
        hidden = set_hidden_words(set_)
        period = {"start": set_["started"], **({"end": set_["ended"]} if set_["ended"] else {})}
        entries.append({"fullUrl": f"urn:uuid:{set_id}", "resource": _observation(
            set_id, _code("set", f"Wall-touch hip hinge, set {set_['number']}"), subject, device, {
                "effectivePeriod": period,
                "component": [{"code": _code("reps", "Reps"), "valueInteger": set_["reps"]},
                              {"code": _code("good_reps", "Good reps (no fault seen)"),
                               "valueInteger": set_["good_reps"]}],
                "hasMember": [{"reference": f"urn:uuid:{member}"} for member in rep_ids.get(set_["number"], [])],
                # When the patient was hidden: its rep count may be short.
                **({"note": [{"text": f"{words}."} for words in hidden]} if hidden else {}),
            })})
    bundle = {"resourceType": "Bundle", "id": _id(session, "bundle"), "type": "collection",
              "timestamp": session["started"], "entry": entries}
    try:
        return json.loads(Bundle.model_validate(bundle).model_dump_json())
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise ValueError(f"the session's FHIR bundle does not validate: {error}") from None


def _observation(observation_id: str, code: dict, subject: dict | None, device: dict, extra: dict) -> dict:
    return {"resourceType": "Observation", "id": observation_id, "status": "final", "category": [_EXERCISE],
            "code": code, **({"subject": subject} if subject else {}), "device": device, **extra}


def export_session(store, session_id: int) -> dict | None:
    """The FHIR bundle of a stored session (see :func:`session_bundle`), or None if there is no such session."""
    session = store.get_session(session_id)
    if session is None:
        return None
    return session_bundle(session, store.session_sets(session_id), store.session_reps(session_id))
