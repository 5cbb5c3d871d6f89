#!/usr/bin/env python3
"""Every file deploy/install.sh writes, generated from one place.

install.sh and the tests both go through this module, so the tests check
exactly what a station gets. Standard library only: it runs on the Pi's
system Python before the station's virtual environment exists.

What is generated
-----------------
Templates in ``deploy/templates/`` are :class:`string.Template` text with
``@{name}`` placeholders (``@`` rather than ``$``, so the ``$host`` of nginx
and the ``${VAR}`` of systemd pass through untouched); a placeholder with no
value is an error, never an empty string. The configuration file is made from
``deploy/wallhinge.example.toml`` (every setting with its documented default)
with this station's data folder and web address filled in. A few files are
copied as they are (the kiosk and backup scripts, the README); the check
script too, with its ``#!`` line pointed at the station's virtual environment.

Values
------
:data:`DEFAULTS`, then ``--set KEY=VALUE``, then, when the station's
configuration file already exists under ``--root``, its ``[station]``
``data_dir``, ``database``, ``calibration``, ``web_host`` and ``web_port``: the
clinic's file is what the running services read, so the units and nginx
follow it, never the other way round.

Usage (``install.sh`` and ``uninstall.sh`` call it so)::

    render.py [--root DIR] [--set KEY=VALUE ...] vars        # the values, KEY=VALUE per line
    render.py [...] list                                     # NAME, destination, policy per line
    render.py [...] show NAME                                # one rendered file on stdout
    render.py [...] write [--dry-run] [--chown] [--only NAME,...]
    render.py [...] remove [--dry-run] [--purge]             # what uninstall.sh takes away

``write`` never overwrites a file whose policy is ``keep`` (the configuration,
the backup settings), replaces the kiosk block in the desktop user's labwc
autostart without touching the user's other lines, rewrites everything
else, and deletes the units of earlier releases (:data:`RETIRED_UNITS`;
install.sh disables them first). ``--root`` puts every file under another
folder (tests, images); the paths inside the files stay the station's real ones.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import string
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
EXAMPLE_CONFIG = HERE / "wallhinge.example.toml"

#: The librealsense release install.sh builds (deploy/README.md says why this one).
LIBREALSENSE_TAG = "v2.58.4"

#: Settings a caller may change with ``--set``; see the module's docs.
DEFAULTS: dict[str, str] = {
    "prefix": "/opt/wallhinge",
    "config": "/etc/wallhinge/wallhinge.toml",
    "user": "wallhinge",
    "data_dir": "/var/lib/wallhinge",
    "database": "station.db",
    "calibration": "calibration.json",
    "web_port": "8080",
    "https": "yes",
    "https_port": "443",
    "tls_dir": "/etc/wallhinge/tls",
    "desktop_user": "",
    "desktop_home": "",
    "backup_keep_days": "30",
    "backup_time": "03:15",
    "journal_max_use": "200M",
    "librealsense_tag": LIBREALSENSE_TAG,
}

KIOSK_BEGIN = "# >>> wallhinge kiosk >>>"
KIOSK_END = "# <<< wallhinge kiosk <<<"

UNIT_DIR = "/etc/systemd/system"
UNITS = ("wallhinge-station.service", "wallhinge-backup.service", "wallhinge-backup.timer")
#: Units earlier releases installed and this one does not: install.sh and uninstall.sh stop and
#: disable them, ``write`` and ``remove`` delete their files. wallhinge-web.service served the
#: dashboard and kiosk until they moved into the station's own process (``wallhinge run``).
RETIRED_UNITS = ("wallhinge-web.service",)


class RenderError(Exception):
    """A value or template that cannot make a correct file; the message says which and why."""


class _Template(string.Template):
    """``@{name}`` placeholders only; ``@@`` is a literal ``@``; any other ``@`` is left alone."""

    delimiter = "@"
    pattern = r"""
    @(?:
      (?P<escaped>@) |
      \{(?P<braced>[a-z_][a-z0-9_]*)\} |
      (?P<named>(?!)) |
      (?P<invalid>(?!))
    )
    """
    flags = re.VERBOSE  # placeholders are lower case, exactly


@dataclass(frozen=True)
class Output:
    """One file install.sh writes.

    Attributes
    ----------
    name : str
        Short name (``show NAME``, ``--only``).
    dest : str
        Absolute path on the station.
    kind : str
        ``template`` (from ``templates/source``), ``config`` (from the example
        configuration), ``copy`` (``source`` in deploy/, as it is),
        ``venv-script`` (a copied Python script whose ``#!`` line becomes the
        station's venv Python, so it can import ``station``) or ``block`` (a
        template merged into an existing file between markers).
    source : str
        Template or file name, relative to its folder.
    mode : int
        Permission bits.
    owner, group : str
        Who owns it after ``write --chown``; an empty group is the owner's own.
    keep : bool
        Never overwrite an existing file (it belongs to the clinic).
    """

    name: str
    dest: str
    kind: str
    source: str
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"
    keep: bool = False

    @property
    def policy(self) -> str:
        return "keep" if self.keep else ("merge" if self.kind == "block" else "replace")


# -- values -------------------------------------------------------------------------------------

_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def _absolute(key: str, value: str) -> str:
    if not value.startswith("/") or any(ch.isspace() for ch in value) or "@" in value:
        raise RenderError(f"{key} must be an absolute path without spaces, not {value!r}")
    return os.path.normpath(value)


def _port(key: str, value) -> int:
    try:
        port = int(str(value))
    except ValueError:
        raise RenderError(f"{key} must be a port number 1-65535, not {value!r}") from None
    if not 1 <= port <= 65535:
        raise RenderError(f"{key} must be a port number 1-65535, not {value!r}")
    return port


def _station_table(path: Path) -> dict:
    """The ``[station]`` table of an existing configuration file ({} when it has none)."""
    try:
        with path.open("rb") as handle:
            tables = tomllib.load(handle)
    except OSError as error:
        raise RenderError(f"cannot read {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise RenderError(f"{path} is not valid TOML ({error}); fix it, then run install.sh again") from None
    station = tables.get("station", {})
    if not isinstance(station, dict):
        raise RenderError(f"{path}: station must be a table ([station])")
    return station


def resolve(overrides: dict[str, str] | None = None, *, root: Path = Path("/")) -> dict[str, str]:
    """All values the templates use: :data:`DEFAULTS`, ``overrides``, the existing configuration, derived ones.

    Raises
    ------
    RenderError
        An unknown key, or a value that would make a broken file.
    """
    values = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise RenderError(f"unknown setting {key!r}; the settings are {', '.join(DEFAULTS)}")
        values[key] = str(value)
    values["config"] = _absolute("config", values["config"])
    values["config_source"] = "defaults"
    config_file = root / values["config"].lstrip("/")
    if config_file.is_file():
        station = _station_table(config_file)
        for key in ("data_dir", "database", "calibration"):
            if key in station:
                values[key] = str(station[key])
        if "web_port" in station:
            values["web_port"] = str(station["web_port"])
        # A file without web_host listens where the station's default says (every interface).
        values["web_host"] = str(station.get("web_host", "0.0.0.0"))
        values["config_source"] = values["config"]
        if not values["data_dir"].startswith("/"):
            raise RenderError(f"{values['config']}: station.data_dir must be an absolute path on an installed "
                              f"station (e.g. \"/var/lib/wallhinge\"), not {values['data_dir']!r}")
    for key in ("prefix", "data_dir", "tls_dir"):
        values[key] = _absolute(key, values[key])
    if values["https"] not in ("yes", "no"):
        raise RenderError(f"https must be yes or no, not {values['https']!r}")
    values["web_port"] = str(_port("web_port", values["web_port"]))
    values["https_port"] = str(_port("https_port", values["https_port"]))
    if values["https"] == "yes" and values["https_port"] in ("80", values["web_port"]):
        raise RenderError(f"https_port {values['https_port']} is taken (port 80 redirects to HTTPS, "
                          f"{values['web_port']} is the dashboard's own)")
    if not _NAME.match(values["user"]):
        raise RenderError(f"user must be a system user name such as wallhinge, not {values['user']!r}")
    if values["desktop_user"] and not _NAME.match(values["desktop_user"]):
        raise RenderError(f"desktop_user must be a user name, not {values['desktop_user']!r}")
    if values["desktop_home"]:
        values["desktop_home"] = _absolute("desktop_home", values["desktop_home"])
        if not values["desktop_user"]:
            raise RenderError("desktop_home needs desktop_user: whose desktop shows the kiosk?")
    if not values["backup_keep_days"].isdigit() or not 1 <= int(values["backup_keep_days"]) <= 3650:
        raise RenderError("backup_keep_days must be a whole number of days 1-3650, "
                          f"not {values['backup_keep_days']!r}")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", values["backup_time"]):
        raise RenderError(f"backup_time must be HH:MM (24 h), not {values['backup_time']!r}")
    if not re.fullmatch(r"\d+[KMG]", values["journal_max_use"]):
        raise RenderError(f"journal_max_use must be a size such as 200M, not {values['journal_max_use']!r}")
    if not re.fullmatch(r"v\d+\.\d+\.\d+", values["librealsense_tag"]):
        raise RenderError(f"librealsense_tag must be a release tag such as {LIBREALSENSE_TAG}, "
                          f"not {values['librealsense_tag']!r}")

    # Derived values.
    data_dir = Path(values["data_dir"])
    values.setdefault("web_host", "127.0.0.1" if values["https"] == "yes" else "0.0.0.0")
    values["venv"] = f"{values['prefix']}/venv"
    values["database_path"] = _absolute("database", os.path.join(values["data_dir"], values["database"]))
    values["calibration_path"] = _absolute("calibration",
                                           os.path.join(values["data_dir"], values["calibration"]))
    write_paths = [values["data_dir"]]
    for key in ("database_path", "calibration_path"):
        parent = os.path.dirname(values[key])
        if not Path(parent).is_relative_to(data_dir) and parent not in write_paths:
            write_paths.append(parent)
    values["write_paths"] = " ".join(write_paths)
    values["backup_dir"] = f"{values['data_dir']}/backups"
    values["backup_conf"] = f"{os.path.dirname(values['config'])}/backup.conf"
    values["tls_cert"] = f"{values['tls_dir']}/station.crt"
    values["tls_key"] = f"{values['tls_dir']}/station.key"
    values["https_port_suffix"] = "" if values["https_port"] == "443" else f":{values['https_port']}"
    values["kiosk_url"] = f"http://localhost:{values['web_port']}/kiosk"
    values["dashboard_url"] = (f"https://<station>{values['https_port_suffix']}/" if values["https"] == "yes"
                               else f"http://<station>:{values['web_port']}/")
    values["unit_dir"] = UNIT_DIR
    values["retired_units"] = " ".join(RETIRED_UNITS)
    return values


# -- what gets written ---------------------------------------------------------------------------

def plan(values: dict[str, str]) -> list[Output]:
    """Every file for these values, in the order install.sh writes them."""
    prefix, user = values["prefix"], values["user"]
    outputs = [
        Output("config", values["config"], "config", "wallhinge.example.toml", 0o640, "root", user, keep=True),
        Output("backup-conf", values["backup_conf"], "template", "backup.conf", keep=True),
    ]
    outputs += [Output(unit, f"{UNIT_DIR}/{unit}", "template", unit) for unit in UNITS]
    outputs += [
        Output("journald", "/etc/systemd/journald.conf.d/wallhinge.conf", "template", "journald-wallhinge.conf"),
        Output("kiosk-script", f"{prefix}/bin/wallhinge-kiosk", "copy", "kiosk.sh", 0o755),
        Output("backup-script", f"{prefix}/bin/wallhinge-backup", "copy", "backup.sh", 0o755),
        Output("check-script", f"{prefix}/bin/wallhinge-check", "venv-script", "checks.py", 0o755),
        Output("readme", f"{prefix}/README.md", "copy", "README.md"),
    ]
    if values["https"] == "yes":
        outputs.append(Output("nginx", "/etc/nginx/sites-available/wallhinge", "template", "nginx-wallhinge.conf"))
    if values["desktop_home"]:
        # Owned by the desktop user, in the user's own group.
        outputs.append(Output("kiosk-autostart", f"{values['desktop_home']}/.config/labwc/autostart", "block",
                              "labwc-autostart", 0o644, values["desktop_user"], ""))
    return outputs


def render_template(source: str, values: dict[str, str]) -> str:
    """A template of ``deploy/templates/`` with ``values`` filled in."""
    text = (TEMPLATES / source).read_text(encoding="utf-8")
    try:
        return _Template(text).substitute(values)
    except KeyError as error:
        raise RenderError(f"templates/{source} uses @{{{error.args[0]}}}, which has no value") from None


def _toml_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a TOML basic string for anything json escapes


def render_config(values: dict[str, str]) -> str:
    """The first configuration file of a station: the documented example, with where data and web live."""
    wanted = {"data_dir": values["data_dir"], "web_host": values["web_host"], "web_port": int(values["web_port"])}
    if values["database"] != DEFAULTS["database"]:
        wanted["database"] = values["database"]
    if values["calibration"] != DEFAULTS["calibration"]:
        wanted["calibration"] = values["calibration"]
    comments = {"data_dir": "# absolute on an installed station: the services may write only here"}
    if values["web_host"] == "127.0.0.1":
        comments["web_host"] = ("# this machine only: tablets come through nginx (HTTPS), "
                                "the kiosk straight here")
    setting = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_]+)(?P<eq>\s*=\s*)"
                         r"(?P<value>\"[^\"]*\"|[^\s#]+)(?P<gap>\s*)(?P<comment>#.*)?$")
    table, done, lines = None, set(), []
    for line in EXAMPLE_CONFIG.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\s*\[([A-Za-z0-9_.-]+)\]", line)
        if header:
            table = header.group(1)
        else:
            match = setting.match(line)
            if table == "station" and match and match["key"] in wanted:
                key = match["key"]
                start = f"{match['indent']}{key}{match['eq']}{_toml_literal(wanted[key])}"
                comment = comments.get(key, match["comment"])
                if comment:
                    # Keep the comment in its column when the value fits before it.
                    column = len(line) - len(match["comment"] or "") if match["comment"] else 28
                    start += " " * max(2, column - len(start)) + comment
                line = start
                done.add(key)
        lines.append(line)
    missing = sorted(set(wanted) - done)
    if missing:
        raise RenderError(f"{EXAMPLE_CONFIG.name} has no [station] {', '.join(missing)} line to fill in; "
                          "update deploy/render.py to its new layout")
    text = (
        f"# {values['config']}: this station's configuration.\n"
        "# Written by deploy/install.sh on the first install, from deploy/wallhinge.example.toml\n"
        "# (every setting with its default) with this station's data folder and web address.\n"
        "# install.sh never overwrites it: it is the clinic's. After a change run\n"
        "#   sudo systemctl restart wallhinge-station\n"
        "# and after changing data_dir, database or web_port, run deploy/install.sh again so\n"
        "# the services, nginx and the kiosk follow.\n"
        "#\n"
        + "\n".join(lines) + "\n"
    )
    station = tomllib.loads(text)["station"]
    for key, value in wanted.items():
        if station.get(key) != value:
            raise RenderError(f"rendering station.{key} gave {station.get(key)!r}, not {value!r}")
    return text


def render(output: Output, values: dict[str, str]) -> str:
    """The content of ``output`` (for a block: the block alone)."""
    if output.kind == "config":
        return render_config(values)
    if output.kind in ("template", "block"):
        return render_template(output.source, values)
    if output.kind == "copy":
        return (HERE / output.source).read_text(encoding="utf-8")
    if output.kind == "venv-script":
        first, newline, rest = (HERE / output.source).read_text(encoding="utf-8").partition("\n")
        if not first.startswith("#!"):
            raise RenderError(f"{output.source} has no #! line to point at the station's Python")
        return f"#!{values['venv']}/bin/python{newline}{rest}"
    raise RenderError(f"unknown kind {output.kind!r} of {output.name}")


def merge_block(existing: str, block: str, begin: str = KIOSK_BEGIN, end: str = KIOSK_END) -> str:
    """``existing`` with the lines from ``begin`` to ``end`` replaced by ``block`` (appended if absent)."""
    lines = existing.splitlines()
    stripped = [line.strip() for line in lines]
    block_lines = block.rstrip("\n").splitlines()
    if begin in stripped:
        first = stripped.index(begin)
        last = stripped.index(end, first) if end in stripped[first:] else len(lines) - 1
        lines[first:last + 1] = block_lines
    else:
        if lines and lines[-1].strip():
            lines.append("")
        lines += block_lines
    return "\n".join(lines) + "\n"


def remove_block(existing: str, begin: str = KIOSK_BEGIN, end: str = KIOSK_END) -> str:
    """``existing`` without the block from ``begin`` to ``end``."""
    lines = existing.splitlines()
    stripped = [line.strip() for line in lines]
    if begin not in stripped:
        return existing
    first = stripped.index(begin)
    last = stripped.index(end, first) if end in stripped[first:] else len(lines) - 1
    del lines[first:last + 1]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


# -- writing -------------------------------------------------------------------------------------

def _target(root: Path, dest: str) -> Path:
    return root / dest.lstrip("/")


def _write_atomically(path: Path, text: str, mode: int) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _make_parents(path: Path, stop: Path, owner: str | None) -> None:
    """Create ``path``'s missing parent folders (mode 0755), owned by ``owner`` when given."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o755)
        if owner and folder.is_relative_to(stop):
            shutil.chown(folder, owner, _primary_group(owner))


