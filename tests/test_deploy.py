"""deploy/: the scripts, the generated files, and the station under its unit's ExecStart semantics.

Everything here runs without a Raspberry Pi and without root: install.sh is
exercised through --dry-run and --files-only --root, the units through
``systemd-analyze verify``, the scripts through shellcheck, and the station
unit's start-up protocol with a stand-in process and a notification socket
bound by the test, as systemd would.

``systemd-run --user`` is not used: it needs systemd as PID 1 (or at least a
user manager and its bus), which containers and CI machines usually lack.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import sys
import time
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*.sh"))
UNITS = ("wallhinge-station.service", "wallhinge-backup.service", "wallhinge-backup.timer")


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


render = _load("wallhinge_deploy_render", DEPLOY / "render.py")
checks = _load("wallhinge_deploy_checks", DEPLOY / "checks.py")


def unit_entries(text: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as {section: [(key, value), ...]}, keeping repeated keys (Environment=) in order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def unit_value(text: str, section: str, key: str) -> str | None:
    values = [value for name, value in unit_entries(text).get(section, []) if name == key]
    return values[-1] if values else None


def rendered(name: str, **sets) -> str:
    values = render.resolve({key: str(value) for key, value in sets.items()})
    outputs = {output.name: output for output in render.plan(values)}
    return render.render(outputs[name], values)


def run_script(*args, env=None, check=True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", *map(str, args)], capture_output=True, text=True, env=env, timeout=120,
                            **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


# -- static checks ------------------------------------------------------------------------------

def test_every_script_passes_shellcheck(tmp_path):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    assert {path.name for path in SCRIPTS} >= {"install.sh", "uninstall.sh", "kiosk.sh", "backup.sh"}
    # The kiosk lines go into labwc's autostart, which runs as a sh script.
    autostart = tmp_path / "autostart"
    autostart.write_text(rendered("kiosk-autostart", desktop_user="pi", desktop_home="/home/pi"))
    result = subprocess.run(["shellcheck", "--severity=style", *map(str, SCRIPTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(["shellcheck", "--shell=sh", str(autostart)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("sets", [{}, {"https": "no", "web_port": "9090", "backup_keep_days": "7"}])
def test_systemd_analyze_verify_passes_on_every_unit(tmp_path, sets):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    prefix, data = tmp_path / "opt", tmp_path / "data"
    for executable in (prefix / "venv/bin/wallhinge", prefix / "bin/wallhinge-backup"):
        executable.parent.mkdir(parents=True, exist_ok=True)
        executable.symlink_to(shutil.which("true"))
    data.mkdir()
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS:
        (units / unit).write_text(rendered(unit, prefix=prefix, data_dir=data, **sets))
    result = subprocess.run(["systemd-analyze", "verify", *UNITS], cwd=units, capture_output=True, text=True,
                            timeout=60)
    # verify exits 0 on mere warnings (an unknown key, a value it cannot parse): they count too.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_templates_leave_no_placeholder_and_refuse_unknown_ones(tmp_path, monkeypatch):
    values = render.resolve({"desktop_user": "pi", "desktop_home": "/home/pi"})
    names = set()
    for output in render.plan(values):
        text = render.render(output, values)
        names.add(output.name)
        assert "@{" not in text, output.name
    assert names >= {"config", "backup-conf", *UNITS, "journald", "nginx", "kiosk-autostart", "kiosk-script",
                     "backup-script", "check-script"}
    # nginx's own variables pass through untouched.
    assert "$host" in render.render_template("nginx-wallhinge.conf", values)
    (tmp_path / "bad.conf").write_text("a=@{no_such_value}\n")
    monkeypatch.setattr(render, "TEMPLATES", tmp_path)
    with pytest.raises(render.RenderError, match="no_such_value"):
        render.render_template("bad.conf", values)


# -- what the units say -------------------------------------------------------------------------

def test_station_unit_is_notify_with_watchdog_restart_and_hardening():
    text = rendered("wallhinge-station.service")
    service = dict(unit_entries(text)["Service"])
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["WatchdogSec"] == "10"
    assert service["Restart"] == "on-failure"
    assert service["RestartSec"] == "2"
    assert service["RestartForceExitStatus"] == "0"
    assert unit_value(text, "Unit", "StartLimitIntervalSec") == "0"
    assert service["ExecStart"] == "/opt/wallhinge/venv/bin/wallhinge run --config /etc/wallhinge/wallhinge.toml"
    assert service["User"] == "wallhinge"
    assert service["WorkingDirectory"] == "/var/lib/wallhinge"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/wallhinge"
    for key in ("PrivateTmp", "NoNewPrivileges", "ProtectHome"):
        assert service[key] == "yes", key
    environment = [value for key, value in unit_entries(text)["Service"] if key == "Environment"]
    assert "GPIOZERO_PIN_FACTORY=lgpio" in environment
    # The camera (libusb), pins and sound are devices: they must stay visible.
    assert "PrivateDevices" not in service and "DevicePolicy" not in service
    assert "AF_NETLINK" in service["RestrictAddressFamilies"]
    assert unit_value(text, "Install", "WantedBy") == "multi-user.target"


def test_the_station_unit_serves_the_dashboard_and_kiosk_itself():
    # No separate web service: `wallhinge run` serves them (wallhinge/in_station.py).
    values = render.resolve({"desktop_user": "pi", "desktop_home": "/home/pi"})
    assert not any("wallhinge-web" in output.dest for output in render.plan(values))
    assert not (DEPLOY / "templates/wallhinge-web.service").exists()
    assert render.RETIRED_UNITS == ("wallhinge-web.service",)
    text = rendered("wallhinge-station.service")
    service = dict(unit_entries(text)["Service"])
    assert "--no-web" not in service["ExecStart"]
    assert "network.target" in unit_value(text, "Unit", "After").split()
    # It may listen on the web port: TCP sockets allowed, no network sandbox.
    assert {"AF_INET", "AF_INET6", "AF_UNIX"} <= set(service["RestrictAddressFamilies"].split())
    for key in ("PrivateNetwork", "IPAddressDeny", "IPAddressAllow", "SocketBindDeny", "SocketBindAllow"):
        assert key not in service, key
    # The kiosk's speech (espeak-ng in this process) reaches /dev/snd through the audio group.
    assert "PrivateDevices" not in service and "SupplementaryGroups" not in service
    assert "WALLHINGE_KIOSK_SPEECH=true" not in [value for key, value in unit_entries(text)["Service"]
                                                 if key == "Environment"]  # speech stays off by default
    # nginx, the configuration and the kiosk agree on the station's port, on this machine only.
    values = render.resolve({"desktop_user": "pi", "desktop_home": "/home/pi", "web_port": "8123"})
    outputs = {output.name: output for output in render.plan(values)}
    assert "proxy_pass http://127.0.0.1:8123;" in render.render(outputs["nginx"], values)
    assert "http://localhost:8123/kiosk &" in render.render(outputs["kiosk-autostart"], values)
    station = tomllib.loads(render.render(outputs["config"], values))["station"]
    assert (station["web_host"], station["web_port"]) == ("127.0.0.1", 8123)


def test_backup_timer_and_service():
    timer = rendered("wallhinge-backup.timer", backup_time="02:30")
    assert unit_value(timer, "Timer", "OnCalendar") == "*-*-* 02:30"
    assert unit_value(timer, "Timer", "Persistent") == "true"
    assert unit_value(timer, "Install", "WantedBy") == "timers.target"
    service = rendered("wallhinge-backup.service")
    assert unit_value(service, "Service", "Type") == "oneshot"
    assert unit_value(service, "Service", "ExecStart") == (
        "/opt/wallhinge/bin/wallhinge-backup --config /etc/wallhinge/wallhinge.toml --venv /opt/wallhinge/venv "
        "--dir /var/lib/wallhinge/backups")
    assert unit_value(service, "Service", "EnvironmentFile") == "-/etc/wallhinge/backup.conf"
    assert unit_value(service, "Service", "User") == "wallhinge"
    assert "WALLHINGE_BACKUP_KEEP_DAYS=14" in rendered("backup-conf", backup_keep_days=14)


def test_journald_is_bounded_and_persistent():
    text = rendered("journald")
    assert unit_value(text, "Journal", "SystemMaxUse") == "200M"
    assert unit_value(text, "Journal", "Storage") == "persistent"


def test_nginx_terminates_tls_in_front_of_waitress():
    text = rendered("nginx", web_port=8081, https_port=8443)
    assert "listen 8443 ssl default_server;" in text
    assert "proxy_pass http://127.0.0.1:8081;" in text
    assert "ssl_certificate /etc/wallhinge/tls/station.crt;" in text
    assert "ssl_certificate_key /etc/wallhinge/tls/station.key;" in text
    assert "proxy_buffering off;" in text  # server-sent events
    assert "return 301 https://$host:8443$request_uri;" in text
    assert "Strict-Transport-Security \"" not in text
    assert "return 301 https://$host$request_uri;" in rendered("nginx")


def test_nginx_sends_exactly_the_forwarding_headers_waitress_trusts_from_it():
    from web.serve import TRUSTED_PROXY, TRUSTED_PROXY_COUNT, TRUSTED_PROXY_HEADERS
    text = rendered("nginx", web_port=8081)
    assert f"proxy_pass http://{TRUSTED_PROXY}:8081;" in text
    sent = {line.split()[1].lower() for line in text.splitlines()
            if line.strip().startswith("proxy_set_header X-Forwarded") or line.strip().startswith("proxy_set_header Forwarded")}
    assert sent == set(TRUSTED_PROXY_HEADERS)
    # One proxy, and it overwrites the client's own header rather than appending to it.
    assert TRUSTED_PROXY_COUNT == 1 and "proxy_set_header X-Forwarded-For $remote_addr;" in text


def test_kiosk_autostart_and_script():
    block = rendered("kiosk-autostart", desktop_user="pi", desktop_home="/home/pi", web_port=8081)
    assert "/opt/wallhinge/bin/wallhinge-kiosk http://localhost:8081/kiosk &" in block
    assert block.startswith(render.KIOSK_BEGIN) and block.rstrip().endswith(render.KIOSK_END)
    script = (DEPLOY / "kiosk.sh").read_text()
    for flag in ("--kiosk", "--noerrdialogs", "--disable-session-crashed-bubble", "--disable-infobars",
                 "--no-first-run", "--ozone-platform=wayland", "--touch-events=enabled",
                 "--disable-features=Translate", "--password-store=basic"):
        assert flag in script, flag


def test_configuration_is_the_documented_example_with_this_stations_paths(tmp_path):
    from station.settings import load_settings

    path = tmp_path / "wallhinge.toml"
    path.write_text(rendered("config"))
    settings = load_settings(path)
    assert settings.station.data_dir == "/var/lib/wallhinge"
    assert settings.station.web_host == "127.0.0.1" and settings.station.web_port == 8080
    assert settings.station.database_path == Path("/var/lib/wallhinge/station.db")
    # Everything else as documented in the example (tests/test_settings.py holds it to the defaults).
    example = load_settings(DEPLOY / "wallhinge.example.toml")
    for table in ("camera", "filters", "pins", "thresholds", "targets", "reps"):
        assert getattr(settings, table) == getattr(example, table), table
    assert (settings.station.muted, settings.station.end_hold_s) == (example.station.muted,
                                                                    example.station.end_hold_s)
    # Without nginx the dashboard listens on the network itself.
    path.write_text(rendered("config", https="no", web_port=9000))
    plain = load_settings(path).station
    assert (plain.web_host, plain.web_port) == ("0.0.0.0", 9000)
    assert "nginx" not in {output.name for output in render.plan(render.resolve({"https": "no"}))}


def test_an_existing_configuration_decides_paths_and_port(tmp_path):
    config = tmp_path / "etc/wallhinge/wallhinge.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[station]\ndata_dir = "/srv/hinge"\ndatabase = "/mnt/usb/station.db"\nweb_port = 9090\n')
    values = render.resolve({"desktop_user": "pi", "desktop_home": "/home/pi"}, root=tmp_path)
    assert values["config_source"] == "/etc/wallhinge/wallhinge.toml"
    assert values["data_dir"] == "/srv/hinge" and values["kiosk_url"] == "http://localhost:9090/kiosk"
    assert values["write_paths"] == "/srv/hinge /mnt/usb"
    outputs = {output.name: output for output in render.plan(values)}
    assert "ReadWritePaths=/srv/hinge /mnt/usb" in render.render(outputs["wallhinge-station.service"], values)
    assert "proxy_pass http://127.0.0.1:9090;" in render.render(outputs["nginx"], values)
    config.write_text('[station]\ndata_dir = "data"\n')
    with pytest.raises(render.RenderError, match="absolute"):
        render.resolve(root=tmp_path)
    config.write_text("[station\n")
    with pytest.raises(render.RenderError, match="not valid TOML"):
        render.resolve(root=tmp_path)


@pytest.mark.parametrize("sets, message", [
    ({"no_such": "1"}, "unknown setting"),
    ({"web_port": "80000"}, "port number"),
    ({"https_port": "8080"}, "taken"),
    ({"prefix": "opt/wallhinge"}, "absolute"),
    ({"backup_keep_days": "0"}, "backup_keep_days"),
    ({"backup_time": "3am"}, "HH:MM"),
    ({"user": "Wall Hinge"}, "user"),
    ({"desktop_home": "/home/pi"}, "desktop_user"),
    ({"librealsense_tag": "master"}, "release tag"),
])
def test_bad_values_are_refused_by_name(sets, message):
    with pytest.raises(render.RenderError, match=message):
        render.resolve(sets)


def test_kiosk_block_merges_into_a_users_autostart_and_comes_out_again():
    block = rendered("kiosk-autostart", desktop_user="pi", desktop_home="/home/pi")
    users = "/usr/bin/kanshi &\nmy-own-thing &\n"
    merged = render.merge_block(users, block)
    assert merged.startswith(users) and block.strip() in merged
    again = render.merge_block(merged, block.replace("8080", "9090"))
    assert again.count(render.KIOSK_BEGIN) == 1 and "9090" in again and "8080" not in again
    assert render.remove_block(again) == users
    assert render.remove_block(render.merge_block("", block)) == ""


# -- install.sh ---------------------------------------------------------------------------------

def test_dry_run_prints_every_action_and_changes_nothing(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    station_paths = ("/etc/wallhinge", "/opt/wallhinge", "/etc/systemd/system/wallhinge-station.service",
                     "/var/lib/wallhinge")
    existed = {path: Path(path).exists() for path in station_paths}
    result = run_script(DEPLOY / "install.sh", "--dry-run", "--root", root, "--desktop-user", "pi",
                        "--desktop-home", "/home/pi")
    out = result.stdout
    expected = [
        "== 1/12", "== 12/12", "would check the network",
        # packages
        "python3-venv", "python3-dev", "build-essential", "libusb-1.0-0-dev", "libssl-dev", "cmake",
        "python3-lgpio", "espeak-ng", "sqlite3", "openssl", "nginx", "chromium",
        # librealsense, pinned, with its build options
        f"--branch {render.LIBREALSENSE_TAG}", "-DFORCE_RSUSB_BACKEND=ON", "-DBUILD_PYTHON_BINDINGS=ON",
        "-DPYTHON_EXECUTABLE=/usr/bin/python3", "-DCMAKE_BUILD_TYPE=Release", "about an hour on a Pi 4",
        # udev
        "99-realsense-libusb.rules", "udevadm control --reload-rules",
        # user and groups (the user may exist already on a developer's station)
        "usermod --append --groups gpio\\,plugdev\\,video\\,audio",
        # venv
        "-m venv --system-site-packages", "pip install",
        # config and units
        f"would write {root}/etc/wallhinge/wallhinge.toml",
        *(f"would write {root}/etc/systemd/system/{unit}" for unit in UNITS),
        f"would write {root}/etc/systemd/journald.conf.d/wallhinge.conf",
        # HTTPS
        "openssl req -x509", "nginx -t",
        # kiosk
        f"would write {root}/home/pi/.config/labwc/autostart", "raspi-config nonint do_blanking 1",
        "raspi-config nonint do_boot_behaviour B4",
        # services and the backup timer
        "systemctl enable wallhinge-station.service wallhinge-backup.timer",
        "systemctl restart --no-block wallhinge-station.service",
        # the first-run set-up token for the dashboard's first account
        "wallhinge setup-token --config /etc/wallhinge/wallhinge.toml",
        "dry run finished: nothing was changed",
    ]
    for text in expected:
        assert text in out, f"{text!r} missing from the dry run:\n{out}"
    assert "wallhinge-web" not in out  # a fresh install has no earlier web unit to retire
    assert "useradd --system" in out or "user wallhinge exists" in out
    assert tree(root) == []
    assert {path: Path(path).exists() for path in station_paths} == existed


def test_an_upgrade_retires_the_separate_web_unit(tmp_path):
    """A station of an earlier release had wallhinge-web.service: disabled, then its file deleted."""
    root = tmp_path / "root"
    old_unit = root / "etc/systemd/system/wallhinge-web.service"
    old_unit.parent.mkdir(parents=True)
    old_unit.write_text("[Service]\nExecStart=/opt/wallhinge/venv/bin/wallhinge web\n")
    who = ("--desktop-user", "pi", "--desktop-home", "/home/pi")
    before = tree(root)
    out = run_script(DEPLOY / "install.sh", "--dry-run", "--root", root, *who).stdout
    disable = out.index("would run: systemctl disable --now wallhinge-web.service")
    remove = out.index(f"would remove {old_unit}")
    restart = out.index("would run: systemctl restart --no-block wallhinge-station.service")
    assert disable < remove < restart
    assert tree(root) == before
    out = run_script(DEPLOY / "install.sh", "--files-only", "--root", root, *who).stdout
    assert f"remove      {old_unit} (a unit of an earlier release)" in out
    assert not old_unit.exists() and (root / "etc/systemd/system/wallhinge-station.service").exists()
    # An install never upgraded: uninstall.sh stops and removes it too.
    old_unit.write_text("[Service]\nExecStart=/opt/wallhinge/venv/bin/wallhinge web\n")
    out = run_script(DEPLOY / "uninstall.sh", "--dry-run", "--root", root, *who).stdout
    assert "would run: systemctl disable --now wallhinge-web.service" in out
    assert f"would remove {old_unit}" in out and old_unit.exists()
    run_script(DEPLOY / "uninstall.sh", "--files-only", "--root", root, *who)
    assert not old_unit.exists()


def test_dry_run_needs_no_root():
    deploy = DEPLOY
    if os.geteuid() != 0:
        command = ["bash"]
    else:
        command = ["runuser", "-u", "nobody", "--", "bash"]
        if shutil.which("runuser") is None:
            pytest.skip("running as root, and runuser (util-linux) is missing to run it as another user")
        readable = subprocess.run([*command, "-c", f"test -r {shlex.quote(str(DEPLOY / 'render.py'))}"],
                                  capture_output=True)
        if readable.returncode != 0:
            # A clone under /root (as CI makes it): a world-readable copy of what the dry run reads.
            copy = Path(tempfile.mkdtemp(prefix="wallhinge-dry-run-"))
            copy.chmod(0o755)
            shutil.copytree(DEPLOY, copy / "deploy")
            shutil.copy(DEPLOY.parent / "pyproject.toml", copy)
            deploy = copy / "deploy"
    root = "/nonexistent/wallhinge-dry-run"
    try:
        result = subprocess.run([*command, str(deploy / "install.sh"), "--dry-run", "--root", root, "--no-kiosk"],
                                capture_output=True, text=True, timeout=120, cwd="/",
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"})
    finally:
        if deploy is not DEPLOY:
            shutil.rmtree(deploy.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run finished" in result.stdout and not Path(root).exists()


def test_refuses_a_real_install_elsewhere_than_root(tmp_path):
    result = run_script(DEPLOY / "install.sh", "--root", tmp_path, check=False)
    assert result.returncode == 1
    assert "--root is for --files-only or --dry-run" in result.stderr
    assert run_script(DEPLOY / "install.sh", "--bogus", check=False).returncode == 2


def test_files_only_writes_the_configuration_once_and_keeps_the_clinics(tmp_path):
    root = tmp_path / "root"
    home = root / "home/pi"
    (home / ".config/labwc").mkdir(parents=True)
    (home / ".config/labwc/autostart").write_text("/usr/bin/kanshi &\n")
    args = (DEPLOY / "install.sh", "--files-only", "--root", root, "--desktop-user", "pi", "--desktop-home",
            "/home/pi")
    first = run_script(*args).stdout
    config = root / "etc/wallhinge/wallhinge.toml"
    assert f"write       {config}" in first
    assert config.read_text() == rendered("config")
    assert oct(config.stat().st_mode & 0o777) == oct(0o640)
    assert (root / "var/lib/wallhinge/backups").is_dir()
    for unit in UNITS:
        assert (root / "etc/systemd/system" / unit).read_text() == rendered(unit)
    assert os.access(root / "opt/wallhinge/bin/wallhinge-kiosk", os.X_OK)

    # The clinic changes its configuration (a port), someone edits a unit by hand.
    clinic = config.read_text().replace("web_port = 8080", "web_port = 8090") + "# the clinic's note\n"
    config.write_text(clinic)
    station_unit = root / "etc/systemd/system/wallhinge-station.service"
    station_unit.write_text("tampered\n")
    second = run_script(*args).stdout
    assert f"keep        {config} (exists; never overwritten)" in second
    assert config.read_text() == clinic
    assert station_unit.read_text() == rendered("wallhinge-station.service", web_port=8090)  # it serves there
    autostart = (home / ".config/labwc/autostart").read_text()
    assert autostart.startswith("/usr/bin/kanshi &\n")
    assert autostart.count(render.KIOSK_BEGIN) == 1
    assert "wallhinge-kiosk http://localhost:8090/kiosk &" in autostart  # follows the clinic's port
    assert "proxy_pass http://127.0.0.1:8090;" in (root / "etc/nginx/sites-available/wallhinge").read_text()
    third = run_script(*args).stdout
    assert "write  " not in third  # nothing left to change


def test_uninstall_takes_away_what_install_wrote_and_keeps_the_data(tmp_path):
    root = tmp_path / "root"
    (root / "home/pi/.config/labwc").mkdir(parents=True)
    (root / "home/pi/.config/labwc/autostart").write_text("/usr/bin/kanshi &\n")
    who = ("--desktop-user", "pi", "--desktop-home", "/home/pi")
    run_script(DEPLOY / "install.sh", "--files-only", "--root", root, *who)
    (root / "var/lib/wallhinge/station.db").write_text("data")
    before = tree(root)
    dry = run_script(DEPLOY / "uninstall.sh", "--files-only", "--dry-run", "--root", root, *who).stdout
    assert "would remove" in dry and tree(root) == before
    run_script(DEPLOY / "uninstall.sh", "--files-only", "--root", root, *who)
    assert not (root / "etc/systemd/system/wallhinge-station.service").exists()
    assert not (root / "opt/wallhinge").exists()
    assert (root / "etc/wallhinge/wallhinge.toml").exists()
    assert (root / "var/lib/wallhinge/station.db").read_text() == "data"
    assert (root / "home/pi/.config/labwc/autostart").read_text() == "/usr/bin/kanshi &\n"
    run_script(DEPLOY / "uninstall.sh", "--files-only", "--purge", "--root", root, *who)
    assert not (root / "etc/wallhinge").exists() and not (root / "var/lib/wallhinge").exists()


# -- the station under its unit's ExecStart semantics ------------------------------------------

STAND_IN = """#!{python}
# A stand-in for `wallhinge run`: the notification protocol of the real session loop.
import json, os, signal, sys, time
from station import systemd_notify

