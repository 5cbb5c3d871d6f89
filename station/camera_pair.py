"""Two cameras, one scene: the side camera and the camera above the spot that sees the back.

The two-camera set-up (``side+wall-above``, ``docs/back-view.md``) records
each camera to its own file through ``rs.recorder`` (a librealsense recording
holds one device): the side camera's ``NAME.db3`` and, beside it, the camera
above's ``NAME.above.db3``. Both are read back through ``rs.pipeline``
(:func:`station.camera.open_recording`), and their frames are paired by the
cameras' own timestamps (:class:`Pairing`, :func:`paired_frames`): D400 global time puts both on
the host's clock, so the back frame nearest each side frame, within half a
frame period, is the one taken with it.

``wallhinge analyze`` pairs strictly (a back recording that is cut short
or damaged stops it in one line); the live station pairs tolerantly
(:class:`SourcePair` with ``tolerant``): the side camera goes on and
``back_trouble`` says why the back has no frames. A live camera above is
read on a thread of its own (:class:`LiveBack`) so that it never holds up
the side camera, and opened again every second while it is missing.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator

from station.camera import SYNC_MASTER, SYNC_SLAVE, FilterSettings, open_camera, open_recording
from station.errors import CameraError, RecordingError

#: The part of a pair's second recording's name before ``.db3``: ``NAME.above.db3``.
BACK_SUFFIX = ".above"


def back_recording_path(recording) -> Path:
    """Where the camera above's recording of a pair sits: ``NAME.above.db3`` beside ``NAME.db3``."""
    recording = Path(recording)
    return recording.with_name(recording.stem + BACK_SUFFIX + recording.suffix)


#: Two recordings of one session start within this of each other (seconds, on
#: the cameras' clock): the station starts both cameras together.
MAX_START_APART_S = 2.0

#: What a live camera above's :meth:`LiveBack.poll` gives when no frame has come yet.
NOT_YET = None
# No more back frames (a recording's end).
_END = object()


class Pairing:
    """Pairs side frames, one at a time and in order, with the camera above's frame taken with each.

    The back frame whose :attr:`~station.camera.DepthFrame.clock_s` is nearest
    the side frame's, within half of ``period_s`` (the side camera's frame
    period), pairs with it; a back frame may pair with no side frame (it
    fell between two) or, if the side camera dropped frames, with two.

    ``back`` is an iterable read in step (a recording: each ``next`` waits for
    its frame), or a :class:`LiveBack`, polled so that a camera above that is
    late, lost or missing never holds up the side camera.

    Strict (``wallhinge analyze``): a back that fails or stops early raises.
    With ``tolerant`` (the live station) the side's frames go on pairing with
    None and :attr:`trouble` says why in one line; only a back of another
    session raises.
    """

    def __init__(self, back, *, period_s: float, back_label: str, tolerant: bool = False):
        # A live camera above may come up long after the side camera (plugged in late): only two
        # recordings are held to starting together.
        self._same_start = not hasattr(back, "poll")
        if hasattr(back, "poll"):
            self._pull = back.poll
        else:
            frames = iter(back)
            self._pull = lambda wait: next(frames, _END)
        self.period_s, self.half_s = period_s, 0.5 * period_s
        self.back_label = back_label
        self.tolerant = tolerant
        #: Why the back gives no more frames (tolerant only): one line a screen can show; None while they come.
        self.trouble: str | None = None
        self._buffered: deque = deque()
        self._pending = NOT_YET
        self._ended = False
        self._first_side_s: float | None = None
        self._first_back_s: float | None = None
        self._last_back_s: float | None = None
        self._last_side_s: float | None = None

    def back_for(self, side):
        """The back frame taken with ``side`` (the next side frame), or None."""
        if self._first_side_s is None:
            self._first_side_s = side.clock_s
        self._last_side_s = side.clock_s
        half = self.half_s
        while not self._ended:
            if self._pending is NOT_YET:
                # Wait for a frame only while none near this side frame is in hand.
                matched = any(abs(frame.clock_s - side.clock_s) <= half for frame in self._buffered)
                self._pending = self._next(wait=not matched)
                if self._pending is _END:
                    self._ended = True
                    self._back_ended(side)
                    break
                if self._pending is NOT_YET:
                    break
                self._check_start(self._pending)
            if self._pending.clock_s > side.clock_s + half:
                break
            self._buffered.append(self._pending)
            self._last_back_s = self._pending.clock_s
            self._pending = NOT_YET
        # Forget those more than half a period before it.
        while self._buffered and self._buffered[0].clock_s < side.clock_s - half:
            self._buffered.popleft()
        if self._ended and self.tolerant and self.trouble is None and self._last_back_s is not None \
                and self._last_back_s < side.clock_s - self.period_s:
            self.trouble = (f"{self.back_label} ends {self._last_back_s - self._first_side_s:.1f} s into the side "
                            "camera's recording: it is cut short")
        return min(self._buffered, key=lambda frame: abs(frame.clock_s - side.clock_s), default=None)

    def finish(self) -> None:
        """After the side's last frame (strict): raise if the back stopped before it."""
        if self.tolerant or not self._ended or self._last_back_s is None or self._last_side_s is None:
            return
        if self._last_back_s < self._last_side_s - self.period_s:
            raise RecordingError(f"{self.back_label} ends {_span(self._last_side_s - self._last_back_s)} before the "
                                 f"side camera's recording ({self._last_back_s - self._first_side_s:.1f} s of "
                                 f"{self._last_side_s - self._first_side_s:.1f} s): it is cut short")

    def _next(self, *, wait: bool):
        try:
            return self._pull(wait)
        except (CameraError, RecordingError) as error:
            if not self.tolerant:
                raise
            self.trouble = str(error) if isinstance(error, RecordingError) else f"{self.back_label} is lost ({error})"
            return _END

    def _check_start(self, frame) -> None:
        if self._first_back_s is not None:
            return
        self._first_back_s = frame.clock_s
        apart = frame.clock_s - self._first_side_s
        if self._same_start and abs(apart) > MAX_START_APART_S:
            raise RecordingError(f"{self.back_label} is not of the same session: its first frame is {_span(apart)} "
                                 f"{'after' if apart > 0 else 'before'} the side camera's")

    def _back_ended(self, side) -> None:
        if self._first_back_s is not None:
            return
        message = f"{self.back_label} has no depth frames"
        if not self.tolerant:
            raise RecordingError(message)
        self.trouble = self.trouble or message


