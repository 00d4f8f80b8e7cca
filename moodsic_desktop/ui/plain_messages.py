"""Messages from libraries (PortAudio, the operating system, decoders) in plain words for a banner.

A message such as "No sound: no audio output works (default device: Error querying device -1)" or
"Skipped “Song”: [Errno -2] No such file or directory" tells a café owner nothing in its technical parts.
``plain_message`` leaves them out (a parenthesis naming an error, error numbers) and says the common ones
in words; the whole message stays available for View → Diagnostics. Pure: no Qt; any thread.
"""

from __future__ import annotations

import re

# a parenthesis that holds an error's technical text ("(default device: Error querying device -1)")
_TECHNICAL_PARENTHESIS = re.compile(r"\s*\([^()]*(?:[Ee]rror|Errno|PaErrorCode|errno|Traceback)[^()]*\)")
_ERROR_NUMBER = re.compile(r"\[Errno -?\d+\]\s*|\[PaErrorCode -?\d+\]\s*")
WORDS = {  # what operating systems and PortAudio say → the owner's words
    "Error querying device -1": "the sound device could not be found",
    "No such file or directory": "the file is not there",
    "Permission denied": "no permission to read it",
    "Invalid data found when processing input": "the file is damaged or not audio",
}


def plain_message(message: str) -> str:
    """``message`` without its technical parts, common errors in words (see the module docstring)."""
    plain = _TECHNICAL_PARENTHESIS.sub("", message)
    plain = _ERROR_NUMBER.sub("", plain)
    for technical, words in WORDS.items():
        plain = plain.replace(technical, words)
    return re.sub(r"\s{2,}", " ", plain).strip()