def _primary_group(user: str) -> str | int:
    import grp
    import pwd

    gid = pwd.getpwnam(user).pw_gid
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return gid


def write(values: dict[str, str], *, root: Path = Path("/"), dry_run: bool = False, chown: bool = False,
          only: set[str] | None = None, say=print) -> list[tuple[str, str]]:
    """Write every planned file under ``root``; ``say`` one line per file. Returns ``(verb, dest)`` pairs.

    The verbs: ``write`` (new or changed), ``unchanged``, ``keep`` (exists and
    belongs to the clinic), ``remove`` (a retired unit's file); with ``dry_run``
    ``would write`` and ``would remove``, and nothing is touched. ``chown``
    gives each written file its owner, and the folders made for the kiosk
    autostart to the desktop user.
    """
    done = []
    for output in plan(values):
        if only is not None and output.name not in only:
            continue
        path = _target(root, output.dest)
        note = f"{output.name}, mode {output.mode:04o}"
        if output.keep and path.exists():
            verb, note = "keep", "exists; never overwritten"
        else:
            text = render(output, values)
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            mode = output.mode
            if output.kind == "block":
                text = merge_block(current or "", text)
                if current is not None:
                    mode = path.stat().st_mode & 0o7777  # the user's file keeps its mode
            if current == text and (path.stat().st_mode & 0o7777) == mode:
                verb = "unchanged"
            elif dry_run:
                verb = "would write"
            else:
                desktop = output.kind == "block" and chown
                _make_parents(path, _target(root, values["desktop_home"]), output.owner if desktop else None)
                _write_atomically(path, text, mode)
                verb = "write"
            if chown and not dry_run:
                shutil.chown(path, output.owner, output.group or _primary_group(output.owner))
        say(f"{verb:11} {path} ({note})")
        done.append((verb, output.dest))
    if only is None:
        done += _remove_retired(root, dry_run, say, width=11)
    return done


