"""The strip step: metadata gone, pictures copied byte for byte, orientation and ICC on request."""

import io

import pytest
from PIL import Image, ImageChops, ImageCms, PngImagePlugin

from images import photo

SECRETS = (b"ACME", b"SECRET-XMP", b"SECRET-COMMENT", b"SECRET-TEXT")
PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SECRET-XMP</x:xmpmeta>'


def camera_exif(orientation=1):
    exif = Image.Exif()
    exif[0x010F] = "ACME"  # camera make
    exif[0x0112] = orientation
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPS latitude
    return exif


def strip(cli, tmp_path, *options):
    return cli("strip", tmp_path / "imgs", "--jobs", 1, *options)


def same_pixels(a, b):
    with Image.open(a) as first, Image.open(b) as second:
        return ImageChops.difference(first.convert("RGBA"), second.convert("RGBA")).getbbox() is None


def jpeg_scan(data: bytes) -> bytes:
    """The compressed picture: from the start-of-scan marker on."""
    return data[data.index(b"\xff\xda"):]


@pytest.mark.parametrize("encoding", [{}, {"progressive": True}, {"restart_marker_rows": 1}])
def test_jpeg_loses_metadata_and_keeps_its_compressed_picture(cli, tmp_path, encoding):
    (tmp_path / "imgs").mkdir()
    source = tmp_path / "imgs/a.jpg"
    photo(300, 200).save(source, exif=camera_exif(), icc_profile=PROFILE, xmp=XMP,
                         comment=b"SECRET-COMMENT", quality=90, **encoding)
    result = strip(cli, tmp_path)
    assert result.exit_code == 0, result
    data = (tmp_path / "imgs_stripped/a.jpg").read_bytes()
    assert not any(secret in data for secret in SECRETS)
    assert jpeg_scan(data) == jpeg_scan(source.read_bytes())  # not re-encoded: the same bytes
    with Image.open(tmp_path / "imgs_stripped/a.jpg") as out:
        assert "icc_profile" not in out.info and not out.getexif()
    assert same_pixels(source, tmp_path / "imgs_stripped/a.jpg")


