"""Imported once by the server workers start from, for image steps: Pillow with the decoders
batchproc uses, and libvips set up as batchproc.image.vips sets it up (when installed), so no
worker spends its first file importing them."""

from PIL import GifImagePlugin, Image, JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin  # noqa: F401

from batchproc.image import vips

vips.load()
