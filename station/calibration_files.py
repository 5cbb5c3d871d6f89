"""A calibration as a readable JSON file: :func:`save_calibration`, :func:`load_calibration`, :func:`calibration_json`.

The background images are kept as zlib-compressed, base64-encoded 16-bit
depth units; everything else is plain JSON. A file that cannot be read or
does not fit says so in one line (:class:`~station.errors.CalibrationError`).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from pathlib import Path

import numpy as np

from station.above_calibration import AboveCalibration
from station.calibration import MAD_TO_SIGMA
from station.calibration_model import Calibration
from station.errors import CalibrationError
from station.geometry import Intrinsics, Pose

__all__ = ["above_calibration_json", "calibration_json", "load_above_calibration", "load_calibration",
           "save_above_calibration", "save_calibration"]

_FORMAT = "wallhinge-calibration"
_VERSION = 1


def _encode_image(values: np.ndarray, unit_m: float) -> dict:
    data = np.ascontiguousarray(values, dtype="<u2").tobytes()
    return {"dtype": "uint16", "unit_m": unit_m, "encoding": "zlib+base64",
            "data": base64.b64encode(zlib.compress(data, 6)).decode("ascii")}


def _decode_image(field: dict, shape: tuple[int, int], name: str) -> np.ndarray:
    try:
        raw = zlib.decompress(base64.b64decode(field["data"], validate=True))
    except (binascii.Error, zlib.error, TypeError, ValueError):
        raise CalibrationError(f"{name} is damaged: calibrate again") from None
    if len(raw) != 2 * shape[0] * shape[1]:
        raise CalibrationError(f"{name} does not have the stream's {shape[1]}x{shape[0]} pixels: calibrate again")
    return np.frombuffer(raw, dtype="<u2").reshape(shape).astype(np.uint16)


def save_calibration(calibration: Calibration, path) -> None:
    """Write a calibration as a readable JSON file.

    The planes, pose, intrinsics, quality figures, source and date are plain
    fields; the background and its noise are uint16 images (depth units and
    half depth units, exactly as computed) compressed with zlib and base64
    encoded, in the same file.

    Raises
    ------
    CalibrationError
        The file cannot be written (e.g. its folder does not exist).
    """
    _write_text(Path(path), calibration_json(calibration))


def _write_text(path: Path, text: str) -> None:
    """Write a calibration's JSON text; a missing folder or a failed write is a one-line CalibrationError."""
    if not path.parent.is_dir():
        raise CalibrationError(f"cannot write {path}: folder {path.parent} does not exist")
    try:
        path.write_text(text)
    except OSError as error:
        raise CalibrationError(f"cannot write {path}: {error.strerror or error}") from None


def calibration_json(calibration: Calibration) -> str:
    """The JSON text :func:`save_calibration` writes (the station's store keeps it with each session)."""
    rotation = calibration.camera_pose.rotation
    translation = calibration.camera_pose.translation
    document = {
        "format": _FORMAT,
        "version": _VERSION,
        "source": calibration.source,
        "created": calibration.created,
        "frames_used": calibration.frames_used,
        **_camera_fields(calibration),
        # Planes in camera coordinates, n . p + d = 0, normals toward the camera.
        "planes_camera": {
            "floor": {"normal": rotation[1].tolist(), "offset_m": float(translation[1])},
            "wall": {"normal": rotation[2].tolist(), "offset_m": float(translation[2])},
        },
        "quality": {
            "floor_rms_mm": calibration.floor_rms_mm, "wall_rms_mm": calibration.wall_rms_mm,
            "floor_share": calibration.floor_share, "wall_share": calibration.wall_share,
            "planes_angle_deg": calibration.planes_angle_deg,
        },
    }
    return json.dumps(document, indent=2) + "\n"


def _camera_fields(calibration) -> dict:
    """The fields every camera's calibration file has: depth unit, intrinsics, pose and the empty scene's images.

    The background and its noise are uint16 images (depth units and half
    depth units, exactly as computed), compressed with zlib and base64 encoded.
    """
    unit = calibration.depth_unit_m
    noise_unit = MAD_TO_SIGMA * unit / 2.0
    return {
        "depth_unit_m": unit,
        "intrinsics": {name: getattr(calibration.intrinsics, name) for name in _INTRINSICS},
        "camera_pose_in_room": calibration.camera_pose.as_matrix().tolist(),
        "background_m": _encode_image(np.rint(calibration.background_m / unit), unit),
        "background_noise_m": {**_encode_image(np.rint(calibration.background_noise_m / noise_unit), noise_unit),
                               "note": "unit_m includes 1.4826 (MAD to sigma)"},
    }


