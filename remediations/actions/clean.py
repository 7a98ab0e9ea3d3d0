"""Delete files older than N days under an allowed folder: the runbooks' log/memory cleanup.

Risky (it deletes data): runs only with ``--approve clean_old_files``. It never leaves its
folder: ``path`` is relative to ``folder`` and may not contain ``..``; every directory on the
way is opened with ``O_NOFOLLOW`` relative to its parent's descriptor, so a symlink (placed
there before or during the run) is refused, never followed; only regular files are deleted
(symlinks inside are left alone, as are their targets).
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from pathlib import Path, PurePosixPath

from pydantic import Field, ValidationInfo, field_validator

from remediations.registry import (
    ActionContext,
    ActionError,
    ActionResult,
    Params,
    action,
    local_path,
)

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class CleanParams(Params):
    folder: str = Field(description="the allowed folder: nothing outside it is ever touched")
    path: str = Field(default=".", description="sub-folder of folder to clean (relative)")
    days: float = Field(gt=0, description="delete files last modified more than this many days ago")
    pattern: str = Field(default="*", description="file name glob, e.g. *.log")
    recursive: bool = Field(default=True, description="also clean sub-folders (never symlinks)")

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str, info: ValidationInfo) -> str:
        return local_path(value, info)

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str) -> str:
        p = PurePosixPath(value)
        if p.is_absolute() or ".." in p.parts:
            raise ValueError(f"path {value!r} leaves folder; give a path inside it, relative, "
                             "without '..'")
        return value


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_inside(folder: str, relative: str) -> int:
    """A descriptor of folder/relative, refusing any symlink on the way."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ActionError(f"cannot open folder {folder}: {exc.strerror}") from None
    for part in PurePosixPath(relative).parts:
        if part in (".", ""):
            continue
        try:
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            why = ("is a symlink (refused: it could lead outside)" if _is_link(part, fd)
                   else exc.strerror)
            os.close(fd)
            raise ActionError(f"{Path(folder) / relative}: {part} {why}") from None
        os.close(fd)
        fd = child
    return fd


def _old_files(fd: int, where: str, cutoff: float, params: CleanParams, ctx: ActionContext,
               opened: list[int]) -> list[tuple[int, str, str]]:
    """(dir fd, name, shown path) of every old regular file; descends without following."""
    found: list[tuple[int, str, str]] = []
    for entry in sorted(os.listdir(fd)):
        ctx.check_time()
        st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode) and params.recursive:
            try:
                child = os.open(entry, DIR_FLAGS, dir_fd=fd)
            except OSError:
                continue  # swapped for a symlink meanwhile: not followed
            opened.append(child)
            found += _old_files(child, f"{where}/{entry}", cutoff, params, ctx, opened)
        elif stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff and fnmatch.fnmatch(
                entry, params.pattern):
            found.append((fd, entry, f"{where}/{entry}"))
    return found


@action(CleanParams, risky=True, summary="delete files older than N days under a folder")
def clean_old_files(ctx: ActionContext, params: CleanParams) -> ActionResult:
    """Delete old regular files under folder/path (never outside, never via a symlink)."""
    top = _open_inside(params.folder, params.path)
    cutoff = time.time() - params.days * 86400
    where = str(Path(params.folder) / params.path).rstrip("/.")
    fds = [top]
    try:
        old = _old_files(top, where, cutoff, params, ctx, fds)
        if ctx.plan:
            return ActionResult(bool(old), f"would delete {len(old)} file(s) older than "
                                f"{params.days:g} days under {where}",
                                "\n".join(shown for _, _, shown in old))
        for fd, name, _ in old:
            ctx.check_time()
            os.unlink(name, dir_fd=fd)
    finally:
        for fd in fds:
            os.close(fd)
    return ActionResult(bool(old), f"deleted {len(old)} file(s) older than {params.days:g} "
                        f"days under {where}", "\n".join(shown for _, _, shown in old))