with open(os.environ["STAND_IN_REPORT"], "w") as report:
    json.dump({{"argv": sys.argv[1:], "cwd": os.getcwd(), "pid": os.getpid(),
               "pin_factory": os.environ.get("GPIOZERO_PIN_FACTORY"),
               "watchdog_interval_s": systemd_notify.watchdog_interval_s()}}, report)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
time.sleep(0.3)                      # opening the camera
systemd_notify.ready("first frame")  # after the first depth frame
heartbeat = systemd_notify.Heartbeat()
while not stop:                      # the frame loop
    heartbeat.beat()
    time.sleep(1 / 30)
systemd_notify.stopping()
"""


class NotifySocket:
    """A datagram socket like systemd's, reporting each message with its sender's pid."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(str(path))

    def receive(self, timeout_s: float) -> tuple[str, int | None]:
        self.sock.settimeout(timeout_s)
        data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("iII")))
        pid = None
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:struct.calcsize("iII")])[0]
        return data.decode(), pid

    def wait_for(self, line: str, timeout_s: float) -> tuple[float, int | None]:
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {line} within {timeout_s} s")
            try:
                message, pid = self.receive(left)
            except socket.timeout:
                raise AssertionError(f"no {line} within {timeout_s} s") from None
            if line in message.split("\n"):
                return time.monotonic(), pid

    def close(self):
        self.sock.close()


