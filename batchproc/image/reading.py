"""Reading pictures correctly: only the known decoders, bombs refused, orientation, colour modes."""

from __future__ import annotations

import io
from contextlib import contextmanager

from batchproc.errors import StepError
from batchproc.image.formats import DECODERS

DEFAULT_MAX_PIXELS = 200_000_000
ORIENTATION = 0x0112


@contextmanager
def open_image(path, *, max_pixels: int = DEFAULT_MAX_PIXELS):
    """Open an image with only the known decoders, refusing decompression bombs before decoding."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # our own limit below, with a clearer message
    try:
        image = Image.open(path, formats=DECODERS)
    except UnidentifiedImageError:
        raise StepError("not a readable image (expected JPEG, PNG, WebP, GIF, TIFF or BMP)") from None
    except OSError as error:
        raise _as_corrupt(error) from None
    try:
        width, height = image.size
        if width * height > max_pixels:
            raise StepError(f"too many pixels: {width}x{height} is {width * height / 1e6:.0f} MP, "
                            f"over --max-pixels {max_pixels / 1e6:.0f} MP")
        yield image
    except OSError as error:
        raise _as_corrupt(error) from None
    except (SyntaxError, ValueError) as error:  # Pillow's decoders signal corrupt data this way
        raise StepError(f"corrupt image ({error})") from None
    finally:
        image.close()


def _as_corrupt(error: OSError) -> Exception:
    """Pillow's decoding errors as one line; real I/O errors (with an errno) stay what they are."""
    if error.errno is not None:
        return error
    return StepError(f"truncated or corrupt image ({error})")


def orientation(image) -> int:
    """The EXIF orientation (1-8) of an image, 1 if absent or nonsense."""
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # broken EXIF must not cost the picture
        return 1
    return value if value in range(1, 9) else 1


def upright(image, value: int):
    """Apply an EXIF orientation to the pixels (after resizing: cheaper on fewer pixels)."""
    from PIL import Image

    method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}.get(value)
    return image if method is None else image.transpose(method)


def to_working_mode(image):
    """Bring any decoded mode to L, LA, RGB or RGBA at 8 bits, colours converted to sRGB."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if mode == "P":
        has_alpha = "transparency" in image.info or image.palette.mode == "RGBA"
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode in ("PA", "RGBa", "RGBX"):
        return image.convert("RGBA" if mode != "RGBX" else "RGB")
    if mode == "La":
        return image.convert("LA")
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16-bit (and 32-bit) grey: scale down to 8 bits instead of clipping at 255.
        wide = image if mode == "I" else image.convert("I") if mode != "F" else image
        divisor = 257 if mode.startswith("I;16") or max(wide.getextrema()) > 255 else 1
        return wide.point(lambda value: value / divisor).convert("L")
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    return image.convert("RGB")


def _cmyk_to_rgb(image):
    icc = image.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            converted = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"),
                outputMode="RGB")
            converted.info.pop("icc_profile", None)
            return converted
        except Exception:  # a broken profile: fall back to the naive conversion
            pass
    converted = image.convert("RGB")
    converted.info.pop("icc_profile", None)
    return converted
