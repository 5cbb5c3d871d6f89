"""Read-only questions the dashboard asks of the store that are about progress, not records."""

from __future__ import annotations

from station.store import Store

__all__ = ["due_to_progress"]


def due_to_progress(store: Store) -> list[dict]:
    """Patients whose latest session met their targets (sets of good reps) since the targets last changed.

    The sources' cue to progress: 3 sets of 12 good reps, then a larger
    stand-off or a load; each patient's own ``reps_per_set`` and ``sets``
    apply. Each dict: ``patient_id, code, display_name, session_id,
    started, reps_per_set, sets_target, full_sets``; newest session first.
    See :meth:`station.store.Store.due_to_progress`.
    """
    return store.due_to_progress()
