"""Swedish free text for the demo: varied enough that themes exist without answers being
copies of each other. Each theme has several ways of saying the same need; answers mix
openers, places, details and the odd typo, as residents write."""

from __future__ import annotations

import random

PLACES = {
    2280: ["Härnösand", "Älandsbro", "Viksjö"],
    2282: ["Kramfors", "Nyland", "Bollstabruk", "Nordingrå"],
    2283: ["Sollefteå", "Ramsele", "Junsele", "Långsele"],
    2281: ["Sundsvall", "Matfors", "Njurunda", "Stöde", "Liden"],
    2262: ["Timrå", "Söråker", "Sörberge"],
    2260: ["Ånge", "Fränsta", "Torpshammar", "Ljungaverk"],
    2284: ["Örnsköldsvik", "Bjästa", "Husum", "Bredbyn", "Gideå"],
}

# theme -> phrases for "what must change" ({ort} is a place in the respondent's municipality)
CHANGE: dict[str, list[str]] = {
    "kollektivtrafik": [
        "fler bussturer på kvällar och helger",
        "bussen från {ort} går alldeles för sällan",
        "billigare och enklare kollektivtrafik mellan kommunerna",
        "det måste gå att ta sig till jobbet utan bil",
        "anropsstyrd trafik för oss som bor på landet",
        "busskortet borde gälla i hela länet och kosta mindre",
        "tätare turer till sjukhuset och till gymnasiet",
        "bättre anslutningar mellan tåg och buss i {ort}",
    ],
    "bostader": [
        "fler hyresrätter som vanligt folk har råd med",
        "bostadsbristen i {ort} gör att ingen kan flytta hit",
        "lägenheter för unga som vill flytta hemifrån",
        "bygg fler trygghetsboenden för äldre",
        "det är omöjligt att få en lägenhet, kön är flera år",
        "enklare att få bygglov för villor på landet",
    ],
    "vard": [
        "vårdcentralen i {ort} måste vara kvar",
        "kortare väntetider till läkare och psykiatri",
        "förlossningen måste finnas nära, inte tio mil bort",
        "mer hjälp för unga som mår psykiskt dåligt",
        "akuten i {ort} borde ha öppet dygnet runt",
        "fler distriktssköterskor och hemtjänst som hinner",
        "folkhälsan, fler får diabetes och rör sig för lite",
    ],
    "jobb": [
        "fler jobb för unga så de stannar kvar",
        "jobb för de som har utbildning, annars flyttar alla söderut",
        "de nya industrierna måste anställa folk härifrån",
        "praktikplatser och sommarjobb till ungdomar",
        "arbetsförmedlingen behöver ett kontor i {ort} igen",
    ],
    "skola": [
        "skolan i {ort} får inte läggas ner",
        "mindre klasser och fler lärare i grundskolan",
        "fler gymnasieprogram på hemorten",
        "elever måste klara skolan, många går ut utan behörighet",
        "vuxenutbildning på distans för oss som jobbar",
    ],
    "digitalt": [
        "fiber till alla byar, inte bara tätorterna",
        "mobiltäckningen är usel utanför {ort}",
        "snabbare internet så man kan jobba hemifrån",
        "5G i hela länet",
    ],
    "fritid": [
        "mer för ungdomar att göra på kvällarna i {ort}",
        "simhallen måste rustas upp",
        "fler konserter, bio och kultur",
        "elljusspår och idrottsplatser i byarna",
        "ett allaktivitetshus för unga",
    ],
    "klimat": [
        "satsa på förnybar energi och minska utsläppen",
        "laddstolpar för elbilar längs kusten",
        "skydda skogen och naturen från kalhyggen",
        "mer cykelvägar så fler kan cykla till jobbet",
    ],
    "landsbygd": [
        "affären och posten i {ort} har stängt, landsbygden dör",
        "service på landsbygden, inte allt i centralorten",
        "underhåll av vägarna, de är fulla av hål",
        "glöm inte oss som bor utanför städerna",
    ],
    "trygghet": [
        "det känns otryggt att gå ut på kvällen i {ort}",
        "fler poliser och bättre belysning",
        "gör något åt gängen och narkotikan bland unga",
        "mer polis på plats, det tar timmar innan de kommer",
    ],
    "jarnvag": [
        "bygg Ostkustbanan med dubbelspår nu",
        "snabbare tåg till Stockholm",
        "tågen är alltid försenade, järnvägen måste rustas",
        "Mittbanan behöver moderniseras för både gods och resenärer",
    ],
    "foretag": [
        "enklare för småföretag att starta och växa",
        "mindre krångel med tillstånd för företagare",
        "stöd till unga som vill starta eget",
        "lokala företag borde få fler kommunala uppdrag",
    ],
}