def test_station_unit_execstart_sends_ready_then_watchdog(tmp_path):
    import json

    prefix, data = tmp_path / "opt", tmp_path / "data"
    (prefix / "venv/bin").mkdir(parents=True)
    data.mkdir()
    stand_in = prefix / "venv/bin/wallhinge"
    stand_in.write_text(STAND_IN.format(python=sys.executable))
    stand_in.chmod(0o755)
    unit = rendered("wallhinge-station.service", prefix=prefix, data_dir=data)
    service = unit_entries(unit)["Service"]
    settings = dict(service)
    assert settings["Type"] == "notify" and settings["NotifyAccess"] == "main"

    # What systemd does for Type=notify with WatchdogSec=: the unit's environment,
    # NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID (the main process), WorkingDirectory.
    watchdog_s = float(settings["WatchdogSec"])
    start_timeout_s = min(float(settings["TimeoutStartSec"]), 20.0)
    notify = NotifySocket(tmp_path / "notify.sock")
    report = tmp_path / "report.json"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO),
           "NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": str(int(watchdog_s * 1e6)),
           "STAND_IN_REPORT": str(report)}
    for key, value in service:
        if key == "Environment":
            name, _, setting = value.partition("=")
            env[name] = setting
    argv = shlex.split(settings["ExecStart"])
    process = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh", *argv],
                               cwd=settings["WorkingDirectory"], env=env, start_new_session=True)
    try:
        started = time.monotonic()
        ready_at, ready_pid = notify.wait_for("READY=1", start_timeout_s)
        first_ping, ping_pid = notify.wait_for("WATCHDOG=1", watchdog_s)
        second_ping, _ = notify.wait_for("WATCHDOG=1", watchdog_s)
        assert ready_at - started < start_timeout_s
        assert second_ping - first_ping < watchdog_s / 2  # pinged well within the watchdog period
        assert ready_pid == ping_pid == process.pid  # NotifyAccess=main: from the main process itself
        process.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING=1", float(settings["TimeoutStopSec"]))
        assert process.wait(timeout=float(settings["TimeoutStopSec"])) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        notify.close()
    seen = json.loads(report.read_text())
    assert seen["argv"] == ["run", "--config", "/etc/wallhinge/wallhinge.toml"]
    assert seen["cwd"] == str(data)
    assert seen["pin_factory"] == "lgpio"
    assert seen["watchdog_interval_s"] == pytest.approx(watchdog_s / 2)


