"""The hostile image names seed.py gives the real Waldur, for the tests to look up by name."""

HOSTILE_NAMES = (
    "{{ lookup('pipe', 'id') }}",
    "{{ lookup('pipe','id') }}",
    "{% if true %}jinja block{% endif %}",
    "'single' \"double\" quotes",
    " leading space",
    "trailing space ",
    "  both sides  ",
    ("image-with-a-very-long-name-" * 6)[:150],
    "100% pure",
    "back\\slash",
    "Ubuntu \u65e5\u672c\u8a9e",
    "semi;colon,comma",
)
