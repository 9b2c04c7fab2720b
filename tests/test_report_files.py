"""screening.files.write_private: atomic, owner-only, nothing left behind on failure."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from screening import ScreeningError
from screening import files as files_module
from screening.files import FileWriteError, write_private


@pytest.fixture
def wide_umask():
    """Run with a permissive umask: the mode must come from us, not from the umask."""
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_owner_only_even_with_a_wide_umask(tmp_path: Path, wide_umask: None) -> None:
    target = write_private(tmp_path / "report.html", "<p>å</p>")
    assert target.read_text(encoding="utf-8") == "<p>å</p>"
    assert _mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_replacing_a_readable_file_makes_it_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    write_private(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o600


def test_a_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    link = tmp_path / "report.txt"
    link.symlink_to(victim)
    write_private(link, "report")
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == "report"
    assert victim.read_text(encoding="utf-8") == "keep"


def test_failure_leaves_no_temporary_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_module.os, "replace", broken_replace)
    with pytest.raises(FileWriteError) as info:
        write_private(target, "CANARY-FRITEXT-7f3a")
    assert isinstance(info.value, ScreeningError)
    assert "CANARY" not in str(info.value) and "No space left" in str(info.value)
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_interrupted_write_removes_the_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_private(tmp_path / "report.txt", "data")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_an_error_unless_asked_to_create_it(tmp_path: Path, wide_umask: None) -> None:
    with pytest.raises(FileWriteError, match="cannot write"):
        write_private(tmp_path / "nope" / "report.txt", "x")
    target = write_private(tmp_path / "new" / "deeper" / "report.txt", "x", make_parents=True)
    assert _mode(target) == 0o600
    assert _mode(target.parent) == 0o700 and _mode(target.parent.parent) == 0o700


def test_a_directory_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(FileWriteError, match="is a directory"):
        write_private(tmp_path / "out", "x")