# -- kiosk.sh -----------------------------------------------------------------------------------

def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_kiosk_relaunches_the_browser_and_clears_the_restore_bubble(tmp_path):
    stubs, runtime = tmp_path / "bin", tmp_path / "run"
    stubs.mkdir()
    runtime.mkdir()
    calls = tmp_path / "calls"
    _stub(stubs, "chromium", f'echo "$*" >> {calls}\nexit 1\n')
    _stub(stubs, "curl", "exit 0\n")
    _stub(stubs, "logger", f'echo "$*" >> {tmp_path / "log"}\n')
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    preferences = profile / "Default/Preferences"
    preferences.write_text('{"profile":{"exit_type":"Crashed","exited_cleanly":false}}')
    env = {"PATH": f"{stubs}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(runtime), "WALLHINGE_KIOSK_PROFILE": str(profile),
           "WALLHINGE_KIOSK_RETRY_S": "0.05"}
    process = subprocess.Popen(["bash", str(DEPLOY / "kiosk.sh"), "http://localhost:8081/kiosk"], env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (not calls.exists() or len(calls.read_text().splitlines()) < 3):
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    launches = calls.read_text().splitlines()
    assert len(launches) >= 3, "the browser was not started again after it exited"
    flags = launches[0].split()
    for flag in ("--kiosk", "--noerrdialogs", "--disable-session-crashed-bubble", "--disable-infobars",
                 "--no-first-run", "--ozone-platform=wayland", "--touch-events=enabled",
                 f"--user-data-dir={profile}"):
        assert flag in flags, flag
    assert flags[-1] == "http://localhost:8081/kiosk"
    assert '"exited_cleanly":true' in preferences.read_text()
    assert '"exit_type":"Normal"' in preferences.read_text()
    assert "starting it again" in (tmp_path / "log").read_text()


def test_kiosk_ends_with_the_desktop_session(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    _stub(stubs, "chromium", f'echo started >> {tmp_path / "calls"}\n')
    _stub(stubs, "curl", "exit 0\n")
    _stub(stubs, "logger", "exit 0\n")
    env = {"PATH": f"{stubs}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "wayland-gone"}
    result = subprocess.run(["bash", str(DEPLOY / "kiosk.sh")], env=env, capture_output=True, text=True,
                            timeout=20)
    assert result.returncode == 0
    assert not (tmp_path / "calls").exists()


# -- backup.sh ----------------------------------------------------------------------------------

def _fake_venv(folder: Path) -> Path:
    """A venv-shaped folder whose python and wallhinge run this checkout."""
    (folder / "bin").mkdir(parents=True)
    _stub(folder / "bin", "python", f'PYTHONPATH={REPO} exec {sys.executable} "$@"\n')
    _stub(folder / "bin", "wallhinge", f'PYTHONPATH={REPO} exec {sys.executable} -m wallhinge.cli "$@"\n')
    return folder


def test_backup_copies_the_database_and_keeps_the_days_asked(tmp_path):
    from station.store import open_store

    data = tmp_path / "data"
    (data / "backups").mkdir(parents=True)
    config = tmp_path / "wallhinge.toml"
    config.write_text(f'[station]\ndata_dir = "{data}"\n')
    venv = _fake_venv(tmp_path / "venv")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "WALLHINGE_BACKUP_KEEP_DAYS": "30"}

    nothing = run_script(DEPLOY / "backup.sh", "--config", config, "--venv", venv, env=env)
    assert "nothing to back up" in nothing.stdout

    open_store(data / "station.db").close()
    today = dt.date.today()
    days = {age: (today - dt.timedelta(days=age)).isoformat() for age in (40, 30, 29, 1)}
    for day in days.values():
        (data / "backups" / f"{day}.db").write_text("old")
    (data / "backups/pre-upgrade-20260101-000000-from-v1.db").write_text("keep")
    run_script(DEPLOY / "backup.sh", "--config", config, "--venv", venv, env=env)
    left = sorted(path.name for path in (data / "backups").iterdir())
    assert left == sorted([f"{days[29]}.db", f"{days[1]}.db", f"{today.isoformat()}.db",
                           "pre-upgrade-20260101-000000-from-v1.db"])
    copy = sqlite3.connect(data / "backups" / f"{today.isoformat()}.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()

    bad = run_script(DEPLOY / "backup.sh", "--config", config, "--venv", venv, "--keep-days", "0", check=False)
    assert bad.returncode == 1 and "days to keep" in bad.stderr


# -- checks.py ----------------------------------------------------------------------------------

def test_the_usb_judgement_is_the_stations_own(tmp_path):
    from station import camera

    # One implementation: wallhinge-check prints what the station logs (tests/test_camera.py tests it).
    assert checks.usb_warning is camera.usb_warning
    # So the installed check runs on the station's venv Python, which has the station.
    prefix = tmp_path / "opt"
    _fake_venv(prefix / "venv")
    script = prefix / "bin/wallhinge-check"
    script.parent.mkdir(parents=True)
    script.write_text(rendered("check-script", prefix=prefix))
    script.chmod(0o755)
    assert script.read_text().splitlines()[0] == f"#!{prefix}/venv/bin/python"
    assert script.read_text().partition("\n")[2] == (DEPLOY / "checks.py").read_text().partition("\n")[2]
    result = subprocess.run([str(script), "power"], capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert result.returncode in (0, 1) and result.stdout.startswith(("ok: power:", "warning: power:")), \
        result.stdout + result.stderr


@pytest.mark.parametrize("model, current, enabled, warns", [
    ("Raspberry Pi 5 Model B Rev 1.0", 3000, False, True),
    ("Raspberry Pi 5 Model B Rev 1.0", None, None, True),
    ("Raspberry Pi 5 Model B Rev 1.0", 5000, False, False),
    ("Raspberry Pi 5 Model B Rev 1.0", 3000, True, False),
    ("Raspberry Pi 4 Model B Rev 1.5", 3000, False, False),
    ("", None, None, False),
])
def test_pi5_power_warning(model, current, enabled, warns):
    warning = checks.pi5_power_warning(model, current, enabled)
    assert (warning is not None) == warns
    if warns:
        assert "600 mA" in warning and "5 A" in warning and "usb_max_current_enable=1" in warning


def test_reading_the_board_and_its_supply(tmp_path):
    assert checks.read_model(tmp_path) == "" and checks.read_supply_max_current_ma(tmp_path) is None
    power = tmp_path / "proc/device-tree/chosen/power"
    power.mkdir(parents=True)
    (tmp_path / "proc/device-tree/model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\0")
    (power / "max_current").write_bytes((3000).to_bytes(4, "big"))
    assert checks.read_model(tmp_path) == "Raspberry Pi 5 Model B Rev 1.0"
    assert checks.read_supply_max_current_ma(tmp_path) == 3000

    def vcgencmd(stdout):
        return lambda *args, **kwargs: subprocess.CompletedProcess(args, 0, stdout=stdout, stderr="")

    assert checks.read_usb_max_current_enable(vcgencmd("usb_max_current_enable=1\n")) is True
    assert checks.read_usb_max_current_enable(vcgencmd("usb_max_current_enable=0\n")) is False
    assert checks.read_usb_max_current_enable(vcgencmd("error=1 error_msg=...\n")) is None

    def missing(*args, **kwargs):
        raise FileNotFoundError("vcgencmd")

    assert checks.read_usb_max_current_enable(missing) is None