def paired_frames(side_frames: Iterable, back_frames: Iterable, *, period_s: float,
                  back_label: str) -> Iterator[tuple]:
    """Each side frame with the back frame taken with it: ``(side, back)``, ``back`` None when none was.

    Strict :class:`Pairing` (``wallhinge analyze``); both iterables are read once, in step.

    Raises
    ------
    RecordingError
        The back frames are of another session (their first frame more than
        :data:`MAX_START_APART_S` from the side's), or stop before the side
        frames do (a recording cut short): one line naming ``back_label``.
    """
    return _paired(side_frames, Pairing(back_frames, period_s=period_s, back_label=back_label))


def _paired(side_frames: Iterable, pairing: Pairing) -> Iterator[tuple]:
    """Each side frame with ``pairing``'s back frame for it, then the pairing's end check."""
    for side in side_frames:
        yield side, pairing.back_for(side)
    pairing.finish()


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    return f"{seconds:.1f} s" if seconds < 3600 else f"{seconds / 3600:.1f} hours"


class LiveBack:
    """The live camera above's frames, read on a thread of their own and polled by :class:`Pairing`.

    A camera above that is missing at the start, or lost on the way, is
    opened again every ``retry_s`` seconds; meanwhile :attr:`trouble` says
    why in one line and :meth:`poll` has nothing, so the side camera goes on
    alone. Only the newest few frames are kept: a pairing that falls behind
    loses back frames, never side frames.
    """

    #: Frames kept for the pairing (about a quarter of a second at 30 fps).
    KEPT = 8

    def __init__(self, open_source, *, label: str, period_s: float, retry_s: float = 1.0):
        self._open, self.label = open_source, label
        self._wait_s, self._retry_s = period_s, retry_s
        self._frames: queue.Queue = queue.Queue(self.KEPT)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._source = None
        #: Why no frames come now, one line; None while they come.
        self.trouble: str | None = None
        #: How many times the camera above was opened (a new opening after a loss: check its calibration again).
        self.openings = 0
        self.info = None
        self._starved = True  # no frame yet: nothing to wait for
        #: Waits of a frame period that brought no frame (each one held up the side camera that long).
        self.waits_in_vain = 0
        self._thread = threading.Thread(target=self._run, name="session-back-camera", daemon=True)

    def start(self) -> "LiveBack":
        self._thread.start()
        return self

    def poll(self, wait: bool):
        """The next frame; :data:`NOT_YET` if none came (within a frame period, with ``wait``).

        Once a wait has come to nothing (the camera above missing, lost or
        stalled), polls stop waiting until a frame comes again: a camera above
        that gives nothing costs the side camera at most one frame period.
        """
        try:
            if wait and not self._starved:
                frame = self._frames.get(timeout=self._wait_s)
            else:
                frame = self._frames.get_nowait()
        except queue.Empty:
            if wait and not self._starved:
                self.waits_in_vain += 1
                self._starved = True
            return NOT_YET
        self._starved = False
        return frame

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                source = self._open()
            except CameraError as error:
                self.trouble = f"{self.label} is not available ({error})"
                self._closed.wait(self._retry_s)
                continue
            with self._lock:
                self._source = source
            try:
                if self._closed.is_set():
                    return
                self.info = getattr(source, "info", None)
                self.openings += 1
                self.trouble = None
                for frame in source:
                    self._keep(frame)
                    if self._closed.is_set():
                        return
                if not self._closed.is_set():
                    self.trouble = f"{self.label} stopped giving frames"
            except CameraError as error:
                if not self._closed.is_set():
                    self.trouble = f"{self.label} is lost ({error})"
            finally:
                with self._lock:
                    self._source = None
                source.close()
            self._closed.wait(self._retry_s)

    def _keep(self, frame) -> None:
        while True:
            try:
                self._frames.put_nowait(frame)
                return
            except queue.Full:
                try:
                    self._frames.get_nowait()  # the oldest goes
                except queue.Empty:
                    pass

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._source is not None:
                self._source.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


