"""Target sizes: boxes, single sides, scale, ImageMagick flags, fit modes, never enlarging."""

import pytest

from batchproc.errors import UsageError
from batchproc_plugins.geometry import parse_geometry


@pytest.mark.parametrize("options, source, expected", [
    # contain (the default), shrink only
    ({"size": "800x600"}, (1600, 1200), ((800, 600), None)),
    ({"size": "800x600"}, (1200, 1600), ((450, 600), None)),
    ({"size": "800x600"}, (400, 300), ((400, 300), None)),  # never enlarged by default
    ({"size": "800x600>"}, (1600, 1000), ((800, 500), None)),
    ({"size": "800"}, (1600, 1200), ((800, 600), None)),
    ({"size": "x300"}, (1600, 1200), ((400, 300), None)),
    ({"width": 100}, (1000, 500), ((100, 50), None)),
    ({"height": 100}, (1000, 500), ((200, 100), None)),
    ({"longest": 500}, (1000, 2000), ((250, 500), None)),
    ({}, (4000, 3000), ((1600, 1200), None)),  # the documented default: fit in 1600x1600
    ({}, (800, 600), ((800, 600), None)),
    # enlarging only when asked
    ({"size": "800x600", "enlarge": True}, (400, 300), ((800, 600), None)),
    ({"size": "800x600<"}, (400, 300), ((800, 600), None)),
    ({"size": "800x600<"}, (1600, 1200), ((1600, 1200), None)),  # < only ever enlarges
    # cover: fill the box, crop the overflow
    ({"size": "600x600^"}, (1200, 800), ((900, 600), (600, 600))),
    ({"size": "600x600", "fit": "cover"}, (800, 1200), ((600, 900), (600, 600))),
    ({"size": "600x600^"}, (300, 200), ((300, 200), None)),  # too small: neither grown nor cropped
    # exact: stretch
    ({"size": "300x300!"}, (1200, 800), ((300, 300), None)),
    ({"size": "300x300!"}, (100, 100), ((300, 300), None)),  # ! is asking for that exact size
    # scale
    ({"scale": "50%"}, (1001, 600), ((500, 300), None)),
    ({"scale": "0.25"}, (1000, 600), ((250, 150), None)),
    ({"scale": "200%"}, (100, 60), ((200, 120), None)),
])
def test_plan(options, source, expected):
    assert parse_geometry(**options).plan(*source) == expected


@pytest.mark.parametrize("options, message", [
    ({"size": "800x600x"}, "bad --size"),
    ({"size": "axb"}, "bad --size"),
    ({"size": "x"}, "bad --size"),
    ({"size": "800x600", "longest": 100}, "only one of"),
    ({"scale": "0%"}, "bad --scale"),
    ({"scale": "half"}, "bad --scale"),
])
def test_bad_geometry_is_a_usage_error(options, message):
    with pytest.raises(UsageError, match=message):
        parse_geometry(**options)
