"""Who said a turn, and whether a text names them: the one rule retrieval (a turn by the
participant the question names scores higher) and the answer's pick (the named participant's
own line; evidence said by someone else) share."""

from __future__ import annotations

import re
from functools import lru_cache

from memcli.store.turns import TURN_SPEAKER as _TURN_SPEAKER


@lru_cache(maxsize=256)
def _name_pattern(person: str) -> re.Pattern:
    first = person.split()[0]
    forms = [re.escape(person)] + ([re.escape(first)] if first != person else [])
    return re.compile(rf"\b(?:{'|'.join(forms)})\b", re.I)


def names(text: str, person: str | None) -> bool:
    """Whether ``text`` names ``person`` (a participant as a chat writes them: "Caroline",
    "Dan Okafor"): the whole name or the first name, as a word, in any case ("Caroline's"
    counts)."""
    person = (person or "").strip()
    return bool(person) and _name_pattern(person).search(text or "") is not None


def speaker_boost(query: str, amount: float):
    """A turn spoken by someone the question names ("When did Caroline …") scores ``amount``
    higher: the same words from the other participant are usually not the answer."""
    if amount <= 0:
        return lambda text: 0.0

    def boost(text: str) -> float:
        m = _TURN_SPEAKER.match(text or "")
        return amount if m and names(query, m.group(1)) else 0.0
    return boost
