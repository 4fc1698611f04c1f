"""Text preparation for Swedish and English free-text answers.

Everything here works offline: nltk's downloadable data (punkt, stopwords) is not used, only its
regex tokenizer and Snowball stemmers, and stop words come from the ``stop-words`` package.
"""

from __future__ import annotations

import importlib.metadata
import re
import site
import sys
import sysconfig
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer
from stop_words import get_stop_words

# The languages analysed with their own stop words and stemmer: every language that both the
# `stop-words` lists and nltk's Snowball stemmers cover (Swedish also gets compound splitting and,
# like English, curated opinion words). Answers in another language are analysed as Swedish.
_SNOWBALL_NAMES = {
    "sv": "swedish", "en": "english", "no": "norwegian", "da": "danish", "fi": "finnish", "de": "german",
    "nl": "dutch", "fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese",
}
SUPPORTED_LANGUAGES = tuple(_SNOWBALL_NAMES)

# Words that the generic stop-word lists drop but that carry the respondent's opinion or the
# direction of a wish in a consultation ("bättre kollektivtrafik", "inte fler vindkraftverk",
# "mer pengar till skolan"). Dropping them would erase exactly what the review wants to hear.
OPINION_WORDS: dict[str, frozenset[str]] = {
    "sv": frozenset(
        [
            "bra", "dålig", "dåligt", "dåliga", "bättre", "bäst", "sämre", "sämst", "värre", "inte",
            "icke", "ej", "aldrig", "ingen", "inget", "inga", "ingenting", "mer", "mera", "mest",
            "mindre", "minst", "fler", "flera", "färre", "viktig", "viktigt", "viktiga", "viktigare",
            "viktigast", "stor", "stora", "stort", "större", "störst", "liten", "litet", "lilla", "små",
            "mindre", "god", "goda", "gott", "godare", "godast", "fin", "hög", "högre", "högst",
            "långsam", "långsamt", "långsammare", "långt", "länge", "längre", "lätt", "lättare", "svår",
            "svårt", "enkel", "enkelt", "enkla", "tidig", "tidigt", "tidigare", "sent", "senare",
            "nödvändig", "nödvändigt", "nödvändiga", "måste", "behöva", "behövs", "behövde", "gärna",
            "hellre", "tack", "ursäkt", "förlåt", "möjlig", "möjligt"
        ]
    ),
    "en": frozenset(
        [
            "good", "bad", "better", "best", "worse", "worst", "not", "no", "nor", "never", "none",
            "nothing", "more", "most", "less", "least", "few", "fewer", "very", "too", "only", "must",
            "should", "cannot", "can't", "couldn't", "wouldn't", "shouldn't", "isn't", "wasn't",
            "weren't", "aren't", "don't", "doesn't", "didn't", "won't", "hasn't", "haven't", "hadn't",
            "against"
        ]
    ),
    # The same kinds of word (negation, more and less, better and worse, important, must) for the
    # other analysed languages, whose stop-word lists would drop them.
    "no": frozenset(["ikke", "aldri", "ingen", "ingenting", "mer", "mest", "mindre", "minst", "flere", "færre",
                     "bedre", "best", "verre", "dårlig", "viktig", "viktigere", "må", "bør"]),
    "da": frozenset(["ikke", "aldrig", "ingen", "intet", "mere", "mest", "mindre", "mindst", "flere", "færre",
                     "bedre", "bedst", "værre", "dårlig", "vigtig", "vigtigere", "skal", "bør"]),
    "de": frozenset(["nicht", "nie", "kein", "keine", "keinen", "nichts", "mehr", "meist", "weniger", "wenig",
                     "besser", "beste", "schlechter", "schlecht", "wichtig", "wichtiger", "muss", "müssen",
                     "sollte", "sollten", "gegen"]),
    "fr": frozenset(["ne", "pas", "jamais", "aucun", "aucune", "rien", "plus", "moins", "mieux", "meilleur",
                     "pire", "mauvais", "important", "importante", "doit", "faut", "contre", "trop"]),
    "es": frozenset(["no", "nunca", "ningún", "ninguna", "nada", "más", "menos", "mejor", "peor", "malo",
                     "importante", "debe", "deben", "contra", "demasiado", "muy"]),
    "nl": frozenset(["niet", "nooit", "geen", "niets", "meer", "minder", "beter", "best", "slechter", "slecht",
                     "belangrijk", "moet", "moeten", "tegen"]),
    "it": frozenset(["non", "mai", "nessuno", "nessuna", "niente", "più", "meno", "meglio", "migliore", "peggio",
                     "peggiore", "importante", "deve", "devono", "contro", "troppo"]),
    "pt": frozenset(["não", "nunca", "nenhum", "nenhuma", "nada", "mais", "menos", "melhor", "pior", "importante",
                     "deve", "devem", "contra", "demasiado", "muito"]),
    "fi": frozenset(["ei", "eivät", "en", "et", "emme", "ette", "koskaan", "mitään", "enemmän", "vähemmän",
                     "parempi", "paremmin", "huonompi", "huonosti", "tärkeä", "tärkeää", "täytyy", "pitää"]),
}

