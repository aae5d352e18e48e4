"""Imported once by the worker server when resize may use libvips, so that every worker starts
with libvips loaded (and set to one thread per worker) instead of loading it itself."""

from batchproc_plugins import vips_resize

vips_resize.available()
