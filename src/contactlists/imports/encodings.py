"""The text encoding of an uploaded CSV file: the `encoding` form field, and a guess for errors.

UTF-8 is the default, with a byte order mark accepted (and dropped). Any Python codec that
decodes bytes to text is accepted by name (``cp1252``, ``latin-1``, ``mac_roman``, ``utf-16``…);
names are short words of letters, digits, ``-``, ``_`` and ``.``, so a client's text never reaches
the codec registry unchecked. Codecs that do not turn bytes into text (``rot13``, ``hex``,
``zlib``) are refused: they cannot decode a file.

When a file is not valid in the encoding it was sent with, the 400 names the encoding
``charset-normalizer`` finds most likely in the bytes that failed, so the client knows what to
send instead.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from contactlists.errors import ValidationFailed

DEFAULT_ENCODING = "utf-8-sig"
MAX_NAME_LENGTH = 40
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# charset-normalizer reads this much of a failing sample at most: enough to tell, quickly.
GUESS_BYTES = 64 * 1024
# Accented Latin text decodes almost equally well in a dozen single-byte code pages, and
# charset-normalizer's first choice among near-ties is often a rare one (cp1250 for a
# Windows-1252 file, mac_turkish for Mac Roman). Among the candidates whose chaos is within
# NEAR_TIE of the best, the most common encoding of contact files wins, in this order.
NEAR_TIE = 0.02
COMMON = ("utf_8", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "cp1252", "mac_roman",
          "latin_1", "iso8859_15", "cp1250", "cp1251", "shift_jis", "gb18030", "big5")  # fmt: skip


def parse_encoding(raw: str | None) -> str:
    """The codec to decode a CSV upload with; 400 naming `encoding` when it is not one."""
    if raw is None or not raw.strip():
        return DEFAULT_ENCODING
    name = raw.strip()
    if len(name) > MAX_NAME_LENGTH or not _NAME.fullmatch(name):
        raise ValidationFailed.field(
            "encoding",
            f"encoding must be a codec name such as cp1252: at most {MAX_NAME_LENGTH} letters, "
            "digits, '-', '_' or '.'",
        )
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise ValidationFailed.field(
            "encoding",
            f"unknown encoding {name!r}; send a name such as utf-8, cp1252, latin-1, mac_roman "
            "or utf-16",
        ) from None
    # Private but documented in the codecs module's source since 3.4; False for bytes-to-bytes
    # and text-to-text codecs.
    if not getattr(codec, "_is_text_encoding", True):
        raise ValidationFailed.field(
            "encoding", f"{name!r} is not a text encoding; it cannot decode a file"
        )
    return DEFAULT_ENCODING if codec.name == "utf-8" else codec.name


def label(encoding: str) -> str:
    """How messages name an encoding: UTF-8 for the default, else the codec's name."""
    return "UTF-8" if encoding in (DEFAULT_ENCODING, "utf-8") else encoding


def guess(sample: bytes) -> str | None:
    """The encoding ``sample`` most likely is in (a codec name), or None when nothing fits."""
    matches = from_bytes(sample[:GUESS_BYTES])
    best = matches.best()
    if best is None:
        return None
    near = {
        name
        for match in matches
        if match.chaos <= best.chaos + NEAR_TIE
        for name in match.could_be_from_charset
    }
    chosen = next((name for name in COMMON if name in near), best.encoding)
    try:
        return codecs.lookup(chosen).name
    except LookupError:
        return None


def _fits(sample: bytes, encoding: str) -> bool:
    """Whether ``sample`` (perhaps cut mid-character) decodes to text without NUL characters."""
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeError:
        return False
    return "\x00" not in text


def not_text(encoding: str, sample: bytes, problem: str) -> str:
    """The message for a file that is not text in ``encoding``: ``problem``, then, when another
    encoding fits the failing ``sample``, which one to send."""
    likely = guess(sample)
    # No advice when nothing fits, or the guess is the encoding that already failed.
    if likely is None or label(likely) == label(encoding) or not _fits(sample, likely):
        return problem
    return f"{problem}; it looks like {likely} — send encoding={likely}"