# Tokens produced by normalise() for things that are not words; never features on their own.
PLACEHOLDER_TOKENS = frozenset({"url", "epost", "num"})

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_TOKENIZER = RegexpTokenizer(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def normalise(text: object) -> str:
    """NFKC-normalise, lower-case, and replace URLs, e-mail addresses and numbers by placeholders."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _URL.sub(" url ", text)
    text = _EMAIL.sub(" epost ", text)
    return _NUMBER.sub(" num ", text)


# The same token definition as a regular expression for scikit-learn's (C-speed) CountVectorizer.
TOKEN_PATTERN = r"[^\W\d_]+(?:'[^\W\d_]+)?"
_NEEDS_PLACEHOLDER = re.compile(r"@|://|www\.", re.IGNORECASE)


def prepare(text: object) -> str:
    """What ``normalise`` does, cheaply, for counting words: NFKC and lower case, and URLs and
    e-mail addresses removed (numbers need no work: the token pattern never matches digits).

    ASCII text is already NFKC-normal, and only texts with "@", "://" or "www." are searched for
    URLs and addresses, so most answers cost two string methods.
    """
    if not isinstance(text, str):
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    if _NEEDS_PLACEHOLDER.search(text):
        text = _EMAIL.sub(" ", _URL.sub(" ", text))
    return text


def tokenise(text: str) -> list[str]:
    """Split normalised text into word tokens (letters only; hyphenated parts become separate)."""
    return _TOKENIZER.tokenize(text)


@lru_cache(maxsize=8)
def stop_words(lang: str) -> frozenset[str]:
    """The maintained stop-word list for ``lang`` minus the opinion words (see OPINION_WORDS)."""
    words = {w.lower() for w in get_stop_words(_SNOWBALL_NAMES.get(lang, lang))}
    return frozenset(words - OPINION_WORDS.get(lang, frozenset()))


@lru_cache(maxsize=1)
def _language_profiles() -> dict[str, frozenset[str]]:
    """Stop words per language: the most frequent words, enough to tell languages apart."""
    profiles = {}
    for name in ("swedish", "english", "norwegian", "danish", "german", "french", "spanish", "finnish",
                 "dutch", "italian", "portuguese", "polish"):
        profiles[name] = frozenset(w.lower() for w in get_stop_words(name))
    return profiles


_SWEDISH_LETTERS = re.compile("[åäö]")
_CODES = {name: code for code, name in _SNOWBALL_NAMES.items()}


def detect_language(text: object) -> str:
    """Return a code of SUPPORTED_LANGUAGES ("sv", "en", "de", ...) or "other", from stop-word
    overlap, without any downloaded model.

    Ties and texts with no function words fall back to letters: å/ä/ö suggest Swedish, plain
    ASCII words suggest nothing, so such a text is "other".
    """
    # The placeholders for numbers, links and addresses say nothing of the language ("num" is a
    # Portuguese word).
    tokens = [t for t in tokenise(normalise(text)) if t not in PLACEHOLDER_TOKENS]
    if not tokens:
        return "other"
    scores = {name: sum(t in words for t in tokens) for name, words in _language_profiles().items()}
    # Swedish letters are strong evidence in short answers ("Bättre vägar!").
    scores["swedish"] += 2 * len(_SWEDISH_LETTERS.findall(" ".join(tokens)))
    best = max(scores, key=lambda name: (scores[name], name in ("swedish", "english")))
    if scores[best] == 0:
        return "other"
    return _CODES.get(best, "other")


def dominant_language(texts: Iterable[object]) -> str:
    """The most common detected language of a sample of texts (Swedish, then English, on a tie);
    "sv" when nothing is detected."""
    counts = dict.fromkeys(SUPPORTED_LANGUAGES, 0)
    for i, text in enumerate(texts):
        if i >= 2000:
            break
        detected = detect_language(text)
        if detected in counts:
            counts[detected] += 1
    # max() keeps the first of equal counts, and SUPPORTED_LANGUAGES starts with sv, en.
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else "sv"


@lru_cache(maxsize=16)
def _stemmer(lang: str) -> SnowballStemmer:
    return SnowballStemmer(_SNOWBALL_NAMES[lang])


@lru_cache(maxsize=200_000)
def stem(token: str, lang: str) -> str:
    """Snowball stem of one token, cached: the stemmer costs microseconds and tokens repeat a lot."""
    if lang not in _SNOWBALL_NAMES:
        return token
    stemmed = _stemmer(lang).stem(token)
    if lang != "sv" or stemmed != token or len(token) < 5:
        return stemmed
    # Swedish Snowball leaves the neuter definite -et (boendet, arbetet, huset) alone, which splits
    # "boende" and "boendet" into two terms; stem the indefinite form instead. Not for -het words.
    if token.endswith("et") and not token.endswith("het"):
        return _stemmer(lang).stem(token[:-1])
    # Nor the definite -n of nouns in -a (hälsan, skolan, kyrkan), so "folkhälsan" missed the
    # keyword "folkhälsa"; only when the dictionary knows the word in -a (orkan, roman, organ stay).
    if token.endswith("an") and token[:-1] in _dictionary_words():
        return _stemmer(lang).stem(token[:-1])
    return stemmed


# --- Swedish compounds --------------------------------------------------------------------------

_LINKING = ("s", "es", "e", "a", "u", "o", "")
# sv_SE.aff: X begins a compound as is; v, f, s, u, i begin it with a linking -s/-es (which
# split_compound tries itself); t changes the ending (gymnasium -> gymnasie-, tavla -> tavel-).
_BEGIN_FLAGS = frozenset("Xvfsui")
_T_RULES = (("la", "el"), ("ma", ""), ("me", ""), ("ra", "er"), ("er", "ra"), ("le", "el"), ("um", "e"),
            ("el", "la"))
_MIN_PART = 3


def _hunspell_paths() -> list[Path]:
    """Where the ``hunspell-sv`` package (PyPI) or Debian's hunspell-sv puts sv_SE.dic.

    The package's own file list is asked first: its data files land under the installation's data
    prefix, which is not always ``sys.prefix`` (user installs, other prefixes). Missing the file
    silently weakens the themes, so every known place is tried.
    """
    candidates: list[Path] = []
    try:
        files = importlib.metadata.files("hunspell-sv") or []
        candidates += [Path(f.locate()).resolve() for f in files if f.name == "sv_SE.dic"]
    except importlib.metadata.PackageNotFoundError:
        pass
    roots = [Path(sys.prefix), Path(sysconfig.get_path("data")), Path(site.getuserbase()), Path("/usr")]
    candidates += [root / "share" / "hunspell" / "sv_SE.dic" for root in roots]
    return list(dict.fromkeys(path for path in candidates if path.exists()))


@lru_cache(maxsize=1)
def swedish_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """Words that may start and end a compound, read from the Swedish Hunspell dictionary.

    The dictionary's own compound flags (COMPOUNDBEGIN X, COMPOUNDEND Y in sv_SE.aff) say which
    words can take part in a compound. Returns two empty sets when no dictionary is installed;
    compound splitting then does nothing and character n-grams carry compounds alone.
    """
    paths = _hunspell_paths()
    if not paths:
        return frozenset(), frozenset()
    begin, end = set(), set()
    text = paths[0].read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines()[1:]:  # the first line is the entry count
        word, _, flags = line.partition("/")
        if len(word) < _MIN_PART or not word.islower() or not word.isalpha():
            continue
        flags = flags.rstrip()
        if not flags or "Y" in flags:
            end.add(word)
        if not flags:
            continue
        if "X" in flags or "v" in flags or "f" in flags or "s" in flags or "u" in flags or "i" in flags:
            begin.add(word)
        if "t" in flags:
            begin.update(word[: -len(old)] + new for old, new in _T_RULES if word.endswith(old))
    return frozenset(begin), frozenset(end)


@lru_cache(maxsize=1)
def _dictionary_words() -> frozenset[str]:
    begin, end = swedish_lexicon()
    return begin | end if begin else frozenset()


# Endings that look like words in the dictionary but are inflections or derivations of the word
# before them (buss|arna, läge|nheter, ung|domar, opera|tion): never accepted as a compound's head.
_SUFFIX_TAILS = frozenset(
    [
        "arna", "orna", "erna", "rna", "ning", "ningar", "ningen", "ningarna", "nhet", "nheter",
        "nheten", "het", "heter", "heten", "tion", "tionen", "tioner", "isera", "iserar", "domar",
        "domen", "dom", "ande", "ende", "else", "skap", "lig", "liga", "ligt", "are", "aren", "erna",
        "terna"
    ]
)
# The verb-forming -era with the noun ending -ing (plan|ering, park|ering, rekryt|ering): a derivation
# of the word before it, not a compound with "ring" as its head (nyckel|ring and förlovnings|ring keep it).
_DERIVATION = "ering"
_DERIVATION_ENDINGS = frozenset(["", "en", "ar", "arna", "s", "ens", "ars", "arnas"])
_INFLECTIONS = ("arna", "orna", "erna", "na", "en", "et", "an", "ar", "er", "or", "n", "t", "s", "a")
_INFLECTION_SET = frozenset(_INFLECTIONS)
_INFLECTION_LENGTHS = tuple(sorted({len(s) for s in _INFLECTIONS}))


def _known_end(part: str, end_words: frozenset[str]) -> bool:
    """Is ``part`` a compound head, allowing inflected forms (trafiken, boendet, vägarna)?"""
    if part in _SUFFIX_TAILS:
        return False
    if part in end_words:
        return True
    # Same as trying every ending in _INFLECTIONS, with one set lookup per ending length.
    for length in _INFLECTION_LENGTHS:
        if len(part) - length >= 4 and part[-length:] in _INFLECTION_SET and part[:-length] in end_words:
            return True
    return False


@lru_cache(maxsize=200_000)
def split_compound(word: str) -> tuple[str, ...]:
    """Split a Swedish compound into its parts (kollektivtrafiken -> kollektiv, trafiken).

    Only words of 8 letters or more are tried. Among the splits whose first part may begin a
    compound and whose rest is a known head (possibly itself a compound), the one with the
    longest shortest part wins, which avoids splits like "barnmorska" -> barn + morska.
    Returns ``(word,)`` when no split is found.
    """
    begin, end = swedish_lexicon()
    if len(word) < 8 or not begin:
        return (word,)
    best: tuple[str, ...] = (word,)
    best_score = 0
    for cut in range(_MIN_PART, len(word) - _MIN_PART + 1):
        head, rest = word[:cut], word[cut:]
        if head not in begin or (rest.startswith(_DERIVATION) and rest[len(_DERIVATION):] in _DERIVATION_ENDINGS):
            continue
        for link in _LINKING:
            if link and not rest.startswith(link):
                continue
            tail = rest[len(link):]
            if len(tail) < _MIN_PART + 1:
                continue
            parts = (head, tail) if _known_end(tail, end) else None
            if parts is None and len(tail) >= 8:
                sub = split_compound(tail)
                parts = (head, *sub) if len(sub) > 1 else None
            if parts is None:
                continue
            score = min(len(p) for p in parts)
            if score > best_score:
                best, best_score = parts, score
    return best


@lru_cache(maxsize=500_000)
def _token_terms(token: str, lang: str, compounds: bool) -> tuple[str, ...]:
    """The terms one token contributes: its stem, and the stems of its parts if it is a compound."""
    terms = (stem(token, lang),)
    if compounds:
        parts = split_compound(token)
        if len(parts) > 1:
            terms += tuple(stem(part, lang) for part in parts)
        terms += tuple(stem(verb, lang) for verb in map(_verb_of_ering_noun, parts) if verb)
    return terms


def _verb_of_ering_noun(word: str) -> str | None:
    """The verb a noun in -ering is made from (rekrytering -> rekrytera, parkeringen -> parkera), so
    the noun and the verb share a term: "mer rekrytering" and "rekrytera fler" say the same thing."""
    base, found, ending = word.rpartition(_DERIVATION)
    if found and len(base) >= _MIN_PART and ending in _DERIVATION_ENDINGS:
        return base + "era"
    return None


def content_terms(token: str, lang: str, compounds: bool = True) -> tuple[str, ...]:
    """The terms one lower-cased token contributes to an answer: nothing for stop words, single
    letters and placeholders; else its stem and, for Swedish compounds, the stems of its parts."""
    if len(token) < 2 or token in PLACEHOLDER_TOKENS or token in stop_words(lang):
        return ()
    return _token_terms(token, lang, compounds and lang == "sv")


# --- The analyzer used by the vectorisers -------------------------------------------------------


class Analyzer:
    """Turn one answer into stemmed content terms (plus compound parts for Swedish).

    A plain class (not a closure) so that fitted vectorisers pickle. ``lang`` is "sv", "en" or
    "auto" (detected per answer).
    """

    def __init__(self, lang: str = "auto", compounds: bool = True):
        self.lang = lang
        self.compounds = compounds

    def language_of(self, text: str) -> str:
        if self.lang != "auto":
            return self.lang
        detected = detect_language(text)
        return detected if detected in SUPPORTED_LANGUAGES else "sv"

    def content_tokens(self, text: object) -> tuple[str, list[str]]:
        """Language and the normalised tokens that are not stop words."""
        norm = normalise(text)
        tokens = tokenise(norm)
        lang = self.language_of(norm) if tokens else (self.lang if self.lang != "auto" else "sv")
        stops = stop_words(lang)
        return lang, [t for t in tokens if t not in stops and t not in PLACEHOLDER_TOKENS and len(t) > 1]

    def __call__(self, text: object) -> list[str]:
        lang, tokens = self.content_tokens(text)
        compounds = self.compounds and lang == "sv"
        terms: list[str] = []
        for token in tokens:
            terms.extend(_token_terms(token, lang, compounds))
        return terms

    def clean_text(self, text: object) -> str:
        """Content tokens joined by spaces: the input for character n-grams."""
        return " ".join(self.content_tokens(text)[1])


# --- What a strategy item is about ----------------------------------------------------------------

# Words that say how much, in which direction or how well a priority wants change, not what it is about
# ("Ökad upplevd närhet", "Stärkt folkhälsoarbete", "Fler nya och växande företag"). Together with
# OPINION_WORDS (which answers keep on purpose) they never define a strategy item's vocabulary:
# otherwise "Fler flexibla former för livslångt lärande" matches every answer asking for "fler" of
# anything.
CHANGE_WORDS: dict[str, frozenset[str]] = {
    "sv": frozenset(
        [
            "ökad", "ökat", "ökade", "öka", "ökning", "stärkt", "stärka", "stärkta", "utvecklad", "utvecklat",
            "utvecklade", "utveckla", "förbättrad", "förbättrat", "förbättrade", "förbättra", "minskad",
            "minskat", "minskade", "minska", "växande", "ny", "nya", "nytt", "kraftig", "kraftigt",
            "kraftiga", "modig", "modigt", "samordnad", "samordnat", "sammanhållen", "sammanhållet",
            "sammanhållna", "flexibel", "flexibla", "flexibelt", "funktionell", "funktionellt", "smart",
            "utveckling",
        ]
    ),
    "en": frozenset(
        [
            "increased", "increase", "improved", "improve", "strengthened", "strengthen", "stronger",
            "developed", "develop", "reduced", "reduce", "growing", "new", "greater", "higher", "lower",
        ]
    ),
}
# General nouns of policy writing: the kind of thing, not the domain ("-arbete", "-system", "-sätt").
GENERIC_TITLE_WORDS: dict[str, frozenset[str]] = {
    "sv": frozenset(
        [
            "arbete", "arbets", "system", "sätt", "form", "former", "metod", "metoder", "område",
            "områden", "nivå", "nivåer", "grad", "del", "delar", "sektor", "typ", "genomförande",
            # verbs and adverbs that the stop-word list misses
            "ta", "tar", "ge", "ger", "låt", "både", "kring", "gentemot", "oavsett", "genom",
        ]
    ),
    "en": frozenset(["work", "system", "systems", "way", "ways", "form", "forms", "area", "areas", "level",
                     "levels", "method", "methods", "sector"]),
}
# A compound part whose stem is shorter than this is too vague to stand for the compound (liv-).
_MIN_PART_STEM = 4


@lru_cache(maxsize=16)
def _vague_words(lang: str) -> frozenset[str]:
    """The opinion, change and generic words of a language, with their stems."""
    words = OPINION_WORDS.get(lang, frozenset()) | CHANGE_WORDS.get(lang, frozenset())
    words |= GENERIC_TITLE_WORDS.get(lang, frozenset())
    return frozenset(stem(w, lang) for w in words) | frozenset(words)


def concept_terms(phrase: str, lang: str, title: bool = False) -> set[str]:
    """The terms by which answers meet one strategy item's title or one of its keywords.

    A keyword is kept as the analysts wrote it: its stem always counts, and so do the parts of a
    compound (kollektivtrafik -> kollektiv, trafik) unless a part is only an opinion, change or
    generic word or very short (livslångt gives neither "lång" nor "liv"). A title says more than its
    topic, so its opinion, change and generic words are dropped, and a compound in it contributes its
    stem and its modifiers but not its head, which in Swedish names the general kind of thing
    (folkhälsoarbete -> folkhälso, not arbete; klimatpåverkan -> klimat).
    """
    lang = lang if lang in SUPPORTED_LANGUAGES else "sv"
    stops = stop_words(lang)
    vague = _vague_words(lang)
    terms: set[str] = set()
    for token in tokenise(normalise(phrase)):
        if len(token) < 2 or token in stops or token in PLACEHOLDER_TOKENS:
            continue
        whole = stem(token, lang)
        if title and (token in vague or whole in vague):
            continue
        terms.add(whole)
        parts = split_compound(token) if lang == "sv" else (token,)
        if len(parts) < 2:
            continue
        for part in parts[:-1] if title else parts:
            part_stem = stem(part, lang)
            if len(part_stem) >= _MIN_PART_STEM and not {part, part_stem} & (vague | stops):
                terms.add(part_stem)
    return terms
