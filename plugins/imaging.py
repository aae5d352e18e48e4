"""Reading and writing pictures correctly: formats, orientation, colour modes, metadata, bombs."""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass

from batchproc.errors import StepError

#: File extensions the image steps accept, and the decoders they may reach (no EPS, no PDF...).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif",
                              ".tif", ".tiff", ".bmp"})
DECODERS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP")  # JPEG covers MPO (camera JPEGs)
#: Output formats: name -> (Pillow format, extension).
FORMATS = {"jpeg": ("JPEG", ".jpg"), "png": ("PNG", ".png"), "webp": ("WEBP", ".webp"),
           "gif": ("GIF", ".gif"), "tiff": ("TIFF", ".tif"), "bmp": ("BMP", ".bmp"),
           "avif": ("AVIF", ".avif")}
#: Quality when no step chose one. AVIF's scale runs lower: its 60 looks like JPEG's 85.
DEFAULT_QUALITY = {"jpeg": 85, "webp": 85, "avif": 60}
#: What a saved picture may carry over from `image.info`: everything else there is metadata
#: that some Pillow writers copy on their own (a JPEG comment, a TIFF or AVIF ICC profile).
_INFO_KEPT = ("dpi", "transparency")
_EXTENSION_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg",
                      ".png": "png", ".webp": "webp", ".gif": "gif", ".tif": "tiff",
                      ".tiff": "tiff", ".bmp": "bmp"}
DEFAULT_MAX_PIXELS = 200_000_000
ORIENTATION = 0x0112


def avif_supported() -> bool:
    """True if the installed Pillow can write AVIF (built in from Pillow 11.3's wheels)."""
    from PIL import features

    return bool(features.check("avif"))


def format_for(extension: str, wanted: str) -> str:
    """The output format name: `wanted`, or for "keep" the one the extension implies."""
    if wanted != "keep":
        return wanted
    return _EXTENSION_FORMATS.get(extension.lower(), "png")


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


def flatten(image, background: str = "white"):
    """Composite alpha onto a background colour (for formats without alpha, like JPEG)."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA"):
        return image
    base_mode = "RGB" if image.mode == "RGBA" else "L"
    base = Image.new(base_mode, image.size, background)
    base.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return base


@dataclass
class Metadata:
    """What travels from the input to the output unless --strip: EXIF, ICC profile, XMP."""

    exif: bytes | None = None
    icc_profile: bytes | None = None
    xmp: bytes | None = None

    @classmethod
    def of(cls, image, *, strip: bool, reset_orientation: bool) -> "Metadata":
        if strip:
            return cls()
        exif = None
        try:
            tags = image.getexif()
            if len(tags):
                if reset_orientation and ORIENTATION in tags:
                    tags[ORIENTATION] = 1
                exif = tags.tobytes()
        except Exception:
            exif = None
        return cls(exif=exif, icc_profile=image.info.get("icc_profile"),
                   xmp=image.info.get("xmp") or image.info.get("XML:com.adobe.xmp"))


def save(image, target, fmt: str, *, quality: int | None, metadata: Metadata,
         background: str = "white", lossless: bool = False, frames=None,
         frame_info: dict | None = None) -> None:
    """Write `image` (and any further animation `frames`) to `target` in format `fmt`."""
    from PIL import ImageFile

    pillow_format = FORMATS[fmt][0]
    quality = quality or DEFAULT_QUALITY.get(fmt, 85)
    if isinstance(image, ImageFile.ImageFile):
        # Still the file as opened: a plain copy, since some writers (TIFF) copy tags from the
        # file an image was read from.
        image = image.copy()
    for frame in (image, *(frames or ())):
        frame.info = {key: frame.info[key] for key in _INFO_KEPT if key in frame.info}
    options: dict = {}
    if metadata.icc_profile and image.mode in ("RGB", "RGBA", "L", "LA"):
        options["icc_profile"] = metadata.icc_profile
    if metadata.exif and fmt in ("jpeg", "png", "webp", "tiff", "avif"):
        options["exif"] = metadata.exif
    if metadata.xmp and fmt in ("jpeg", "png", "webp", "avif"):
        options["xmp"] = metadata.xmp if isinstance(metadata.xmp, bytes) else metadata.xmp.encode()
    if fmt == "jpeg":
        image = flatten(image, background)
        options.update(quality=quality)
    elif fmt == "webp":
        options.update(quality=quality, lossless=lossless)
    elif fmt == "avif":
        # Pillow's AVIF encoder has no bit-exact mode: "lossless" is its closest, quality 100
        # with full-resolution colour (differences of a level or two).
        if lossless:
            options.update(quality=100, subsampling="4:4:4")
        else:
            options.update(quality=quality)
    elif fmt == "png":
        options.update(compress_level=6)
    elif fmt == "tiff":
        options.update(compression="tiff_adobe_deflate")  # lossless, and far smaller than raw
    elif fmt == "bmp":
        image = flatten(image, background)
    if frames:
        options.update(save_all=True, append_images=frames, **(frame_info or {}))
    image.save(target, format=pillow_format, **options)