# theme -> phrases for "what makes the region attractive today"
ATTRACTIVE: dict[str, list[str]] = {
    "natur": [
        "naturen, skogen och havet",
        "Höga kusten är fantastisk",
        "närheten till naturen, fiske och jakt",
        "friluftslivet, skidspår på vintern och bad på sommaren",
        "tystnaden och de ljusa sommarnätterna",
    ],
    "gemenskap": [
        "gemenskapen, folk bryr sig om varandra",
        "lugnet och tryggheten för barnen",
        "familj och vänner finns här",
        "föreningslivet i {ort}",
    ],
    "avstand": [
        "korta avstånd och ingen stress",
        "billigare att bo än i storstan",
        "man har nära till allt i {ort}",
    ],
    "kultur": [
        "hockeyn och idrotten",
        "festivaler och evenemang på sommaren",
        "kulturlivet och teatern",
    ],
    "arbete": [
        "det finns jobb inom industrin",
        "universitetet och möjligheten att studera",
        "nya gröna industrier som växer",
    ],
}

CHANGE_WEIGHTS = {
    "kollektivtrafik": 16,
    "bostader": 12,
    "vard": 13,
    "jobb": 10,
    "skola": 7,
    "digitalt": 6,
    "fritid": 8,
    "klimat": 6,
    "landsbygd": 8,
    "trygghet": 7,
    "jarnvag": 5,
    "foretag": 4,
}
ATTRACTIVE_WEIGHTS = {"natur": 40, "gemenskap": 22, "avstand": 15, "kultur": 12, "arbete": 11}

OPENERS = [
    "",
    "",
    "",
    "Jag tycker att ",
    "Viktigast är ",
    "Det behövs ",
    "Helt klart: ",
    "Enligt mig ",
    "Först och främst ",
]
CLOSERS = [
    "",
    "",
    "",
    ".",
    "!",
    ". Annars flyttar folk härifrån.",
    ". Det har varit dåligt länge.",
    ", tack.",
    ". Lyssna på oss som bor här.",
    ".",
]
SHORT_EMPTY = ["vet inte", "inget", "-", "nej", "allt är bra", "ingen aning"]


def _typo(text: str, rng: random.Random) -> str:
    """Drop or double one letter, as fast typing on a phone does."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 6:
        return text
    i = rng.choice(letters)
    return text[:i] + text[i + 1 :] if rng.random() < 0.5 else text[:i] + text[i] + text[i:]


def _sentence(phrases: list[str], place: str, rng: random.Random) -> str:
    phrase = rng.choice(phrases).format(ort=place)
    opener = rng.choice(OPENERS)
    text = opener + phrase if opener else phrase[0].upper() + phrase[1:]
    text += rng.choice(CLOSERS)
    if rng.random() < 0.15:
        text = text.lower()
    if rng.random() < 0.2:
        text = _typo(text, rng)
    return text


def _weighted(weights: dict[str, int], rng: random.Random) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def change_answer(municipality: int, rng: random.Random) -> tuple[str, str]:
    """A "what must change" answer and its theme (the first theme when two are mixed)."""
    place = rng.choice(PLACES.get(municipality, ["länet"]))
    if rng.random() < 0.06:
        return rng.choice(SHORT_EMPTY), "ovrigt"
    weights = dict(CHANGE_WEIGHTS)
    if municipality in (2260, 2283):  # inland: rail and rural service weigh more
        weights["jarnvag"] += 6
        weights["landsbygd"] += 6
    theme = _weighted(weights, rng)
    text = _sentence(CHANGE[theme], place, rng)
    if rng.random() < 0.25:
        other = _weighted(weights, rng)
        if other != theme:
            text = text.rstrip(".!") + ". Och " + rng.choice(CHANGE[other]).format(ort=place) + "."
    return text, theme


def attractive_answer(municipality: int, rng: random.Random) -> tuple[str, str]:
    place = rng.choice(PLACES.get(municipality, ["länet"]))
    if rng.random() < 0.05:
        return rng.choice(SHORT_EMPTY), "ovrigt"
    theme = _weighted(ATTRACTIVE_WEIGHTS, rng)
    return _sentence(ATTRACTIVE[theme], place, rng), theme
