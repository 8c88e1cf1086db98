"""``rldojo builds list|fetch`` against a real HTTP server on loopback serving small archives."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rldojo.cli import main

PLAYER = b'#!/bin/sh\necho player started with "$@"\n'


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 and its base URL."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644  # as a zip or a careless tar leaves it: fetch must set the executable bit
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def publish(served: tuple[Path, str], file_name: str, data: bytes, *, sha256: str | None = None) -> Path:
    """Serve ``data`` as ``file_name`` and write a manifest naming it build ``Walker``."""
    folder, base_url = served
    (folder / file_name).write_bytes(data)
    manifest = folder.parent / "builds.toml"
    manifest.write_text(
        "[builds.Walker]\n"
        f'url = "{base_url}/{file_name}"\n'
        f'sha256 = "{sha256 or hashlib.sha256(data).hexdigest()}"\n'
        'executable = "Walker/Walker.x86_64"\n'
    )
    return manifest


def fetch(manifest: Path, out_root: Path, *extra: str) -> int:
    return main(
        ["builds", "--manifest", str(manifest), "fetch", "Walker", "--out-root", str(out_root), *extra]
    )


@pytest.mark.parametrize("file_name", ["Walker-linux.tar.gz", "Walker-linux.zip"])
def test_fetch_unpacks_verified_archive_with_runnable_player(
    served: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], file_name: str
) -> None:
    members = {"Walker/Walker.x86_64": PLAYER, "Walker/Walker_Data/level0": b"scene"}
    pack = zip_bytes if file_name.endswith(".zip") else tar_gz
    manifest = publish(served, file_name, pack(members))
    out_root = tmp_path / "unity_builds"

    assert fetch(manifest, out_root) == 0

    player = out_root / "Walker" / "Walker" / "Walker.x86_64"
    assert f"--env {player}" in capsys.readouterr().out
    assert (out_root / "Walker" / "Walker" / "Walker_Data" / "level0").read_bytes() == b"scene"
    ran = subprocess.run([player, "-batchmode"], capture_output=True, text=True, check=True)
    assert ran.stdout == "player started with -batchmode\n"
    assert sorted(os.listdir(out_root)) == ["Walker"]  # no temporary files left behind


def test_checksum_mismatch_keeps_nothing(
    served: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = publish(served, "Walker.tar.gz", tar_gz({"Walker/Walker.x86_64": PLAYER}), sha256="0" * 64)
    out_root = tmp_path / "unity_builds"

    assert fetch(manifest, out_root) == 1

    assert "sha256 mismatch for build 'Walker'" in capsys.readouterr().err
    assert os.listdir(out_root) == []


def test_existing_build_needs_force(
    served: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = publish(served, "Walker.tar.gz", tar_gz({"Walker/Walker.x86_64": PLAYER}))
    out_root = tmp_path / "unity_builds"
    (out_root / "Walker").mkdir(parents=True)
    (out_root / "Walker" / "old-version").write_text("old")

    assert fetch(manifest, out_root) == 2
    assert "already exists (pass --force" in capsys.readouterr().err
    assert fetch(manifest, out_root, "--force") == 0
    assert not (out_root / "Walker" / "old-version").exists()


def test_archive_member_outside_the_build_folder_is_refused(
    served: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tar_gz({"Walker/Walker.x86_64": PLAYER, "../escaped.sh": PLAYER})
    manifest = publish(served, "Walker.tar.gz", archive)

    assert fetch(manifest, tmp_path / "unity_builds") == 2
    assert "'../escaped.sh' points outside the build folder" in capsys.readouterr().err
    assert not (tmp_path / "escaped.sh").exists()


@pytest.mark.smoke
def test_list_and_unknown_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "builds.toml"
    manifest.write_text(
        '[builds.Walker]\nurl = "https://example.org/W.zip"\nsha256 = "' + "a" * 64 + '"\n'
        'executable = "W/W.x86_64"\n'
    )
    assert main(["builds", "--manifest", str(manifest), "list"]) == 0
    assert "Walker  W/W.x86_64  https://example.org/W.zip" in capsys.readouterr().out
    assert main(["builds", "--manifest", str(manifest), "fetch", "Crawler"]) == 2
    assert "no build 'Crawler' in" in capsys.readouterr().err


@pytest.mark.smoke
def test_committed_manifest_loads() -> None:
    """The shipped unity_builds/builds.toml parses (it documents the format, with no fake entries)."""
    root = Path(__file__).resolve().parents[2]
    assert main(["builds", "--manifest", str(root / "unity_builds" / "builds.toml"), "list"]) == 0
