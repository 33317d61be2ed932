"""Entity names: one name per entity, however an article writes it, so one entity is one facet value.

The tagger finds *mentions*; each keeps its own offsets into the article (so the article's text still shows
"U.S." or "Trump" where it said so), and gets a canonical `name`:

1. Unicode NFC and single spaces: "Örebro" typed with a combining diaeresis is the same name.
2. A name cut short at an abbreviation's dots or an apostrophe is completed from the text ("U" in "U.S." →
   "U.S."; "D" in "D'Souza" → "D'Souza"): the tokenizer splits those characters off and the tagger can leave
   the rest outside the name.
3. Titles: a mention that is only a title ("Dr", "President") is no entity and is dropped; a person's leading
   office or honorific ("Dr Anthony Fauci", "President Obama") is left out of the name.
4. Dotted and undotted abbreviations are one name: "U.S.", "U.S" and "US" are all "US".
5. The alias table maps a name to its canonical one ("US" → "United States"): a small default table of
   unambiguous news aliases (DEFAULT_ALIASES), extended per store (`news-index add --aliases FILE`).
6. Short forms in one article: a name that is the first or last words of exactly one longer name of the same
   type in the same article is that name ("Trump" after "Donald Trump"; "Smith" stays "Smith" when the article
   names both John and Jane Smith). This is the within-document coreference step of entity-linking pipelines
   (e.g. spaCy's and Stanford CoreNLP's rule-based "same surname" sieve, Lee et al. 2013).

Filter values go through steps 1, 4 and 5 (`Names.canonical`), so `entity=U.S.` finds "United States".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from search.store.records import Mention

# honorifics and offices: dropped when a mention is nothing else, left out of a person's name when they lead it
TITLES = frozenset("""mr mrs ms miss mx dr prof professor sir dame president vice-president vice premier
    chancellor minister secretary senator sen rep representative congressman congresswoman gov governor mayor judge
    justice general gen colonel col captain capt lieutenant lt sergeant sgt officer detective inspector ambassador
    chairman chairwoman chair ceo coach rev reverend""".split())
# titles that are part of how a person is named ("King Charles", "Pope Francis"): dropped only when alone
NAMING_TITLES = frozenset("king queen prince princess pope cardinal bishop sheikh emperor empress lord lady".split())
TITLE_PHRASES = frozenset({"prime minister", "vice president", "foreign minister", "first lady", "attorney general",
                           "secretary of state", "chief executive", "chief justice"})

DEFAULT_ALIASES = {  # name key (see `name_key`) -> canonical name; only aliases that mean one thing in news
    "us": "United States", "usa": "United States", "united states of america": "United States",
    "uk": "United Kingdom", "britain": "United Kingdom", "great britain": "United Kingdom",
    "un": "United Nations", "eu": "European Union", "uae": "United Arab Emirates",
    "ussr": "Soviet Union", "nyc": "New York City",
}

_SPACES = re.compile(r"\s+")
_ABBREVIATION = re.compile(r"^(?:[A-Z]\.){1,5}[A-Z]?\.?$")  # U.S.  U.S  U.K.  U.S.A.
_CONTINUATION = re.compile(r"(?:\.[A-Z])+\.?(?!\w)|['’][A-Z][\w-]*")  # ".S." after "U"; "'Souza" after "D"


def name_key(name: str) -> str:
    """The form names are compared and looked up in: NFC, casefolded, abbreviation dots and extra spaces out."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip()
    if _ABBREVIATION.match(text.upper()):  # "u.s." typed in a filter is "U.S." too
        text = text.replace(".", "")
    return text.casefold()


@dataclass
class Names:
    """The canonical-name rules with one alias table (DEFAULT_ALIASES plus a store's own)."""

    extra: dict[str, str] = field(default_factory=dict)  # the store's own aliases, as the user wrote them
    table: dict[str, str] = field(init=False, repr=False)  # name key -> canonical name, defaults and extra

    def __post_init__(self) -> None:
        self.table = {**DEFAULT_ALIASES, **{name_key(alias): canonical for alias, canonical in self.extra.items()}}

    def canonical(self, name: str) -> str:
        """Steps 1, 4 and 5: the name a store keeps for `name` (a mention's text or a filter value)."""
        text = _SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip()
        key = name_key(text)
        if key in self.table:
            return self.table[key]
        return text.replace(".", "") if _ABBREVIATION.match(text) else text

    def article_mentions(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """Every step for one article's mentions (offsets into `text`); title-only mentions are dropped."""
        named = [m for m in (self._mention(text, m) for m in mentions) if m is not None]
        return _expand_short_forms(named)

    def _mention(self, text: str, m: Mention) -> Mention | None:
        end = m.end
        more = _CONTINUATION.match(text, end)
        if more:
            end = more.end()
        words = text[m.start:end].split()
        if _is_title(words):
            return None
        start = m.start
        if m.label == "PER":  # "Dr Anthony Fauci" -> "Anthony Fauci"; "King Charles" keeps its title
            while len(words) > 1 and words[0].rstrip(".").casefold() in TITLES:
                start = text.index(words[1], start + len(words[0]))
                words = words[1:]
        return replace(m, name=self.canonical(text[start:end]), start=start, end=end)


def _is_title(words: list[str]) -> bool:
    phrase = " ".join(w.rstrip(".").casefold() for w in words)
    return phrase in TITLES or phrase in NAMING_TITLES or phrase in TITLE_PHRASES


def _expand_short_forms(mentions: list[Mention]) -> list[Mention]:
    """Step 6: a name that begins or ends exactly one longer name of the same type in the article becomes it."""
    longer: dict[tuple[str, str], set[str]] = {}
    names = {(m.label, m.name) for m in mentions}
    for label, name in names:
        words = name.split()
        for other_label, other in names:
            other_words = other.split()
            if other_label == label and len(other_words) > len(words) and (
                    other_words[:len(words)] == words or other_words[-len(words):] == words):
                longer.setdefault((label, name), set()).add(other)
    return [replace(m, name=next(iter(longer[(m.label, m.name)])))
            if len(longer.get((m.label, m.name), ())) == 1 else m for m in mentions]