def _remove_retired(root: Path, dry_run: bool, say, *, width: int) -> list[tuple[str, str]]:
    """Delete the unit files of :data:`RETIRED_UNITS` that are there."""
    done = []
    for unit in RETIRED_UNITS:
        dest = f"{UNIT_DIR}/{unit}"
        path = _target(root, dest)
        if not (path.exists() or path.is_symlink()):
            continue
        verb = "would remove" if dry_run else "remove"
        if not dry_run:
            path.unlink()
        say(f"{verb:{width}} {path} (a unit of an earlier release)")
        done.append((verb, dest))
    return done


def remove(values: dict[str, str], *, root: Path = Path("/"), dry_run: bool = False, purge: bool = False,
           say=print) -> list[tuple[str, str]]:
    """Take away what :func:`write` wrote; the clinic's files (``keep``) only with ``purge``."""
    done = []
    for output in plan(values):
        path = _target(root, output.dest)
        if not path.exists():
            continue
        if output.keep and not purge:
            verb = "keep"
        elif output.kind == "block":
            remaining = remove_block(path.read_text(encoding="utf-8"))
            verb = "would edit" if dry_run else "edit"
            if not dry_run:
                if remaining.strip():
                    _write_atomically(path, remaining, path.stat().st_mode & 0o7777)
                else:
                    path.unlink()
        else:
            verb = "would remove" if dry_run else "remove"
            if not dry_run:
                path.unlink()
        say(f"{verb:12} {path}")
        done.append((verb, output.dest))
    done += _remove_retired(root, dry_run, say, width=12)
    return done


