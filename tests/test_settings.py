"""The station's configuration: defaults, a TOML file, command-line overrides and bad files."""

from pathlib import Path

import pytest

from station.camera import FilterSettings
from station.errors import ConfigError
from station.faults import Thresholds
from station.feedback import PinMap
from station.reps import RepSettings
from station.scoring import Targets
from station.settings import TABLES, CameraSettings, Settings, StationSettings, load_settings, parse_override

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "wallhinge.example.toml"


def write(tmp_path, text, name="wallhinge.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


# -- defaults -------------------------------------------------------------------------

def test_without_a_file_every_table_has_its_documented_defaults():
    settings = load_settings()
    assert settings == Settings()
    assert settings.origin == "defaults"
    assert settings.camera == CameraSettings(serial=None, width=424, height=240, fps=30, frame_timeout_s=5.0)
    assert settings.filters == FilterSettings()
    assert settings.pins == PinMap(red=17, amber=27, green=22, buzzer=18, button=23)
    assert settings.thresholds == Thresholds()
    assert settings.targets == Targets(reps_per_set=12, sets=3)
    assert settings.reps == RepSettings()
    assert settings.station == StationSettings(data_dir="data", database="station.db",
                                               calibration="calibration.json", muted=False, end_hold_s=2.0,
                                               web_host="0.0.0.0", web_port=8080)
    assert settings.station.database_path == Path("data/station.db")
    assert settings.station.calibration_path == Path("data/calibration.json")


def test_the_example_file_loads_and_states_the_defaults():
    settings = load_settings(EXAMPLE)
    assert settings.origin == str(EXAMPLE)
    for table in TABLES:
        assert getattr(settings, table) == getattr(Settings(), table), table


def test_an_empty_file_is_the_defaults(tmp_path):
    assert load_settings(write(tmp_path, "")) == Settings(origin=str(tmp_path / "wallhinge.toml"))


# -- the file and the overrides ---------------------------------------------------------

def test_a_file_changes_only_the_keys_it_names(tmp_path):
    path = write(tmp_path, """
[camera]
serial = "012345678901"
fps = 15

[pins]
buzzer = 12

[thresholds]
touch_tolerance_mm = 30

[targets]
reps_per_set = 8
target_trunk_angle_deg = 45.0

[station]
data_dir = "/var/lib/wallhinge"
calibration = "/etc/wallhinge/calibration.json"
muted = true
""")
    settings = load_settings(path)
    assert settings.camera == CameraSettings(serial="012345678901", fps=15)
    assert settings.pins == PinMap(buzzer=12)
    assert settings.thresholds == Thresholds(touch_tolerance_mm=30)
    assert settings.targets == Targets(reps_per_set=8, target_trunk_angle_deg=45.0)
    assert settings.reps == RepSettings()
    assert settings.station.muted is True
    assert settings.station.database_path == Path("/var/lib/wallhinge/station.db")
    assert settings.station.calibration_path == Path("/etc/wallhinge/calibration.json")


def test_overrides_come_after_the_file(tmp_path):
    path = write(tmp_path, "[station]\nmuted = true\ndata_dir = 'here'\n[targets]\nsets = 2\n")
    settings = load_settings(path, overrides={"station": {"muted": False}, "targets": {"reps_per_set": 5}})
    assert settings.station.muted is False
    assert settings.station.data_dir == "here"
    assert settings.targets == Targets(reps_per_set=5, sets=2)
    assert settings.origin == f"{path} + overrides"


@pytest.mark.parametrize("text, expected", [
    ("station.muted=true", ("station", "muted", True)),
    ("camera.fps = 15", ("camera", "fps", 15)),
    ("thresholds.min_descent_s=1.2", ("thresholds", "min_descent_s", 1.2)),
    ("station.data_dir=/var/lib/wallhinge", ("station", "data_dir", "/var/lib/wallhinge")),
    ('camera.serial="0123"', ("camera", "serial", "0123")),
])
def test_an_override_is_read_as_toml_or_else_as_text(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["muted=true", "station.muted", ".muted=1", "station.=1", "a.b.c=1"])
def test_an_override_must_be_table_dot_key_equals_value(text):
    with pytest.raises(ConfigError, match="TABLE.KEY=VALUE"):
        parse_override(text)


def test_a_bad_override_is_named_as_such():
    with pytest.raises(ConfigError) as error:
        load_settings(overrides={"camera": {"fps": 7}})
    assert one_line(error).startswith("--set: camera.fps = 7 is refused")


# -- bad files ------------------------------------------------------------------------------

def test_an_unknown_key_is_refused_by_name(tmp_path):
    path = write(tmp_path, "[thresholds]\ntouch_tolerance = 25\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = one_line(error)
    assert message.startswith(f"{path}: unknown setting thresholds.touch_tolerance;")
    assert "touch_tolerance_mm" in message  # the known keys are listed


def test_an_unknown_table_is_refused_by_name(tmp_path):
    path = write(tmp_path, "[camra]\nfps = 15\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert one_line(error) == f"{path}: unknown table 'camra'; the tables are " \
                              "camera, filters, pins, thresholds, targets, reps, station, setup"


def test_a_top_level_key_is_refused(tmp_path):
    path = write(tmp_path, "muted = true\n")
    with pytest.raises(ConfigError, match="unknown top-level key 'muted'"):
        load_settings(path)


@pytest.mark.parametrize("text, key", [
    ("[thresholds]\ntouch_tolerance_mm = -5\n", "thresholds.touch_tolerance_mm = -5"),
    ("[camera]\nfps = 25\n", "camera.fps = 25"),
    ("[camera]\nwidth = '424'\n", "camera.width = '424'"),
    ("[station]\nmuted = 'yes'\n", "station.muted = 'yes'"),
    ("[station]\nweb_port = 70000\n", "station.web_port = 70000"),
    ("[targets]\nreps_per_set = 0\n", "targets.reps_per_set = 0"),
    ("[pins]\nred = 40\n", "pins.red = 40"),
    ("[reps]\nmin_rep_s = 0\n", "reps.min_rep_s = 0"),
    ("[thresholds]\ntouch_tolerance_mm = inf\n", "thresholds.touch_tolerance_mm = inf"),
    ("[thresholds]\nmin_descent_s = nan\n", "thresholds.min_descent_s = nan"),
    ("[thresholds]\nmax_knee_flexion_deg = 1e9\n", "thresholds.max_knee_flexion_deg = 1000000000.0"),
    ("[reps]\nenter_deg = 500\n", "reps.enter_deg = 500"),
    ("[reps]\nstall_s = 86400\n", "reps.stall_s = 86400"),
    ("[reps]\nmax_rate_deg_s = inf\n", "reps.max_rate_deg_s = inf"),
    ("[station]\nweb_host = '999.1.1.1'\n", "station.web_host = '999.1.1.1'"),
    ("[station]\nweb_host = 'http://station'\n", "station.web_host = 'http://station'"),
    ("[filters]\ndecimation = 9\n", "filters.decimation = 9"),
])
def test_a_bad_value_names_the_file_and_the_key(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert one_line(error).startswith(f"{path}: {key} is refused: ")


def test_values_refused_only_together_name_the_table(tmp_path):
    path = write(tmp_path, "[pins]\nred = 5\namber = 5\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = one_line(error)
    assert message.startswith(f"{path}: ")
    assert "pins.amber and pins.red are both BCM 5" in message


def test_a_table_that_is_not_a_table_is_refused(tmp_path):
    path = write(tmp_path, "camera = 5\n")
    with pytest.raises(ConfigError, match=r"camera must be a table \(\[camera\]\), not int"):
        load_settings(path)


def test_unreadable_toml_says_where(tmp_path):
    path = write(tmp_path, "[station]\nmuted = \n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = one_line(error)
    assert message.startswith(f"{path} is not valid TOML: ")
    assert "line 2" in message


def test_a_file_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00[station]")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path / "nowhere.toml")
    assert one_line(error) == f"configuration file not found: {tmp_path / 'nowhere.toml'}"


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings(tmp_path)


def test_the_setup_names_a_known_placement_and_drill_variant(tmp_path):
    settings = load_settings(write(tmp_path, '[setup]\nplacement = "side+wall-above"\ndrill_variant = "crossed"\n'))
    assert (settings.setup.placement, settings.setup.drill_variant) == ("side+wall-above", "crossed")
    with pytest.raises(ConfigError, match=r"setup.placement = 'behind the patient' is refused: .*side, side-high"):
        load_settings(write(tmp_path, '[setup]\nplacement = "behind the patient"\n'))


def test_a_two_camera_set_up_names_its_second_camera_by_serial(tmp_path):
    settings = load_settings(write(tmp_path, '[camera]\nserial = "111"\n[setup]\nplacement = "side+wall-above"\n'
                                             'back_camera_serial = "222"\n'))
    assert settings.setup.back_camera_serial == "222" and settings.setup.two_cameras
    assert load_settings().setup.back_camera_serial is None
    with pytest.raises(ConfigError, match=r"setup.back_camera_serial = '222' is refused: .*setup.placement 'side' "
                                          r"has one: use a two-camera placement \(side\+wall-above, side\+ceiling\)"):
        load_settings(write(tmp_path, '[setup]\nback_camera_serial = "222"\n'))
    with pytest.raises(ConfigError, match="back_camera_serial = 222 is refused: .*serial number as text"):
        load_settings(write(tmp_path, '[setup]\nplacement = "side+wall-above"\nback_camera_serial = 222\n'))
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, '[camera]\nserial = "111"\n[setup]\nplacement = "side+wall-above"\n'
                                      'back_camera_serial = "111"\n'))
    assert "setup.back_camera_serial = '111' is the side camera's (camera.serial)" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_speech_is_a_station_setting_with_the_old_environment_variable_as_a_fallback(tmp_path, monkeypatch):
    monkeypatch.delenv("WALLHINGE_KIOSK_SPEECH", raising=False)
    assert load_settings().station.speech is False
    monkeypatch.setenv("WALLHINGE_KIOSK_SPEECH", "true")  # a drop-in from before station.speech
    assert load_settings().station.speech is True
    path = tmp_path / "station.toml"
    path.write_text("[station]\nspeech = false\n")
    assert load_settings(path).station.speech is False  # the settings, when they say, win
    assert load_settings(overrides={"station": {"speech": False}}).station.speech is False
    with pytest.raises(ConfigError, match="station.speech_words_per_minute = 10 is refused"):
        load_settings(overrides={"station": {"speech_words_per_minute": 10}})


def test_hardware_sync_is_a_switch_for_two_cameras_only():
    from station.setup import SetupSettings

    assert SetupSettings().hardware_sync is False
    assert SetupSettings(placement="side+wall-above", hardware_sync=True).hardware_sync is True
    with pytest.raises(ValueError, match="setup.hardware_sync must be true or false, not 'yes'"):
        SetupSettings(placement="side+wall-above", hardware_sync="yes")
    with pytest.raises(ValueError, match="setup.hardware_sync joins two cameras by a sync cable"):
        SetupSettings(hardware_sync=True)
