"""Real Unity Linux builds listed in ``unity_builds/builds.toml``: download, verify, unpack.

A manifest entry::

    [builds.Walker]
    url = "https://example.org/Walker-linux.tar.gz"   # .zip, .tar.gz or .tgz
    sha256 = "<64 hex digits of the archive>"
    executable = "Walker/Walker.x86_64"               # path inside the archive

``fetch`` downloads to a temporary file, checks the sha256, unpacks into a temporary folder and only
then renames it to ``<out_root>/<name>/``: a failed or interrupted fetch leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from rldojo.errors import ConfigError, RldojoError
from rldojo.settings.base import is_folder_name

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEFAULT_MANIFEST = Path("unity_builds/builds.toml")
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class BuildEntry:
    """One build of the manifest."""

    name: str
    url: str
    sha256: str
    executable: str
    """Path of the player executable inside the archive (and so inside ``<out_root>/<name>/``)."""


def load_manifest(path: Path) -> dict[str, BuildEntry]:
    """The builds of a manifest by name; ConfigError names the file and the faulty entry."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no build manifest at {path} (give one with --manifest)") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    entries = {}
    for name, fields in data.get("builds", {}).items():
        if not is_folder_name(name):
            raise ConfigError(
                f"{path}: build name '{name}' is not a single folder name; rename it without / \\ . or .."
            )
        missing = [key for key in ("url", "sha256", "executable") if not isinstance(fields.get(key), str)]
        if missing:
            raise ConfigError(f"{path}: build '{name}' needs {', '.join(missing)} (strings)")
        if not re.fullmatch(r"[0-9a-f]{64}", fields["sha256"].lower()):
            raise ConfigError(f"{path}: build '{name}': sha256 must be 64 hex digits")
        if not fields["url"].endswith(ARCHIVE_SUFFIXES):
            raise ConfigError(f"{path}: build '{name}': url must end in one of {', '.join(ARCHIVE_SUFFIXES)}")
        _check_member(fields["executable"], f"{path}: build '{name}': executable")
        entries[name] = BuildEntry(name, fields["url"], fields["sha256"].lower(), fields["executable"])
    return entries


def fetch(entry: BuildEntry, out_root: Path, *, force: bool = False) -> Path:
    """Download, verify and unpack ``entry`` into ``out_root/<name>/``; return the executable's path."""
    target = out_root / entry.name
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists (pass --force to replace it)")
    out_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_root, prefix=f".{entry.name}-") as scratch:
        archive = Path(scratch) / "archive"
        digest = _download(entry.url, archive)
        if digest != entry.sha256:
            raise RldojoError(
                f"sha256 mismatch for build '{entry.name}' from {entry.url}: expected {entry.sha256}, "
                f"got {digest} (the download is corrupt or the manifest is out of date; nothing was kept)"
            )
        unpacked = Path(scratch) / entry.name
        _unpack(archive, entry.url, unpacked)
        executable = unpacked / entry.executable
        if not executable.is_file():
            raise RldojoError(f"build '{entry.name}': the archive has no file {entry.executable}")
        executable.chmod(executable.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    return target / entry.executable


def _download(url: str, destination: Path) -> str:
    """Stream ``url`` into ``destination``; return the sha256 of what was written."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, destination.open("wb") as out:
            while chunk := response.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
    except OSError as error:  # URLError, HTTPError and socket errors are all OSErrors
        raise RldojoError(f"could not download {url}: {error}") from None
    return digest.hexdigest()


def _unpack(archive: Path, url: str, destination: Path) -> None:
    """Extract a .zip or .tar.gz into ``destination``, refusing members that would land outside it."""
    destination.mkdir()
    try:
        if url.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                for name in bundle.namelist():
                    _check_member(name, f"{url}: member")
                bundle.extractall(destination)
        else:
            with tarfile.open(archive, "r:gz") as bundle:
                for member in bundle.getmembers():
                    _check_member(member.name, f"{url}: member")
                    if member.issym() or member.islnk():
                        _check_member(member.linkname, f"{url}: link {member.name} ->")
                bundle.extractall(destination)
    except (zipfile.BadZipFile, tarfile.TarError) as error:
        raise RldojoError(f"{url}: not a valid archive: {error}") from None


def _check_member(name: str, what: str) -> None:
    """Reject absolute paths and ``..`` (ConfigError naming ``what``)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise ConfigError(f"{what} '{name}' points outside the build folder")