class SourcePair:
    """The side camera's and the camera above's frame sources, iterated as ``(side, back)`` pairs (:class:`Pairing`).

    Made by :func:`open_recording_pair` or :func:`open_camera_pair`; closing
    it closes both sources. ``back_label`` names the camera above in errors.
    With ``tolerant`` (the live station) a back that fails or ends leaves
    ``back`` None in the pairs and :attr:`back_trouble` says why.
    """

    def __init__(self, side, back, back_label: str, *, tolerant: bool = False):
        self.side, self.back, self.back_label = side, back, back_label
        self.tolerant = tolerant
        self.pairing: Pairing | None = None

    @property
    def info(self):
        """The side camera's :class:`~station.camera.SourceInfo`."""
        return self.side.info

    @property
    def back_trouble(self) -> str | None:
        """Why the camera above gives no frames now (one line), or None."""
        live = getattr(self.back, "trouble", None)
        return live or (self.pairing.trouble if self.pairing is not None else None)

    def __iter__(self) -> Iterator[tuple]:
        self.pairing = Pairing(self.back, period_s=1.0 / (self.side.info.fps or 30),
                               back_label=self.back_label, tolerant=self.tolerant)
        return _paired(self.side, self.pairing)

    def close(self) -> None:
        try:
            self.back.close()
        finally:
            self.side.close()

    def __enter__(self) -> "SourcePair":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_recording_pair(side_path, back_path, *, tolerant: bool = False, hardware_sync: bool = False,
                        **options) -> SourcePair:
    """Both recordings of a pair (:func:`station.camera.open_recording`'s ``options``, e.g. ``real_time``).

    ``tolerant``: as the live station reads them (:class:`SourcePair`).
    ``hardware_sync``: asked for as of live cameras; a playback has no sync
    option, so each source's ``info.sync_note`` says so.

    Raises
    ------
    RecordingError
        Either is missing or unreadable (the camera above's: :func:`open_back_recording`),
        or both are the same camera's.
    """
    side = open_recording(side_path, sync_mode=SYNC_MASTER if hardware_sync else None, **options)
    try:
        back = open_back_recording(back_path, sync_mode=SYNC_SLAVE if hardware_sync else None, **options)
    except BaseException:
        side.close()
        raise
    if back.info.serial and back.info.serial == side.info.serial:
        SourcePair(side, back, "").close()
        raise RecordingError(f"{back.info.path} is from the side camera itself (serial {back.info.serial}), not "
                             "from the camera above: name the camera above's recording")
    return SourcePair(side, back, back.info.path, tolerant=tolerant)


def open_camera_pair(camera, back_serial: str, *, filters=None, hardware_sync: bool = False,
                     retry_s: float = 1.0) -> SourcePair:
    """Both live cameras of a pair: one ``rs.pipeline`` each, by serial (librealsense's multi-camera way).

    ``camera`` is the ``[camera]`` settings (the side camera's serial and the
    depth mode both cameras stream in); ``back_serial`` is ``[setup]
    back_camera_serial``. Their frames pair by D400 global time, the host's
    clock, without a sync cable; with ``hardware_sync`` (a cable between
    their sync connectors) the side camera is made master and the camera
    above slave before either streams, the master started first.

    The side camera is opened here; the camera above on a thread of its own
    (:class:`LiveBack`), so a camera above that is missing or lost leaves
    the side camera measuring (the pair is tolerant; ``back_trouble`` says why).

    Raises
    ------
    NoCameraError, CameraError
        The side camera is not connected or will not stream.
    """
    mode = {"width": camera.width, "height": camera.height, "fps": camera.fps,
            "filters": filters or FilterSettings(), "frame_timeout_s": camera.frame_timeout_s}
    side = open_camera(serial=camera.serial, sync_mode=SYNC_MASTER if hardware_sync else None, **mode)
    label = f"the camera above ({back_serial})"
    back = LiveBack(lambda: open_camera(serial=back_serial, sync_mode=SYNC_SLAVE if hardware_sync else None, **mode),
                    label=label, period_s=1.0 / camera.fps, retry_s=retry_s)
    return SourcePair(side, back.start(), label, tolerant=True)


def open_back_recording(path, **options):
    """Open the camera above's recording of a pair (:func:`station.camera.open_recording`'s ``options``).

    Raises
    ------
    RecordingError
        It is missing (one line saying where a pair's second recording sits), or unreadable.
    """
    return open_recording(require_back_recording(path), **options)


def require_back_recording(path) -> Path:
    """``path`` as a Path if the camera above's recording is there; else a one-line RecordingError."""
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"the back camera's recording {path} is missing: a pair's second recording sits "
                             f"beside the first as NAME{BACK_SUFFIX}.db3")
    return path
