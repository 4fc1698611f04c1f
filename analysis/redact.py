"""Personal data redaction for free-text answers.

Before an answer is shown to staff, put in a report or exported, personal data is replaced by a typed
placeholder: ``[personnummer]``, ``[telefon]``, ``[e-post]``, ``[adress]`` or ``[namn]``. A caller that
shows the text in another language passes its own placeholders (``{"e-post": "[email]", ...}``).

The rules are written for Swedish consultation answers (with some English) and lean towards keeping
text that is not personal data: years, dates, prices, bus lines, percentages, postcodes alone, place
names and organisation names stay. Names are only found where the text introduces them ("jag heter",
"mitt namn är", "my name is", a greeting or a "/Per" signature), because a name list would redact
places and organisations that analysts need to read.

Usage from the command line::

    python -m analysis.redact [FILE]                  # redact each line of FILE (or stdin)
    python -m analysis.redact --evaluate CASES.tsv    # precision and recall per type

The module uses only the standard library; ``redact_series`` imports pandas when it is called.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

PERSONNUMMER = "personnummer"
TELEFON = "telefon"
EPOST = "e-post"
ADRESS = "adress"
NAMN = "namn"
TYPES: tuple[str, ...] = (PERSONNUMMER, TELEFON, EPOST, ADRESS, NAMN)

# When two findings overlap the more specific one wins: an e-mail address may contain a name, a
# personnummer may look like a phone number, an address may follow a greeting.
_PRIORITY = {EPOST: 0, PERSONNUMMER: 1, TELEFON: 2, ADRESS: 3, NAMN: 4}


@dataclass(frozen=True, slots=True)
class Span:
    """One piece of personal data: its type and its character offsets in the text (end exclusive)."""

    type: str
    start: int
    end: int


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def placeholder(kind: str, placeholders: Mapping[str, str] | None = None) -> str:
    """The text that stands for personal data of type ``kind``: ``[kind]``, unless ``placeholders``
    (type -> text, e.g. the reader's language) gives another."""
    if placeholders and kind in placeholders:
        return placeholders[kind]
    return f"[{kind}]"


# ---------------------------------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------------------------------
# \w covers å, ä and ö, which residents do type into addresses. The top-level domain is letters only
# so that a full stop ending the sentence is left outside the placeholder. "(at)" and "[at]" are the
# usual ways people hide an address from spam robots.
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+(?:@|\s?[(\[]at[)\]]\s?)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b",
)


def _find_emails(text: str) -> Iterable[Span]:
    for match in _EMAIL.finditer(text):
        yield Span(EPOST, match.start(), match.end())


