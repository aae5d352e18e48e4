"""The walk: recursion, filters, depth, hidden files, symbolic links, special files, streaming."""

import os
import socket

import pytest

from batchproc import walk as walk_module
from batchproc.walk import WalkRules, found_in_tree, walk, walk_below


def make(root, *relpaths):
    for relpath in relpaths:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def found(root, **rules):
    """{relpath: problem} for everything the walk reports under root."""
    return {f.relpath: f.problem for folder in walk([str(root)], WalkRules(**rules)) for f in folder}


def test_recursive_by_default_and_one_list_per_folder(tmp_path):
    make(tmp_path, "a.jpg", "b.jpg", "sub/c.jpg", "sub/deeper/d.jpg")
    folders = [[f.relpath for f in folder] for folder in walk([str(tmp_path)], WalkRules())]
    assert folders == [["a.jpg", "b.jpg"], ["sub/c.jpg"], ["sub/deeper/d.jpg"]]


@pytest.mark.parametrize("rules, expected", [
    ({"include": ("*.jpg",)}, {"a.jpg": None, "b.png": "filtered (not matched by --include)",
                               "sub/c.jpg": None}),
    ({"exclude": ("*.png",)}, {"a.jpg": None, "b.png": "filtered (matched by --exclude)",
                               "sub/c.jpg": None}),
    ({"exclude": ("sub",)}, {"a.jpg": None, "b.png": None}),  # an excluded folder is not entered
    ({"include": ("sub/*.jpg",)}, {"a.jpg": "filtered (not matched by --include)",
                                   "b.png": "filtered (not matched by --include)", "sub/c.jpg": None}),
    ({"max_depth": 1}, {"a.jpg": None, "b.png": None}),
])
def test_filters(tmp_path, rules, expected):
    make(tmp_path, "a.jpg", "b.png", "sub/c.jpg")
    assert found(tmp_path, **rules) == expected


def test_hidden_files_and_folders_skipped_unless_asked(tmp_path):
    make(tmp_path, "a.jpg", ".b.jpg", ".cache/c.jpg")
    assert found(tmp_path) == {"a.jpg": None}
    assert found(tmp_path, hidden=True) == {"a.jpg": None, ".b.jpg": None, ".cache/c.jpg": None}


def test_batchproc_state_and_temporaries_never_walked(tmp_path):
    make(tmp_path, "a.jpg", ".batchproc/state.sqlite", ".batchproc-123-ab-a.jpg")
    assert found(tmp_path, hidden=True) == {"a.jpg": None}


def test_pruned_output_folder_is_not_walked(tmp_path):
    make(tmp_path, "a.jpg", "out/a.jpg")
    assert found(tmp_path, prune=frozenset({str(tmp_path / "out")})) == {"a.jpg": None}


def test_symlinks_reported_not_followed_by_default(tmp_path):
    make(tmp_path, "real/a.jpg")
    (tmp_path / "link.jpg").symlink_to(tmp_path / "real/a.jpg")
    (tmp_path / "linkdir").symlink_to(tmp_path / "real")
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "missing.jpg")
    assert found(tmp_path) == {
        "dangling.jpg": "dangling symbolic link",
        "link.jpg": "symbolic link (use --follow-symlinks)",
        "linkdir": "symbolic link (use --follow-symlinks)",
        "real/a.jpg": None,
    }


def test_followed_symlink_loop_is_detected(tmp_path):
    make(tmp_path, "a/x.jpg")
    (tmp_path / "a/loop").symlink_to(tmp_path / "a")
    result = found(tmp_path, follow_symlinks=True)
    assert result["a/x.jpg"] is None
    assert "already walked" in result["a/loop"]
    assert len(result) == 2


def test_special_files_are_reported_never_opened(tmp_path):
    make(tmp_path, "a.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock.jpg"))
        assert found(tmp_path) == {
            "a.jpg": None,
            "pipe.jpg": "not a regular file (fifo)",
            "sock.jpg": "not a regular file (socket)",
        }


def test_files_given_directly_and_missing_paths(tmp_path):
    make(tmp_path, ".hidden.jpg")
    results = [f for folder in walk([str(tmp_path / ".hidden.jpg"), str(tmp_path / "nope.jpg")],
                                    WalkRules()) for f in folder]
    assert [(f.relpath, f.problem, f.fatal) for f in results] == [
        (".hidden.jpg", None, False),  # named explicitly: taken as given
        ("nope.jpg", "No such file or directory", True),
    ]


def test_unreadable_folder_is_reported(tmp_path, monkeypatch):
    make(tmp_path, "ok/a.jpg", "locked/b.jpg")
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(walk_module.os, "scandir", scandir)
    result = {f.relpath: (f.problem, f.fatal) for folder in walk([str(tmp_path)], WalkRules())
              for f in folder}
    assert result == {"locked": ("cannot read folder: Permission denied", True), "ok/a.jpg": (None, False)}


def test_walk_is_lazy(tmp_path, monkeypatch):
    make(tmp_path, *(f"d{i}/a.jpg" for i in range(50)))
    calls = []
    real_scandir = os.scandir
    monkeypatch.setattr(walk_module.os, "scandir", lambda path: calls.append(path) or real_scandir(path))
    first = next(walk([str(tmp_path)], WalkRules()))
    assert [f.relpath for f in first] == ["d0/a.jpg"]
    assert len(calls) == 2  # the root and the first folder: nothing more before work can start


@pytest.mark.parametrize("rules", [
    {}, {"hidden": True}, {"include": ("*.jpg",)}, {"exclude": ("skip",)}, {"exclude": ("sub/*.png",)},
    {"max_depth": 2}, {"skip_partial": True},
])
def test_the_verdict_on_one_path_is_the_walks_own(tmp_path, rules):
    for relpath in ("a.jpg", "b.png", ".hidden.jpg", "c.jpg.part", "sub/d.png", "sub/e.jpg",
                    "skip/f.jpg", ".dot/g.jpg", "sub/deeper/h.jpg", "out/i.jpg"):
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_bytes(b"x")
    os.symlink(tmp_path / "a.jpg", tmp_path / "link.jpg")
    walk_rules = WalkRules(prune=frozenset({str(tmp_path / "out")}), **rules)
    walked = {f.relpath: f.problem for folder in walk([str(tmp_path)], walk_rules) for f in folder}
    one_by_one = {}
    for path in tmp_path.rglob("*"):
        if path.is_file() or path.is_symlink():
            found = found_in_tree(str(tmp_path), str(path.relative_to(tmp_path)), walk_rules)
            if found is not None:
                one_by_one[found.relpath] = found.problem
    assert one_by_one == walked
    below = {f.relpath: f.problem for folder in walk_below(str(tmp_path), "sub", walk_rules) for f in folder}
    assert below == {relpath: problem for relpath, problem in walked.items() if relpath.startswith("sub/")}
