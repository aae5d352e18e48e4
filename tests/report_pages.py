"""Reading a report page in tests: its pictures, links and text, with the standard library."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from PIL import Image

#: Anything a browser would fetch from elsewhere: a scheme with a host, or a protocol-relative URL.
EXTERNAL = re.compile(r"""(?:\b[a-z][a-z0-9+.-]*:)?//[^\s"'<>)]+""", re.IGNORECASE)


class Page(HTMLParser):
    """What a report page holds."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.path = Path(path)
        self.html = self.path.read_text(encoding="utf-8")
        self.images: list[dict] = []
        self.links: list[str] = []
        self.tags: list[str] = []
        self._text: list[str] = []
        self.feed(self.html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])

    def handle_data(self, data):
        self._text.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self._text))

    def pictures(self) -> list[Image.Image]:
        """Every <img> decoded from its data: URI."""
        decoded = []
        for image in self.images:
            header, _, data = image["src"].partition(",")
            assert header in ("data:image/jpeg;base64", "data:image/webp;base64"), header
            picture = Image.open(io.BytesIO(base64.b64decode(data)))
            picture.load()
            decoded.append(picture)
        return decoded

    def linked_files(self) -> list[Path]:
        """Where the links that are not anchors point, resolved from the page's folder."""
        return [self.path.parent / unquote(link) for link in self.links if not link.startswith("#")]

    def external_urls(self) -> list[str]:
        """URLs of anything outside the page and its files (data: URIs set aside: base64 may
        hold //)."""
        return EXTERNAL.findall(re.sub(r'"data:[^"]*"', '""', self.html))