def test_keep_icc_keeps_the_profile_only(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    photo(300, 200).save(tmp_path / "imgs/a.jpg", exif=camera_exif(), icc_profile=PROFILE)
    photo(300, 200).save(tmp_path / "imgs/b.png", exif=camera_exif(), icc_profile=PROFILE)
    assert strip(cli, tmp_path, "--keep-icc").exit_code == 0
    for name in ("a.jpg", "b.png"):
        with Image.open(tmp_path / "imgs_stripped" / name) as out:
            assert out.info.get("icc_profile") == PROFILE and not out.getexif()


def test_orientation_alone_survives_so_pictures_stay_upright(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    photo(300, 200).save(tmp_path / "imgs/a.jpg", exif=camera_exif(orientation=6))
    assert strip(cli, tmp_path).exit_code == 0
    with Image.open(tmp_path / "imgs_stripped/a.jpg") as out:
        assert dict(out.getexif()) == {0x0112: 6}
        assert not out.getexif().get_ifd(0x8825)


def test_png_text_exif_and_profile_chunks_removed(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "SECRET-TEXT")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    source = tmp_path / "imgs/a.png"
    photo(120, 80, mode="RGBA").save(source, pnginfo=info, exif=camera_exif(), icc_profile=PROFILE)
    assert strip(cli, tmp_path).exit_code == 0
    data = (tmp_path / "imgs_stripped/a.png").read_bytes()
    assert not any(secret in data for secret in SECRETS) and b"iCCP" not in data
    assert same_pixels(source, tmp_path / "imgs_stripped/a.png")


def test_webp_exif_xmp_and_profile_removed(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    source = tmp_path / "imgs/a.webp"
    photo(120, 80).save(source, lossless=True, exif=camera_exif(orientation=3), xmp=XMP,
                        icc_profile=PROFILE)
    assert strip(cli, tmp_path).exit_code == 0
    data = (tmp_path / "imgs_stripped/a.webp").read_bytes()
    assert not any(secret in data for secret in SECRETS) and b"ICCP" not in data
    assert same_pixels(source, tmp_path / "imgs_stripped/a.webp")
    with Image.open(tmp_path / "imgs_stripped/a.webp") as out:
        assert dict(out.getexif()) == {0x0112: 3}


def test_animated_gif_comment_removed_frames_kept(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    frames = [photo(60, 40, seed=i).convert("P") for i in range(3)]
    source = tmp_path / "imgs/a.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=70, loop=0,
                   comment=b"SECRET-COMMENT")
    assert strip(cli, tmp_path).exit_code == 0
    data = (tmp_path / "imgs_stripped/a.gif").read_bytes()
    assert b"SECRET-COMMENT" not in data
    with Image.open(source) as before, Image.open(tmp_path / "imgs_stripped/a.gif") as after:
        assert after.n_frames == 3 and after.info["loop"] == 0
        for index in range(3):
            before.seek(index)
            after.seek(index)
            assert ImageChops.difference(before.convert("RGB"), after.convert("RGB")).getbbox() is None


def test_tiff_is_rewritten_losslessly_without_metadata(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    source = tmp_path / "imgs/a.tif"
    photo(120, 80).save(source, exif=camera_exif(), icc_profile=PROFILE)
    assert strip(cli, tmp_path).exit_code == 0
    with Image.open(tmp_path / "imgs_stripped/a.tif") as out:
        assert 0x010F not in out.getexif() and "icc_profile" not in out.info
    assert same_pixels(source, tmp_path / "imgs_stripped/a.tif")


@pytest.mark.parametrize("name, cut", [("a.jpg", 0.5), ("a.png", 0.5), ("a.gif", 0.7)])
def test_truncated_file_is_one_line_of_error(cli, tmp_path, name, cut):
    (tmp_path / "imgs").mkdir()
    buffer = io.BytesIO()
    photo(200, 100).save(buffer, format=Image.registered_extensions()[name[1:] and "." + name.split(".")[1]])
    data = buffer.getvalue()
    (tmp_path / "imgs" / name).write_bytes(data[: int(len(data) * cut)])
    result = strip(cli, tmp_path)
    assert result.exit_code == 1
    assert f"{name}: truncated or corrupt" in result.stderr and "Traceback" not in result.stderr


def test_resize_strip_drops_comments_too(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    photo(300, 200).save(tmp_path / "imgs/a.jpg", exif=camera_exif(), comment=b"SECRET-COMMENT")
    assert cli("resize", tmp_path / "imgs", "--width", 100, "--strip", "--jobs", 1).exit_code == 0
    data = (tmp_path / "imgs_resized/a.jpg").read_bytes()
    assert b"SECRET-COMMENT" not in data and b"ACME" not in data


def test_camera_mpo_keeps_its_first_picture_only(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    source = tmp_path / "imgs/a.jpg"
    first, second = photo(120, 80, seed=1), photo(120, 80, seed=2)
    first.save(source, format="MPO", save_all=True, append_images=[second], exif=camera_exif())
    assert strip(cli, tmp_path).exit_code == 0
    data = (tmp_path / "imgs_stripped/a.jpg").read_bytes()
    assert b"ACME" not in data and data.count(b"\xff\xd8") == 1 and data.endswith(b"\xff\xd9")
    with Image.open(source) as before, Image.open(tmp_path / "imgs_stripped/a.jpg") as after:
        assert after.format == "JPEG"
        assert ImageChops.difference(before.convert("RGB"), after.convert("RGB")).getbbox() is None


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bad_idat_checksum(data: bytes) -> bytes:
    end = data.index(b"IEND") - 4  # IDAT's CRC is the 4 bytes before IEND's length
    return data[:end - 4] + bytes(byte ^ 0xFF for byte in data[end - 4:end]) + data[end:]


@pytest.mark.parametrize("name, damage, reason", [
    ("a.png", bad_idat_checksum, "corrupt PNG file (bad checksum in its IDAT chunk)"),
    ("a.png", lambda data: data[:33] + png_chunk(b"IEND", b""), "truncated or corrupt PNG file (no image data)"),
    # Pillow 12 refuses to open such a JPEG at all; Pillow 13 opens it and the strip finds out.
    ("a.jpg", lambda data: data[:data.index(b"\xff\xda")] + b"\xff\xd9",
     ("corrupt JPEG file (no image data)", "not a readable image (expected JPEG, PNG, WebP, GIF, TIFF or BMP)")),
])
def test_a_file_with_no_sound_picture_is_not_passed_on(cli, tmp_path, name, damage, reason):
    # Pillow reads headers only here: libpng, libvips and browsers would refuse these outputs.
    (tmp_path / "imgs").mkdir()
    buffer = io.BytesIO()
    photo(60, 40).save(buffer, format="PNG" if name.endswith(".png") else "JPEG")
    (tmp_path / "imgs" / name).write_bytes(damage(buffer.getvalue()))
    result = strip(cli, tmp_path)
    assert result.exit_code == 1
    reasons = (reason,) if isinstance(reason, str) else reason
    assert result.stderr.splitlines()[0].endswith(tuple(f"{name}: {each}" for each in reasons))
