"""The JPEG cases: subsampling, progressive, CMYK, every EXIF orientation, profiles,
metadata good and bad, arithmetic coding, MPO, a truncated file."""

from __future__ import annotations

from images import marked, save_oriented

from .byte_writers import exif_bad_offsets, jpeg_with_segments, jpeg_without
from .cases import case, half_of, pillow_case, run, vips_case
from .pictures import H, W, camera_exif, jpeg_bytes, noise, picture, srgb_profile, vips_picture


def add_jpeg_cases():
    for name, options in [("baseline-420", {"subsampling": 2}), ("baseline-444", {"subsampling": 0}),
                          ("baseline-422", {"subsampling": 1}), ("progressive", {"progressive": True}),
                          ("optimized-restart-markers", {"optimize": True, "restart_marker_rows": 1})]:
        pillow_case(f"jpeg/{name}", ".jpg", picture, quality=85, **options)
    pillow_case("jpeg/odd-size-97x61", ".jpg", lambda: picture(97, 61), size=(97, 61))
    pillow_case("jpeg/progressive-160x120", ".jpg", lambda: picture(160, 120), size=(160, 120),
                progressive=True)
    pillow_case("jpeg/grey", ".jpg", lambda: picture(mode="L"))
    pillow_case("jpeg/grey-progressive", ".jpg", lambda: picture(mode="L"), progressive=True)
    pillow_case("jpeg/cmyk-adobe-inverted", ".jpg", lambda: picture(mode="CMYK"))
    case("jpeg/cmyk-no-adobe-marker")(lambda path, _: path.write_bytes(jpeg_without(
        jpeg_bytes(picture(mode="CMYK")), 0xEE)))
    vips_case("jpeg/cmyk-icc-profile", ".jpg",
              lambda: vips_picture().icc_export(output_profile="cmyk"), Q=85)
    for orientation in range(1, 9):
        case(f"jpeg/exif-orientation-{orientation}")(
            lambda path, _, o=orientation: save_oriented(marked(W, H), path, o, quality=90))
    pillow_case("jpeg/icc-srgb", ".jpg", picture, icc_profile=srgb_profile())
    vips_case("jpeg/icc-display-p3", ".jpg", lambda: vips_picture().icc_transform("p3"), Q=85)
    pillow_case("jpeg/exif-camera", ".jpg", picture, exif=camera_exif())
    pillow_case("jpeg/xmp-comment", ".jpg", picture, xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
                comment=b"a corpus picture")
    case("jpeg/exif-bad-offsets")(lambda path, _: path.write_bytes(jpeg_with_segments(
        jpeg_bytes(picture()), [(0xE1, b"Exif\0\0" + exif_bad_offsets())])))
    case("jpeg/exif-garbage")(lambda path, _: path.write_bytes(jpeg_with_segments(
        jpeg_bytes(picture()), [(0xE1, b"Exif\0\0" + noise(3000, 7))])))
    case("jpeg/app-segments-huge-garbage")(lambda path, _: path.write_bytes(jpeg_with_segments(
        jpeg_bytes(picture()), [(0xE0 + n, noise(65533, n)) for n in (3, 9, 15)])))
    case("jpeg/arithmetic", tools=("jpegtran",))(_jpegtran("-arithmetic"))
    case("jpeg/arithmetic-progressive", tools=("jpegtran",))(_jpegtran("-arithmetic", "-progressive"))
    case("jpeg/mpo", frames=2)(lambda path, _: picture().save(
        path, format="MPO", save_all=True, append_images=[picture(seed=2)]))
    case("jpeg/truncated-half", ".jpg", hostile=True)(half_of(lambda path: picture().save(path)))



def _jpegtran(*options):
    def write(path, scratch):
        picture().save(scratch / "source.jpg", quality=85)
        run("jpegtran", *options, "-copy", "all", "-outfile", path, scratch / "source.jpg")
    return write
