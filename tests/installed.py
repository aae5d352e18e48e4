"""Plugins as pip would leave them in site-packages, without installing anything."""

from __future__ import annotations

from pathlib import Path


def write_dist_info(site: Path, module_name: str, entry_name: str | None = None) -> None:
    """The dist-info of a package `module_name` whose entry point in the `batchproc` group is
    `entry_name` (default: the module's name), so that importlib.metadata finds it in `site`."""
    dist = site / f"{module_name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module_name.replace('_', '-')}\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[batchproc]\n{entry_name or module_name} = {module_name}\n")


def write_plugin_package(site: Path, module_name: str, source: str) -> Path:
    """A one-module plugin package in `site`: the module and its dist-info."""
    write_dist_info(site, module_name)
    module = site / f"{module_name}.py"
    module.write_text(source)
    return module
