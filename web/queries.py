"""Read-only questions the dashboard asks that ``station.store`` has no method for yet.

They run on the request's store connection and change nothing. They belong
in :class:`station.store.Store`; they are here until it has them.
"""

from __future__ import annotations

from station.patient_targets import TARGET_DEFAULTS
from station.store import Store

__all__ = ["due_to_progress"]

# Per active patient, their latest session, if it started after their targets
# last changed and has the target number of sets with the target number of
# good reps each (a patient without targets: station.patient_targets' defaults). Walks
# sessions_by_patient for the latest session and the sets' reps by
# (set_id, index_in_set): a few thousand rows for a clinic's 200 patients.
_DUE_SQL = """
SELECT p.id AS patient_id, p.code, p.display_name, s.id AS session_id, s.started,
       coalesce(t.reps_per_set, :reps_per_set) AS reps_per_set, coalesce(t.sets, :sets) AS sets_target,
       (SELECT count(*) FROM sets st
         WHERE st.session_id = s.id
           AND (SELECT coalesce(sum(r.good), 0) FROM reps r WHERE r.set_id = st.id)
               >= coalesce(t.reps_per_set, :reps_per_set)) AS full_sets
  FROM patients p
  LEFT JOIN targets t ON t.patient_id = p.id
  JOIN sessions s ON s.id = (SELECT id FROM sessions WHERE patient_id = p.id ORDER BY started DESC LIMIT 1)
 WHERE p.archived = 0 AND (t.updated IS NULL OR s.started >= t.updated)
   AND full_sets >= coalesce(t.sets, :sets)
 ORDER BY s.started DESC
"""


def due_to_progress(store: Store) -> list[dict]:
    """Patients whose latest session met their targets (sets of good reps) since the targets last changed.

    The sources' cue to progress: 3 sets of 12 good reps, then a larger
    stand-off or a load; each patient's own ``reps_per_set`` and ``sets``
    apply. Each dict: ``patient_id, code, display_name, session_id,
    started, reps_per_set, sets_target, full_sets``; newest session first.
    """
    defaults = {"reps_per_set": TARGET_DEFAULTS["reps_per_set"], "sets": TARGET_DEFAULTS["sets"]}
    return [dict(row) for row in store._db.execute(_DUE_SQL, defaults)]  # noqa: SLF001 - see the module's docs