def _read_camera_fields(document: dict):
    """The :func:`_camera_fields` of a file, checked: intrinsics, pose, depth unit (m), background and noise (m).

    Raises CalibrationError for a wrong field (the caller adds where it is).
    """
    intrinsics = Intrinsics(**_exact_fields(document["intrinsics"], _INTRINSICS, "intrinsics"))
    if (not all(isinstance(getattr(intrinsics, n), int) and getattr(intrinsics, n) > 0 for n in ("width", "height"))
            or not all(isinstance(getattr(intrinsics, n), (int, float)) for n in ("fx", "fy", "ppx", "ppy"))):
        raise CalibrationError("intrinsics must be positive whole sizes and numbers")
    pose = Pose.from_matrix(document["camera_pose_in_room"])
    rotation = pose.rotation
    if (not np.all(np.isfinite(pose.as_matrix())) or not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6)
            or not np.isclose(np.linalg.det(rotation), 1.0, atol=1e-6)):
        raise CalibrationError("camera_pose_in_room is not a rigid transform")
    unit = float(document["depth_unit_m"])
    if not unit > 0:
        raise CalibrationError("depth_unit_m must be above 0")
    shape = (intrinsics.height, intrinsics.width)
    background = _exact_fields(document["background_m"], ("dtype", "unit_m", "encoding", "data"), "background_m")
    noise = _exact_fields(document["background_noise_m"], ("dtype", "unit_m", "encoding", "data", "note"),
                          "background_noise_m")
    for name, field in (("background_m", background), ("background_noise_m", noise)):
        if field["dtype"] != "uint16" or field["encoding"] != "zlib+base64":
            raise CalibrationError(f"{name} must be zlib+base64 uint16")
    noise_unit = MAD_TO_SIGMA * unit / 2.0
    if not np.isclose(float(background["unit_m"]), unit) or not np.isclose(float(noise["unit_m"]), noise_unit):
        raise CalibrationError("the images' units do not match depth_unit_m")
    background_m = (_decode_image(background, shape, "background_m") * unit).astype(np.float32)
    noise_m = (_decode_image(noise, shape, "background_noise_m") * noise_unit).astype(np.float32)
    return intrinsics, pose, unit, background_m, noise_m


_INTRINSICS = ("width", "height", "fx", "fy", "ppx", "ppy")
_FIELDS = {"format", "version", "source", "created", "frames_used", "depth_unit_m", "intrinsics",
           "camera_pose_in_room", "planes_camera", "quality", "background_m", "background_noise_m"}
_QUALITY = ("floor_rms_mm", "wall_rms_mm", "floor_share", "wall_share", "planes_angle_deg")


def load_calibration(path) -> Calibration:
    """Read a calibration written by :func:`save_calibration`.

    Raises
    ------
    CalibrationError
        Missing file, not JSON, missing or unknown fields, wrong shapes or
        values; the message names the problem in one line.
    """
    path = Path(path)
    document = _read_document(path)
    try:
        return _from_document(document)
    except CalibrationError as error:
        raise CalibrationError(f"calibration {path}: {error}") from None