# -- command line --------------------------------------------------------------------------------

def _parse_set(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"write KEY=VALUE, e.g. prefix=/opt/wallhinge, not {text!r}")
    return key.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="render.py", description="Generate the files deploy/install.sh writes.")
    parser.add_argument("--root", default="/", help="write under this folder instead of / (default /)")
    parser.add_argument("--set", dest="sets", action="append", type=_parse_set, default=[], metavar="KEY=VALUE",
                        help="change a value (see DEFAULTS in this file)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("vars", help="print every value as KEY=VALUE")
    commands.add_parser("list", help="print each file: name, destination, policy")
    show = commands.add_parser("show", help="print one rendered file")
    show.add_argument("name")
    write_cmd = commands.add_parser("write", help="write the files under --root")
    write_cmd.add_argument("--dry-run", action="store_true", help="say what would be written, write nothing")
    write_cmd.add_argument("--chown", action="store_true", help="give each file its owner (needs root)")
    write_cmd.add_argument("--only", help="comma-separated names (see list)")
    remove_cmd = commands.add_parser("remove", help="remove the files write wrote")
    remove_cmd.add_argument("--dry-run", action="store_true")
    remove_cmd.add_argument("--purge", action="store_true", help="also the configuration and backup settings")
    args = parser.parse_args(argv)

    root = Path(args.root)
    try:
        values = resolve(dict(args.sets), root=root)
        if args.command == "vars":
            for key, value in values.items():
                print(f"{key}={value}")
        elif args.command == "list":
            for output in plan(values):
                print(f"{output.name}\t{output.dest}\t{output.policy}")
        elif args.command == "show":
            outputs = {output.name: output for output in plan(values)}
            if args.name not in outputs:
                raise RenderError(f"no file named {args.name!r}; the files are {', '.join(outputs)}")
            sys.stdout.write(render(outputs[args.name], values))
        elif args.command == "write":
            only = None if args.only is None else {name.strip() for name in args.only.split(",") if name.strip()}
            if only:
                unknown = only - {output.name for output in plan(values)}
                if unknown:
                    raise RenderError(f"no file named {', '.join(sorted(unknown))}")
            write(values, root=root, dry_run=args.dry_run, chown=args.chown, only=only)
        elif args.command == "remove":
            remove(values, root=root, dry_run=args.dry_run, purge=args.purge)
    except RenderError as error:
        print(f"render.py: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"render.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
