"""Where incremental state lives: in the user's state folder, never in the output tree.

Each output folder (by its real path) gets one SQLite file under `$XDG_STATE_HOME/batchproc/`
(by default `~/.local/state/batchproc/`), or under `--state DIR`. A moved output folder, or
another user, simply starts afresh. Steps that write no files keep theirs by their input folder.
"""

from __future__ import annotations

import os

from batchproc.fingerprint import short_digest

#: File systems where SQLite's POSIX locks cannot be trusted: state there locks with dot-files.
NETWORK_FILE_SYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph",
                                  "glusterfs", "lustre", "fuse.sshfs", "davfs", "fuse.rclone"})


def state_home(option: str | None) -> str:
    """The folder state goes in: --state, else $XDG_STATE_HOME/batchproc, else ~/.local/state/batchproc."""
    if option:
        return os.path.abspath(option)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "batchproc")


def usable_home(option: str | None) -> tuple[str | None, str | None]:
    """(the state folder, ready to write) or (None, why not): the run then goes on without state."""
    home = state_home(option)
    try:
        os.makedirs(os.path.join(home, "outputs"), exist_ok=True)
        if not os.access(os.path.join(home, "outputs"), os.W_OK):
            raise PermissionError(13, "Permission denied", home)
    except OSError as error:
        return None, (f"cannot keep state in {home} ({error.strerror or error}): this run goes on "
                      "without incremental state (give --state DIR to keep it elsewhere)")
    return home, None


def state_file(home: str, root: str, kind: str = "outputs") -> str:
    """The state file of one output folder (or, for steps that write no files, input folder)."""
    real = os.path.realpath(root)
    digest = short_digest(os.fsencode(real))
    name = os.path.basename(real.rstrip(os.sep)) or "root"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]
    return os.path.join(home, kind, f"{safe}-{digest}.sqlite")


def on_network_file_system(path: str) -> str | None:
    """The file system type if `path` is on a network file system (NFS, SMB...), else None."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as handle:
            mounts = [line.split()[1:3] for line in handle if len(line.split()) > 2]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", None
    for mount_point, fs_type in mounts:
        mount_point = mount_point.replace("\\040", " ")
        inside = real == mount_point or real.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, kind = mount_point, fs_type
    return kind if kind in NETWORK_FILE_SYSTEMS else None


class StateLocations:
    """The state files and lock files of one run's folders."""

    def __init__(self, option: str | None, *, dry_run: bool = False) -> None:
        self.dry_run = dry_run
        if dry_run:  # read what is there; create nothing
            self.home, self.problem = state_home(option), None
        else:
            self.home, self.problem = usable_home(option)
        #: SQLite's own locks are not to be trusted on a network file system: use dot-files there.
        self.dot_file_locks = bool(self.home and on_network_file_system(self.home))

    def store(self, folder: str, kind: str = "outputs"):
        """The state of `folder` (a StateStore), or a NoState when no state can be kept."""
        from batchproc.state import NoState, StateStore

        if self.home is None:
            return NoState()
        path = state_file(self.home, folder, kind)
        old = os.path.join(folder, OLD_STATE_FOLDER, "state.sqlite")
        if kind == "outputs" and self.dry_run and not os.path.exists(path) and os.path.exists(old):
            path = old  # not moved yet: a dry run reads it where it is
        elif kind == "outputs" and not self.dry_run:
            migrate_old_state(folder, path)
        return StateStore(path, folder, kind=kind, create=not self.dry_run,
                          dot_file_locks=self.dot_file_locks)

    def lock_file(self, folder: str) -> str | None:
        """Where to lock when `folder` itself cannot be locked (see batchproc.run_lock)."""
        if self.home is None:
            return None
        return state_file(self.home, folder, "locks")[: -len(".sqlite")] + ".lock"


#: Where state lived before it had its own folder: inside each output folder.
OLD_STATE_FOLDER = ".batchproc"


def migrate_old_state(folder: str, path: str) -> None:
    """Move an output folder's old `.batchproc/` state to `path` (once), then remove the folder."""
    old = os.path.join(folder, OLD_STATE_FOLDER)
    database = os.path.join(old, "state.sqlite")
    if not os.path.isdir(old):
        return
    import shutil

    if os.path.isfile(database) and not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy2(database, path + ".migrating")
        os.replace(path + ".migrating", path)
    shutil.rmtree(old, ignore_errors=True)
