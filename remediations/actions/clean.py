"""Delete files older than N days under an allowed folder: the runbooks' log/memory cleanup.

Risky (it deletes data): runs only with ``--approve clean_old_files``. It never leaves its
folder: ``path`` is relative to ``folder`` and may not contain ``..``; every directory on the
way, from ``/`` down through ``folder`` itself to ``path``, is opened with ``O_NOFOLLOW``
relative to its parent's descriptor, so a symlink anywhere on it (placed there before or
during the run; ``folder`` itself, or one of its parents) is refused, never followed: write
the real path. Only regular files are deleted (symlinks inside are left alone, as are their
targets).
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from pydantic import Field, field_validator

from opscheck.remediations.links import link_refused, symlink_on
from opscheck.remediations.registry import (
    ActionContext,
    ActionError,
    ActionResult,
    LocalPath,
    Params,
    action,
)

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class CleanParams(Params):
    folder: LocalPath = Field(description="the allowed folder: nothing outside it is ever touched")
    path: str = Field(default=".", description="sub-folder of folder to clean (relative)")
    days: float = Field(gt=0, description="delete files last modified more than this many days ago")
    pattern: str = Field(default="*", description="file name glob, e.g. *.log")
    recursive: bool = Field(default=True, description="also clean sub-folders (never symlinks)")

    @field_validator("folder")
    @classmethod
    def _real(cls, value: str) -> str:
        link = symlink_on(value)  # refused again, atomically, when it runs
        if link:
            raise ValueError(link_refused(value, link))
        return value

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


def _open_real(folder: str) -> int:
    """A descriptor of ``folder``, reached from ``/`` without following any symlink."""
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    walked = Path("/")
    for part in Path(os.path.abspath(folder)).parts[1:]:
        walked /= part
        try:
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            linked = _is_link(part, fd)
            os.close(fd)
            why = link_refused(folder, str(walked)) if linked else (
                f"cannot open folder {folder}: {exc.strerror}")
            raise ActionError(why) from None
        os.close(fd)
        fd = child
    return fd


def _open_inside(folder: str, relative: str) -> int:
    """A descriptor of folder/relative, refusing any symlink on the way."""
    fd = _open_real(folder)
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


def _failed(what: str, shown: str, exc: OSError) -> ActionError:
    return ActionError(f"cannot {what} {shown}: {exc.strerror or exc}")


def _old_files(fd: int, where: str, cutoff: float, params: CleanParams,
               ctx: ActionContext) -> Iterator[tuple[int, str, str]]:
    """(dir fd, name, shown path) of every old regular file; descends without following.

    Only the directories on the current path are held open. A file or folder that vanishes
    meanwhile is passed over (nothing left to clean); any other error is an ActionError.
    """
    try:
        entries = sorted(os.listdir(fd))
    except OSError as exc:
        raise _failed("list", where, exc) from None
    for entry in entries:
        ctx.check_time()
        shown = f"{where}/{entry}"
        try:
            st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise _failed("stat", shown, exc) from None
        if stat.S_ISDIR(st.st_mode) and params.recursive:
            try:
                child = os.open(entry, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                continue
            except OSError as exc:
                if _is_link(entry, fd):
                    continue  # swapped for a symlink meanwhile: not followed
                raise _failed("open folder", shown, exc) from None
            try:
                yield from _old_files(child, shown, cutoff, params, ctx)
            finally:
                os.close(child)
        elif stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff and fnmatch.fnmatch(
                entry, params.pattern):
            yield fd, entry, shown


@action(CleanParams, risky=True, summary="delete files older than N days under a folder")
def clean_old_files(ctx: ActionContext, params: CleanParams) -> ActionResult:
    """Delete old regular files under folder/path (never outside, never via a symlink)."""
    top = _open_inside(params.folder, params.path)
    cutoff = time.time() - params.days * 86400
    where = str(Path(params.folder) / params.path).rstrip("/.")
    old: list[str] = []
    try:
        for fd, name, shown in _old_files(top, where, cutoff, params, ctx):
            if not ctx.plan:
                try:
                    os.unlink(name, dir_fd=fd)
                except FileNotFoundError:
                    continue  # removed by someone else meanwhile
                except OSError as exc:
                    raise ActionError(f"deleted {len(old)} file(s), then cannot delete "
                                      f"{shown}: {exc.strerror or exc}") from None
            old.append(shown)
    finally:
        os.close(top)
    verb = "would delete" if ctx.plan else "deleted"
    return ActionResult(bool(old), f"{verb} {len(old)} file(s) older than {params.days:g} "
                        f"days under {where}", "\n".join(old))