def _read_document(path: Path):
    """The JSON in ``path``; a missing, unreadable or non-JSON file is a one-line CalibrationError."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CalibrationError(f"calibration file not found: {path}; make one with wallhinge calibrate") from None
    except OSError as error:
        raise CalibrationError(f"cannot read calibration {path}: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CalibrationError(f"{path} is not a calibration file (not JSON): "
                               "make one with wallhinge calibrate") from None
    except RecursionError:  # JSON nested thousands deep: no calibration looks like that
        raise CalibrationError(f"{path} is not a calibration file (JSON nested too deep): "
                               "make one with wallhinge calibrate") from None


def _from_document(document) -> Calibration:
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise CalibrationError("not a wallhinge calibration file")
    missing = sorted(_FIELDS - set(document))
    unknown = sorted(set(document) - _FIELDS)
    if missing:
        raise CalibrationError(f"field {missing[0]!r} is missing: calibrate again")
    if unknown:
        raise CalibrationError(f"unknown field {unknown[0]!r}: this file is from another version; calibrate again")
    if document["version"] != _VERSION:
        raise CalibrationError(f"version {document['version']!r} is not supported (expected {_VERSION}): "
                               "calibrate again")
    try:
        intrinsics, pose, unit, background_m, noise_m = _read_camera_fields(document)
        rotation = pose.rotation
        planes = document["planes_camera"]
        _exact_fields(planes, ("floor", "wall"), "planes_camera")
        for name, axis in (("floor", 1), ("wall", 2)):
            plane = _exact_fields(planes[name], ("normal", "offset_m"), f"planes_camera.{name}")
            if (not np.allclose(np.asarray(plane["normal"], dtype=float), rotation[axis], atol=1e-6)
                    or not np.isclose(float(plane["offset_m"]), pose.translation[axis], atol=1e-6)):
                raise CalibrationError(f"planes_camera.{name} does not match camera_pose_in_room")
        quality = _exact_fields(document["quality"], _QUALITY, "quality")
        frames_used = document["frames_used"]
        if not isinstance(frames_used, int) or frames_used < 1:
            raise CalibrationError("frames_used must be a whole number above 0")
        if not isinstance(document["source"], str) or not isinstance(document["created"], str):
            raise CalibrationError("source and created must be strings")
        return Calibration(
            intrinsics=intrinsics, camera_pose=pose, depth_unit_m=unit,
            background_m=background_m, background_noise_m=noise_m,
            **{name: float(quality[name]) for name in _QUALITY},
            source=document["source"], created=document["created"], frames_used=frames_used,
        )
    except (TypeError, ValueError, KeyError) as error:
        if isinstance(error, CalibrationError):
            raise
        raise CalibrationError(f"a field has the wrong type or shape ({error}): calibrate again") from None


def _exact_fields(table, names, where: str) -> dict:
    if not isinstance(table, dict):
        raise CalibrationError(f"{where} must be a table of {', '.join(names)}")
    missing = [name for name in names if name not in table]
    unknown = sorted(set(table) - set(names))
    if missing:
        raise CalibrationError(f"field {where}.{missing[0]} is missing: calibrate again")
    if unknown:
        raise CalibrationError(f"unknown field {where}.{unknown[0]}: calibrate again")
    return table


# -- the camera above the drill spot (the pair side+wall-above) ------------------------------------

_ABOVE_FORMAT = "wallhinge-above-calibration"
_ABOVE_FIELDS = ("format", "version", "source", "depth_unit_m", "intrinsics", "camera_pose_in_room", "quality",
                 "background_m", "background_noise_m")
_ABOVE_QUALITY = ("floor_rms_mm", "edge_points")


def above_calibration_json(calibration) -> str:
    """The camera above's :class:`~station.above_calibration.AboveCalibration` as JSON text, as the side's is kept."""
    return json.dumps({
        "format": _ABOVE_FORMAT,
        "version": _VERSION,
        "source": calibration.source,
        **_camera_fields(calibration),
        "quality": {"floor_rms_mm": calibration.floor_rms_mm, "edge_points": calibration.edge_points},
    }, indent=1)


def save_above_calibration(calibration, path) -> None:
    """Write the camera above's calibration to ``path`` (:func:`above_calibration_json`).

    Raises
    ------
    CalibrationError
        The file cannot be written.
    """
    _write_text(Path(path), above_calibration_json(calibration))


def load_above_calibration(path):
    """Read the camera above's calibration written by :func:`save_above_calibration`.

    Raises
    ------
    CalibrationError
        Missing file, not JSON, a field missing, unknown or wrong: one line.
    """
    path = Path(path)
    document = _read_document(path)
    try:
        if not isinstance(document, dict) or document.get("format") != _ABOVE_FORMAT:
            raise CalibrationError("not a calibration of the camera above")
        _exact_fields(document, _ABOVE_FIELDS, "the file")
        if document["version"] != _VERSION:
            raise CalibrationError(f"version {document['version']!r} is not supported (expected {_VERSION})")
        intrinsics, pose, unit, background_m, noise_m = _read_camera_fields(document)
        quality = _exact_fields(document["quality"], _ABOVE_QUALITY, "quality")
        if not isinstance(document["source"], str):
            raise CalibrationError("source must be a string")
        return AboveCalibration(
            intrinsics=intrinsics, camera_pose=pose, depth_unit_m=unit,
            background_m=background_m, background_noise_m=noise_m,
            floor_rms_mm=float(quality["floor_rms_mm"]), edge_points=int(quality["edge_points"]),
            source=document["source"])
    except CalibrationError as error:
        raise CalibrationError(f"calibration of the camera above {path}: {error}: calibrate it again") from None
    except (TypeError, ValueError, KeyError) as error:
        raise CalibrationError(f"calibration of the camera above {path}: a field has the wrong type or shape "
                               f"({error}): calibrate it again") from None