# ---------------------------------------------------------------------------------------------------
# Personnummer and samordningsnummer
# ---------------------------------------------------------------------------------------------------
# YYMMDD-NNNN, YYMMDD+NNNN (100 years or older), YYYYMMDD-NNNN, and the same without separator, with
# an en dash or with a space (or the no-break space of text pasted from a web page). The date is
# checked (samordningsnummer add 60 to the day) and so is the Luhn digit, which leaves only a few
# random ten-digit numbers in a hundred to pass both. When a word just before says it is a
# personnummer ("mitt personnummer är", "pnr"), a wrong check digit (a typo) does not save it.
_PERSONNUMMER = re.compile(
    r"(?<![\w+-])(?P<century>19|20|18)?(?P<yy>\d\d)(?P<mm>\d\d)(?P<dd>\d\d)"
    r"(?P<sep>[ \u00a0]?[-–+][ \u00a0]?|[ \u00a0])?(?P<serial>\d{4})(?!-?\d)"
)
# A mobile number (07x) written as ten digits in a row can pass both checks; without a word saying
# it is a personnummer it is read as the phone number it more likely is.
_PERSONNUMMER_CONTEXT = re.compile(
    r"person\s?n(?:umme)?r|pers\.?\s?nr|\bp-?nr|samordningsn(?:umme)?r|födelsen(?:umme)?r|"
    r"personal\s+(?:identity\s+)?number|id\s?number",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is the Luhn check digit of the ones before it."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _plausible_birth_date(century: str | None, yy: str, mm: str, dd: str, plus: bool) -> bool:
    month, day = int(mm), int(dd)
    if day > 60:  # samordningsnummer
        day -= 60
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    # "+" marks someone 100 years or older; otherwise the person was born in 19xx or 20xx.
    centuries = [int(century)] if century else [18, 19] if plus else [19, 20]
    for cent in centuries:
        try:
            date(cent * 100 + int(yy), month, day)
        except ValueError:
            continue
        return True
    return False


def _find_personnummer(text: str) -> Iterable[Span]:
    for match in _PERSONNUMMER.finditer(text):
        century, yy, mm, dd = match.group("century", "yy", "mm", "dd")
        separator = (match.group("sep") or "").strip()
        # A number the text itself calls a personnummer is one even with a mistyped check digit.
        if not luhn_valid(yy + mm + dd + match.group("serial")) and not _has_context(text, match):
            continue
        if not _plausible_birth_date(century, yy, mm, dd, plus=separator == "+"):
            continue
        if not century and not match.group("sep") and yy.startswith("0") and not _has_context(text, match):
            continue  # ten digits in a row starting with 0: a phone number unless the text says otherwise
        yield Span(PERSONNUMMER, match.start(), match.end())


def _has_context(text: str, match: re.Match[str]) -> bool:
    return _PERSONNUMMER_CONTEXT.search(text, max(0, match.start() - 40), match.start()) is not None


# ---------------------------------------------------------------------------------------------------
# Telephone numbers
# ---------------------------------------------------------------------------------------------------
# A run of digits that starts with 0, +46 or 0046, in groups separated by one space or a dash (with or
# without spaces around it). The run may swallow an unrelated number that follows ("070-123 45 67 2
# gånger"), so the longest prefix that ends at a group boundary and has a valid length is kept.
_PHONE = re.compile(
    r"(?<![\w.,+/-])"
    r"(?:(?P<intl>\+[ \u00a0]?46|0046)(?:[ \u00a0]?-?[ \u00a0]?)(?:\(0\)[ \u00a0]?)?|(?=0))"
    r"\d(?:(?:[ \u00a0]?[-–][ \u00a0]?|[ \u00a0])?\d)*"
)
_NON_DIGIT = re.compile(r"\D")
_DIGIT_GROUP_END = re.compile(r"\d(?!\d)")
# Shapes that are something else: a personnummer that failed its checks, or a date like 01-03-2025.
_NOT_A_PHONE = re.compile(r"\d{6}[-–+ \u00a0]\d{4}|\d{8}[-–+]\d{4}|0\d[-/.]\d\d[-/.](?:19|20)\d\d")


def _national_digits(raw: str, international: bool) -> str:
    digits = _NON_DIGIT.sub("", raw.replace("(0)", ""))
    if not international:
        return digits
    digits = digits[4:] if digits.startswith("0046") else digits[2:]
    return "0" + digits.lstrip("0")  # "+46 070-..." keeps its 0 now and then


def _valid_swedish_number(national: str) -> bool:
    # Swedish numbers are 0, an area code of 1-3 digits and a subscriber number: 8 to 10 digits in
    # all. Mobile numbers (07x) always have 10. "00" starts an international call, not a number here.
    if len(national) < 8 or len(national) > 10 or national[1] == "0":
        return False
    return len(national) == 10 if national.startswith("07") else True


def _find_phones(text: str) -> Iterable[Span]:
    for match in _PHONE.finditer(text):
        raw = match.group()
        international = match.group("intl") is not None
        group_ends = [m.end() for m in _DIGIT_GROUP_END.finditer(raw)]
        for end in reversed(group_ends):
            candidate = raw[:end]
            if _NOT_A_PHONE.fullmatch(candidate):
                break
            if _valid_swedish_number(_national_digits(candidate, international)):
                yield Span(TELEFON, match.start(), match.start() + end)
                break


# ---------------------------------------------------------------------------------------------------
# Street addresses
# ---------------------------------------------------------------------------------------------------
# A street name ends in one of the usual Swedish suffixes and is followed by a house number. Without
# the number it is a place ("trafiken på Storgatan") and stays. The common suffixes are accepted in
# lower case too (residents write "storgatan 12"); the rarer ones, which also end ordinary words
# (parkeringsplatsen, ingången), only when the name is capitalised.
_SUFFIX_ANY_CASE = r"gatan|vägen|gränden|gränd|stigen|backen|allén|allé|alle|allee|slingan"
_SUFFIX_CAPITALISED = (
    r"torget|torg|leden|platsen|kajen|stranden|esplanaden|höjden|promenaden|gången|parken|"
    r"udden|hagen|lunden|vägen|gatan"
)
_SEPARATE_WORD_SUFFIX = r"väg|vägen|gata|gatan|gränd|torg|torget|allé|stig|backe|plan"
_STREET_PREFIX = r"(?:(?i:norra|södra|östra|västra|stora|lilla|gamla|nya|övre|nedre|sankt|s:t)\s)?"
_CAPITAL = "A-ZÅÄÖÉÜ"
_UNITS = (
    r"km|mil|m|meter|min|minuter|minuters|tim|timmar|timme|h|kr|kronor|sek|procent|%|gånger|ggr|"
    r"år|dagar|dag|veckor|månader|st|stycken|grader|bussar|personer|barn|hus|lägenheter"
)
_ADDRESS = re.compile(
    r"(?<![\w-])(?P<street>"
    rf"(?P<first>[{_CAPITAL}][^\W\d_]+)(?:\s[{_CAPITAL}][^\W\d_]+)?\s(?:{_SEPARATE_WORD_SUFFIX})"
    rf"|{_STREET_PREFIX}[^\W\d_][\w-]*?[^\W\d_](?i:{_SUFFIX_ANY_CASE})"
    rf"|{_STREET_PREFIX}[{_CAPITAL}][\w-]*?[^\W\d_](?:{_SUFFIX_CAPITALISED})"
    r")"
    # house number (1-3 digits, not a time, a decimal or a distance), optional range and letter
    rf"\s?\d{{1,3}}(?!\d|[.:,]\d|\s?(?:{_UNITS})(?![\w]))"
    r"(?:\s?[-–]\s?\d{1,3}(?!\d))?"
    r"(?:[a-hA-H]|\s[A-H])?(?!\w)"
    # flat number and postcode with town
    r"(?:,?\s(?:lgh|lägenhet)\.?\s?\d{1,4}(?!\d))?"
    rf"(?:,?\s\d{{3}}\s?\d\d\s[{_CAPITAL}][^\W\d_]+(?:-[^\W\d_]+)?)?"
)
# Capitalised words that start a sentence and can sit before "vägen": "Hela vägen 3 mil".
_NOT_A_STREET_START = _word_set(
    "den det denna detta hela samma vilken vilket ena andra min mitt vår vårt er ert jag vi ni de på "
    "i till från längs vid efter över under mot"
)


def _find_addresses(text: str) -> Iterable[Span]:
    for match in _ADDRESS.finditer(text):
        first = match.group("first")
        if first and first.lower() in _NOT_A_STREET_START:
            continue
        yield Span(ADRESS, match.start(), match.end())


# ---------------------------------------------------------------------------------------------------
# Names introduced by the text
# ---------------------------------------------------------------------------------------------------
# strong: the phrase says a name follows, so a lower-case name is accepted ("jag heter kalle").
# greeting, kin, thanks, slash: a name may follow; only capitalised words are taken.
_NAME_TRIGGER = re.compile(
    r"(?P<strong>\b(?:jag\s+heter|heter\s+jag|mitt\s+namn\s+(?:är|e)|namnet\s+är|my\s+name\s+is|"
    r"my\s+name's|i\s+am\s+called|i'm\s+called|jag\s+kallas)\b[ \t]*:?[ \t]*"
    r"|\b(?:namn|name|undertecknad)[ \t]*:[ \t]*)"
    r"|(?P<greeting>(?:(?:\b(?:med\s+)?(?:vänlig|vänliga|varma|bästa|många|hjärtliga)\s+)?\bhälsning(?:ar)?\b"
    r"|\bmvh\b|\bhälsar\b|\b(?:best|kind|warm|warmest)\s+regards\b|\bregards\b|\bsincerely\b|\bcheers\b)"
    r"[ \t]*[,:]?\s*(?:familjen[ \t]+|the[ \t]+)?)"
    r"|(?P<kin>\b(?:min|mitt|vår|my|our)\s+(?:man|fru|sambo|son|dotter|mamma|pappa|mor|far|bror|syster|"
    r"granne|vän|kompis|partner|make|maka|mormor|morfar|farmor|farfar|husband|wife|daughter|mother|"
    r"father|brother|sister|neighbour|neighbor|friend)(?:[ \t]+heter|[ \t]+is[ \t]+called)?[ \t]+)"
    # "Tack, Anna" and "Thanks,\nJohn" sign off only with the comma or line break and at the end
    r"|(?P<thanks>\b(?:tack|thanks|thank\s+you)[ \t]*(?:,|\r?\n)\s*)"
    r"|(?P<slash>(?:^|(?<=[\s.!?]))/{1,2}[ ]?)",
    re.IGNORECASE,
)
# "Hälsningar Anna och Per": a second name joined to the first.
_AND_NEXT_NAME = re.compile(r"[ \t]+(?:och|and|&|\+)[ \t]+(?=[A-ZÅÄÖÉÜ])")
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
_SIGNATURE_END = re.compile(r"[ \t]*(?:$|[,.!?\r\n])")
_QUESTION_BEFORE = re.compile(r"(?:vad|hur|vem|som|vilket|what)\s+$", re.IGNORECASE)
# Words that follow "jag heter" or "hälsningar" without being a name.
_NOT_A_NAME = _word_set(
    "och i på från som bor är har tycker går jobbar kommer vill inte det den en ett att men så jag vi "
    "du ni de ju nog väl alltså också med till för av om här där nu bara typ spelar ingen inget "
    "heller hälsar alla er era dig oss själv samma sak något någon tack hej hejsan and from live am "
    "is was the a an not in at to all everyone you your we our of for"
)
_ORGANISATION_WORDS = _word_set(
    "region regionen kommun kommunen kommuns landsting landstinget förening föreningen byalag "
    "byalaget styrelsen styrelse ab hb universitet universitetet mittuniversitetet sca skolan skola "
    "församling församlingen partiet förbund förbundet klubb klubben nätverket gruppen rådet"
)
_ORGANISATION_SUFFIXES = tuple(
    _word_set(
        "föreningen förening förbundet laget kommun kommunen universitetet skolan gruppen klubben "
        "partiet kyrkan rådet nätverket bolaget verket kassan seniorerna pensionärerna"
    )
)
_MAX_NAME_WORDS = 3


def _is_organisation(word: str) -> bool:
    lowered = word.lower()
    return lowered in _ORGANISATION_WORDS or lowered.endswith(_ORGANISATION_SUFFIXES)


def _is_capitalised(word: str) -> bool:
    return word[0].isupper() and (len(word) == 1 or not word.isupper())


def _read_name(text: str, pos: int, allow_lower_case: bool) -> tuple[int, int] | None:
    """Offsets of the name that starts at ``pos``, or None when the words there are not a name."""
    first = _WORD.match(text, pos)
    if not first:
        return None
    word = first.group()
    if word.lower() in _NOT_A_NAME or _is_organisation(word):
        return None
    if _is_capitalised(word) or (allow_lower_case and word.isupper() and len(word) > 1):
        same_shape = _is_capitalised
        max_words = _MAX_NAME_WORDS
    elif allow_lower_case and word.islower():
        same_shape = str.islower
        max_words = 2  # first name and surname; a third lower-case word is more often the sentence
    else:
        return None
    end, count = first.end(), 1
    while count < max_words and text.startswith(" ", end):
        following = _WORD.match(text, end + 1)
        if not following or not same_shape(following.group()):
            break
        if following.group().lower() in _NOT_A_NAME:
            break
        if _is_organisation(following.group()):
            return None  # "Hälsningar, Sundsvalls Kommun"
        end, count = following.end(), count + 1
    after = _WORD.match(text, end + 1) if text.startswith(" ", end) else None
    if after and _is_organisation(after.group()):
        return None  # "Hälsningar, Sundsvalls kommun"
    return first.start(), end


def _find_names(text: str) -> Iterable[Span]:
    for trigger in _NAME_TRIGGER.finditer(text):
        kind = trigger.lastgroup
        allow_lower = kind == "strong" and not _QUESTION_BEFORE.search(text, 0, trigger.start())
        found = _read_name(text, trigger.end(), allow_lower_case=allow_lower)
        if found is None:
            continue
        names = [found]
        joined = _AND_NEXT_NAME.match(text, found[1])
        if joined and (second := _read_name(text, joined.end(), allow_lower_case=False)):
            names.append(second)
        if kind in ("slash", "thanks") and not _SIGNATURE_END.match(text, names[-1][1]):
            continue  # these sign off; a slash or "tack" in the middle of a sentence is something else
        for start, end in names:
            yield Span(NAMN, start, end)


# ---------------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------------
# Cheap tests that let most answers skip the expensive rules. A substring test runs at C speed; the
# name triggers, scanned with IGNORECASE at every position, cost ten times more than all of these.
_HAS_DIGIT = re.compile(r"\d")
_EIGHT_DIGITS = re.compile(r"\d(?:[ \u00a0()+–-]{0,3}\d){7}")  # every phone number and personnummer has 8+
_ADDRESS_CUE = re.compile(  # on the lower-cased text, built from the same suffixes as the rule
    rf"(?:{_SUFFIX_ANY_CASE}|{_SUFFIX_CAPITALISED}|{_SEPARATE_WORD_SUFFIX})\s?\d"
)
_NAME_CUES = (
    "heter",
    "namn",
    "name",
    "undertecknad",
    "hälsning",
    "hälsar",
    "mvh",
    "regards",
    "sincerely",
    "cheers",
    "tack,",
    "tack\n",
    "thanks",
    "thank you",
    "/",
    "kallas",
    "called",
    "min ",
    "mitt ",
    "vår ",
    "my ",
    "our ",
)


def _may_contain_name(lowered: str) -> bool:
    return any(cue in lowered for cue in _NAME_CUES)


def find_personal_data(text: str) -> list[Span]:
    """All personal data in ``text``, without overlaps, ordered by position."""
    if not text:
        return []
    found: list[Span] = []
    lowered = text.lower()
    if "@" in text or "(at)" in lowered or "[at]" in lowered:
        found.extend(_find_emails(text))
    if _HAS_DIGIT.search(text):  # most answers have no digit: skip the three digit-based rules
        if _EIGHT_DIGITS.search(text):
            found.extend(_find_personnummer(text))
            found.extend(_find_phones(text))
        if _ADDRESS_CUE.search(lowered):
            found.extend(_find_addresses(text))
    if _may_contain_name(lowered):
        found.extend(_find_names(text))
    if len(found) < 2:
        return found
    return _without_overlaps(found)


def _without_overlaps(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (_PRIORITY[s.type], s.start - s.end)):
        if all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


# Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069). Shown, one
# displays the rest of an answer reversed or reordered, so a quote could read as something else;
# Arabic or Hebrew text needs none of them to display right. Redacted text is text to be shown.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def redact(text: str, placeholders: Mapping[str, str] | None = None) -> str:
    """``text`` with each piece of personal data replaced by its typed placeholder, e.g. ``[telefon]``
    (or what ``placeholders`` gives for the type), and without bidirectional control characters."""
    text = _BIDI_CONTROLS.sub("", text)
    spans = find_personal_data(text)
    if not spans:
        return text
    parts: list[str] = []
    previous = 0
    for span in spans:
        parts.append(text[previous : span.start])
        parts.append(placeholder(span.type, placeholders))
        previous = span.end
    parts.append(text[previous:])
    return "".join(parts)


def redact_series(answers: pd.Series, placeholders: Mapping[str, str] | None = None) -> pd.Series:
    """Redact every text in a pandas Series; missing values and non-text values are left as they are.
    ``placeholders`` is passed on to ``redact``.

    Answers repeat a lot in consultations ("Inget", "Vet ej", "Bättre bussar"), so each distinct text
    is redacted once and the results are mapped back.
    """
    import pandas as pd

    is_text = answers.map(lambda value: isinstance(value, str))
    texts = answers[is_text]
    redacted = {text: redact(text, placeholders) for text in pd.unique(texts)}
    result = answers.copy()
    result[is_text] = texts.map(redacted)
    return result


# ---------------------------------------------------------------------------------------------------
# Evaluation on a hand-written test set
# ---------------------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\[(" + "|".join(re.escape(t) for t in TYPES) + r")\]")


@dataclass(frozen=True, slots=True)
class Case:
    set: str
    text: str
    expected: str


def read_cases(path: str | Path) -> list[Case]:
    """Read a TSV with columns set, text, expected; a literal ``\\n`` stands for a line break."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Case(row["set"], row["text"].replace("\\n", "\n"), row["expected"].replace("\\n", "\n")) for row in reader
        ]


def gold_spans(text: str, expected: str) -> list[Span]:
    """The spans that turn ``text`` into ``expected``, found by aligning the text around placeholders."""
    pieces = _PLACEHOLDER.split(expected)  # literal, type, literal, type, ..., literal
    literals, kinds = pieces[0::2], pieces[1::2]
    pattern = "(.+?)".join(re.escape(literal) for literal in literals)
    match = re.fullmatch(pattern, text, re.DOTALL)
    if match is None:
        raise ValueError(f"expected output does not fit the text: {text!r} -> {expected!r}")
    return [Span(kind, match.start(i + 1), match.end(i + 1)) for i, kind in enumerate(kinds)]


@dataclass
class TypeScore:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


def evaluate(cases: Iterable[Case]) -> tuple[dict[str, TypeScore], int, int]:
    """Per-type scores (a span counts only with the exact offsets and type), exact outputs, cases."""
    scores = {kind: TypeScore() for kind in TYPES}
    exact = total = 0
    for case in cases:
        total += 1
        exact += redact(case.text) == case.expected
        expected = set(gold_spans(case.text, case.expected))
        predicted = set(find_personal_data(case.text))
        for span in predicted & expected:
            scores[span.type].true_positives += 1
        for span in predicted - expected:
            scores[span.type].false_positives += 1
        for span in expected - predicted:
            scores[span.type].false_negatives += 1
    return scores, exact, total


def format_scores(scores: dict[str, TypeScore], exact: int, total: int) -> str:
    lines = [f"{'type':<14}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}"]
    for kind, score in scores.items():
        lines.append(
            f"{kind:<14}{score.precision:>10.3f}{score.recall:>8.3f}"
            f"{score.true_positives:>5}{score.false_positives:>5}{score.false_negatives:>5}"
        )
    lines.append(f"cases whose whole output is exactly as expected: {exact}/{total}")
    return "\n".join(lines)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.redact", description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", help="text to redact, one answer per line (default: stdin)")
    parser.add_argument("--evaluate", metavar="CASES_TSV", help="score the rules on a test set")
    parser.add_argument("--set", dest="subset", help="only the cases of this set (dev or holdout)")
    parser.add_argument("--show-errors", action="store_true", help="print the cases that differ")
    args = parser.parse_args(argv)
    if args.evaluate:
        cases = [c for c in read_cases(args.evaluate) if not args.subset or c.set == args.subset]
        print(format_scores(*evaluate(cases)))
        if args.show_errors:
            for case in cases:
                if (got := redact(case.text)) != case.expected:
                    print(f"\n   text: {case.text!r}\nexpects: {case.expected!r}\n    got: {got!r}")
        return 0
    source = open(args.file, encoding="utf-8") if args.file else sys.stdin  # noqa: SIM115
    try:
        for line in source:
            sys.stdout.write(redact(line.rstrip("\n")) + "\n")
    finally:
        if args.file:
            source.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
