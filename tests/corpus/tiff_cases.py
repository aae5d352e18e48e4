"""The TIFF cases: strips and tiles, chunky and planar, every common compression, bit depth
and colour space, BigTIFF, several pages, metadata, odd layouts and broken files."""

from __future__ import annotations

from .cases import case, half_of, magick_case, pillow_case, run, tiffcp_case, vips_case
from .pictures import H, W, picture, srgb_profile, vips_picture
from .tiff_layouts import (multipage_modes, planar_16bit, planar_16bit_alpha, plain_tiff,
                           tiff_bps_4bit_palette, tiff_bps_4bit_rgb, tiff_bps_12bit_grey,
                           tiff_bps_single_value, tiff_exif_ifds, tiff_orientation,
                           tiff_photoshop, tiff_photoshop_long, tiff_strips_past_eof,
                           tiff_unspecified_alpha)


def _save_tiff(mode="RGB", size=(W, H), **options):
    """A source writer for tiffcp cases: Pillow's raw TIFF of the picture in `mode`."""
    return lambda path: picture(*size, mode=mode).save(path, **options)


def add_tiff_cases():
    rgb = _save_tiff()
    # Pillow's own writers (raw is Pillow's Python writer; anything compressed is libtiff).
    for compression, name in [(None, "raw"), ("tiff_lzw", "lzw"), ("tiff_adobe_deflate", "deflate"),
                              ("packbits", "packbits")]:
        options = {"compression": compression} if compression else {}
        pillow_case(f"tiff/{name}-rgb-8bit", ".tif", picture, **options)
    pillow_case("tiff/jpeg-rgb-8bit", ".tif", picture, compression="jpeg", quality=85)
    pillow_case("tiff/jpeg-ycbcr-1x1-strip", ".tif", lambda: picture(mode="YCbCr"), compression="jpeg")
    pillow_case("tiff/raw-ycbcr-1x1", ".tif", lambda: picture(mode="YCbCr"))
    tiffcp_case("tiff/jpeg-ycbcr-1x1-tiled", _save_tiff("YCbCr", compression="jpeg"),
                "-t", "-w", "32", "-l", "32", "-c", "jpeg")
    odd = _save_tiff(size=(99, 69))  # odd sizes: half a chroma sample, partial strips and tiles
    tiffcp_case("tiff/jpeg-ycbcr-2x2-strip", odd, "-c", "jpeg", "-r", "16", size=(99, 69))
    tiffcp_case("tiff/jpeg-ycbcr-2x2-tiled", odd, "-t", "-w", "32", "-l", "32", "-c", "jpeg",
                size=(99, 69))
    vips_case("tiff/jpeg-ycbcr-2x2-strip-vips", ".tif", vips_picture, compression="jpeg", Q=75)
    vips_case("tiff/jpeg-ycbcr-2x2-tiled-vips", ".tif", vips_picture, compression="jpeg", Q=75,
              tile=True, tile_width=32, tile_height=32)
    vips_case("tiff/jpeg-rgb-q95-vips", ".tif", vips_picture, compression="jpeg", Q=95)
    tiffcp_case("tiff/jpeg-rgb-tiled", rgb, "-t", "-w", "32", "-l", "32", "-c", "jpeg:r")

    # Grey, bilevel and fax.
    pillow_case("tiff/raw-grey-8bit", ".tif", lambda: picture(mode="L"))
    pillow_case("tiff/lzw-grey-8bit", ".tif", lambda: picture(mode="L"), compression="tiff_lzw")
    pillow_case("tiff/raw-grey-1bit", ".tif", lambda: picture(mode="1"))
    pillow_case("tiff/packbits-grey-1bit", ".tif", lambda: picture(mode="1"), compression="packbits")
    pillow_case("tiff/g3-1bit", ".tif", lambda: picture(mode="1"), compression="group3")
    pillow_case("tiff/g4-1bit", ".tif", lambda: picture(mode="1"), compression="group4")
    bilevel = _save_tiff("1")
    tiffcp_case("tiff/g3-2d-1bit", bilevel, "-c", "g3:2d")
    tiffcp_case("tiff/g3-1d-fill-1bit", bilevel, "-c", "g3:1d:fill")
    tiffcp_case("tiff/g4-tiled-1bit", bilevel, "-t", "-w", "32", "-l", "32", "-c", "g4")
    tiffcp_case("tiff/g4-lsb2msb-1bit", bilevel, "-f", "lsb2msb", "-c", "g4")
    vips_case("tiff/g4-miniswhite-1bit-vips", ".tif", lambda: vips_picture().colourspace("b-w"),
              compression="ccittfax4", bitdepth=1, miniswhite=True)
    vips_case("tiff/raw-grey-2bit-vips", ".tif", lambda: vips_picture().colourspace("b-w"), bitdepth=2)
    vips_case("tiff/lzw-grey-4bit-vips", ".tif", lambda: vips_picture().colourspace("b-w"),
              bitdepth=4, compression="lzw", predictor="none")

    # Deep and wide samples: 16 and 32-bit integers, floats.
    pillow_case("tiff/raw-grey-16bit", ".tif", lambda: picture(mode="I;16"))
    pillow_case("tiff/deflate-grey-16bit", ".tif", lambda: picture(mode="I;16"),
                compression="tiff_adobe_deflate")
    pillow_case("tiff/raw-grey-32bit-int", ".tif", lambda: picture(mode="I"))
    pillow_case("tiff/raw-grey-32bit-float", ".tif", lambda: picture(mode="F"))
    vips_case("tiff/deflate-grey-32bit-float-predictor3", ".tif",
              lambda: vips_picture().colourspace("b-w").cast("float") / 255, compression="deflate",
              predictor="float")
    tiffcp_case("tiff/lzw-grey-32bit-float-predictor3", _save_tiff("F"), "-c", "lzw:3")
    vips_case("tiff/raw-grey-16bit-signed-vips", ".tif",
              lambda: (vips_picture().colourspace("b-w").cast("short") * 64 - 8192).cast("short"))
    vips_case("tiff/raw-grey-64bit-float-vips", ".tif",
              lambda: vips_picture().colourspace("b-w").cast("double") / 255)
    vips_case("tiff/lzw-rgb-16bit", ".tif", lambda: vips_picture().colourspace("rgb16"),
              compression="lzw", predictor="none")
    vips_case("tiff/deflate-rgb-16bit", ".tif", lambda: vips_picture().colourspace("rgb16"),
              compression="deflate", predictor="none")
    vips_case("tiff/lzw-rgb-16bit-predictor2", ".tif", lambda: vips_picture().colourspace("rgb16"),
              compression="lzw", predictor="horizontal")
    vips_case("tiff/lzw-rgba-16bit", ".tif", lambda: vips_picture(alpha=True).colourspace("rgb16"),
              compression="lzw")
    vips_case("tiff/raw-rgb-32bit-float-vips", ".tif", lambda: vips_picture().cast("float") / 255)
    tiffcp_case("tiff/lzw-rgb-8bit-predictor2", rgb, "-c", "lzw:2")
    tiffcp_case("tiff/deflate-rgb-8bit-predictor2", rgb, "-c", "zip:2")

    # Palette, alpha, CMYK, Lab.
    pillow_case("tiff/raw-palette-8bit", ".tif", lambda: picture(mode="P"))
    pillow_case("tiff/lzw-palette-8bit", ".tif", lambda: picture(mode="P"), compression="tiff_lzw")
    pillow_case("tiff/raw-rgba-8bit", ".tif", lambda: picture(mode="RGBA"))
    pillow_case("tiff/deflate-rgba-8bit", ".tif", lambda: picture(mode="RGBA"),
                compression="tiff_adobe_deflate")
    pillow_case("tiff/raw-grey-alpha-8bit", ".tif", lambda: picture(mode="LA"))
    vips_case("tiff/lzw-rgba-8bit-tiled-premultiplied", ".tif", lambda: vips_picture(alpha=True),
              compression="lzw", tile=True, tile_width=32, tile_height=32, premultiply=True)
    pillow_case("tiff/raw-cmyk-8bit", ".tif", lambda: picture(mode="CMYK"))
    pillow_case("tiff/lzw-cmyk-8bit", ".tif", lambda: picture(mode="CMYK"), compression="tiff_lzw")
    vips_case("tiff/lzw-cmyk-16bit", ".tif", lambda: vips_picture().icc_export(
        output_profile="cmyk", depth=16), compression="lzw")
    vips_case("tiff/jpeg-cmyk-8bit", ".tif", lambda: vips_picture().icc_export(output_profile="cmyk"),
              compression="jpeg", Q=85)
    magick_case("tiff/jpeg-cmyk-8bit-magick", ".tif", "-colorspace", "CMYK", "-compress", "JPEG", "TIFF:")
    pillow_case("tiff/raw-lab-8bit", ".tif", lambda: picture(mode="LAB"))
    vips_case("tiff/raw-lab-32bit-float-vips", ".tif", lambda: vips_picture().colourspace("lab"))
    vips_case("tiff/raw-lab-16bit-vips", ".tif", lambda: vips_picture().colourspace("labs"))

    # Planar (separate image planes) and tiles: only libtiff writes these.
    for compression in ("none", "lzw", "zip", "packbits"):
        name = {"zip": "deflate", "none": "raw"}.get(compression, compression)
        tiffcp_case(f"tiff/planar-{name}-rgb-8bit", rgb, "-p", "separate", "-c", compression)
    tiffcp_case("tiff/planar-lzw-rgb-16bit", planar_16bit, "-c", "lzw")
    tiffcp_case("tiff/planar-raw-rgba-8bit", _save_tiff("RGBA"), "-p", "separate", "-c", "none")
    tiffcp_case("tiff/planar-lzw-rgba-16bit", planar_16bit_alpha, "-c", "lzw")
    case("tiff/planar-raw-rgb-16bit")(lambda path, _: planar_16bit(path))
    tiffcp_case("tiff/planar-tiled-raw-rgb-8bit", rgb, "-p", "separate", "-t", "-w", "32", "-l", "32",
                "-c", "none")
    tiffcp_case("tiff/planar-tiled-lzw-rgb-16bit", planar_16bit, "-t", "-w", "32", "-l", "32",
                "-c", "lzw")
    tiffcp_case("tiff/planar-jpeg-rgb-8bit", rgb, "-p", "separate", "-c", "jpeg:r", "-r", "16")
    tiffcp_case("tiff/planar-lzw-cmyk-8bit", _save_tiff("CMYK"), "-p", "separate", "-c", "lzw")
    tiffcp_case("tiff/planar-deflate-grey-alpha-8bit", _save_tiff("LA"), "-p", "separate", "-c", "zip")
    tiffcp_case("tiff/tiled-raw-rgb-8bit", odd, "-t", "-w", "32", "-l", "32", "-c", "none",
                size=(99, 69))
    tiffcp_case("tiff/tiled-lzw-rgb-8bit", odd, "-t", "-w", "32", "-l", "32", "-c", "lzw",
                size=(99, 69))
    tiffcp_case("tiff/tiled-packbits-palette-8bit", _save_tiff("P"), "-t", "-w", "32", "-l", "32",
                "-c", "packbits")
    tiffcp_case("tiff/tiled-deflate-grey-16bit", _save_tiff("I;16"), "-t", "-w", "32", "-l", "32",
                "-c", "zip")
    tiffcp_case("tiff/strips-of-one-row-lzw-rgb-8bit", rgb, "-r", "1", "-c", "lzw")
    tiffcp_case("tiff/big-endian-lzw-rgb-8bit", rgb, "-B", "-c", "lzw")
    tiffcp_case("tiff/big-endian-raw-grey-16bit", _save_tiff("I;16"), "-B", "-c", "none")

    # BigTIFF.
    pillow_case("tiff/bigtiff-raw-rgb-8bit", ".tif", picture, big_tiff=True)
    vips_case("tiff/bigtiff-lzw-rgb-8bit-vips", ".tif", vips_picture, bigtiff=True, compression="lzw")
    tiffcp_case("tiff/bigtiff-tiled-deflate-rgb-8bit", rgb, "-8", "-t", "-w", "32", "-l", "32",
                "-c", "zip")
    tiffcp_case("tiff/bigtiff-jpeg-ycbcr-2x2", rgb, "-8", "-c", "jpeg", "-r", "16")
    tiffcp_case("tiff/bigtiff-g4-1bit", bilevel, "-8", "-c", "g4")

    # Several pages.
    def pages(path, scratch, mode="RGB", **options):
        first, *rest = [picture(*size, seed, mode) for seed, size in
                        enumerate([(W, H), (64, 96), (48, 32)])]
        first.save(path, save_all=True, append_images=rest, **options)
    case("tiff/multipage-sizes", ".tif", frames=3)(pages)
    case("tiff/multipage-sizes-lzw", ".tif", frames=3)(
        lambda path, scratch: pages(path, scratch, compression="tiff_lzw"))
    case("tiff/multipage-palette", ".tif", frames=3)(lambda path, scratch: pages(path, scratch, "P"))
    case("tiff/multipage-modes", ".tif", frames=4)(multipage_modes)

    def tiffcp_pages(path, scratch):
        pages(scratch / "pages.tif", scratch)
        run("tiffcp", "-c", "lzw", "-p", "separate", scratch / "pages.tif", path)
    case("tiff/multipage-sizes-planar", ".tif", frames=3, tools=("tiffcp",))(tiffcp_pages)
    vips_case("tiff/multipage-same-size-vips", ".tif",
              lambda: vips_picture(W, H * 3).copy(), frames=3, page_height=H, compression="lzw")
    vips_case("tiff/pyramid-jpeg-tiled", ".tif", vips_picture, frames=4, pyramid=True, tile=True,
              tile_width=16, tile_height=16, compression="jpeg")
    vips_case("tiff/pyramid-subifd-deflate", ".tif", vips_picture, pyramid=True, subifd=True,
              tile=True, tile_width=16, tile_height=16, compression="deflate")

    # Metadata: descriptive tags a TIFF may carry.
    pillow_case("tiff/icc-profile-rgb", ".tif", picture, icc_profile=srgb_profile(),
                compression="tiff_lzw")
    case("tiff/photoshop-iptc-xmp")(tiff_photoshop)
    case("tiff/photoshop-iptc-as-long")(tiff_photoshop_long)
    case("tiff/exif-gps-ifds")(tiff_exif_ifds)
    case("tiff/orientation-6")(tiff_orientation)
    case("tiff/description-software-dpi")(lambda path, _: picture().save(
        path, compression="tiff_lzw", description="a corpus picture", software="batchproc corpus",
        dpi=(300, 300)))

    # Odd BitsPerSample and sample layouts, written byte by byte.
    case("tiff/odd-bps-single-value-rgb-8bit")(tiff_bps_single_value)
    case("tiff/odd-bps-4bit-rgb")(tiff_bps_4bit_rgb)
    case("tiff/odd-bps-12bit-grey")(tiff_bps_12bit_grey)
    case("tiff/odd-bps-4bit-palette")(tiff_bps_4bit_palette)
    case("tiff/odd-extrasamples-unspecified-rgba")(tiff_unspecified_alpha)

    # Broken on purpose.
    case("tiff/truncated-half", ".tif", hostile=True)(
        half_of(lambda path: picture().save(path, compression="tiff_lzw")))
    case("tiff/ifd-offset-past-eof", ".tif", size=None, frames=None, hostile=True)(
        lambda path, _: path.write_bytes(plain_tiff(ifd_offset=1 << 20)))
    case("tiff/ifd-loop", ".tif", frames=None, hostile=True)(
        lambda path, _: path.write_bytes(plain_tiff(next_ifd=-1)))
    case("tiff/strip-offsets-past-eof", ".tif", hostile=True)(tiff_strips_past_eof)
