"""Text preparation: language, stop words that keep opinions, stemming and Swedish compounds."""

from __future__ import annotations

import pytest

from analysis.text import Analyzer, detect_language, normalise, split_compound, stem, stop_words, swedish_lexicon


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Bättre kollektivtrafik och fler bussar på kvällarna", "sv"),
        ("Vårdcentralen är för långt bort", "sv"),
        ("The staff were lovely and the waiting time was short", "en"),
        ("Could not get an appointment for weeks", "en"),
        ("Das Essen war nicht gut und die Wartezeit war lang", "de"),
        ("Vi trenger flere busser og bedre veier", "no"),
        ("Les transports publics sont trop chers", "fr"),
        ("", "other"),
        ("12345", "other"),
    ],
)
def test_language_is_detected_without_models(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_opinion_words_survive_stop_word_removal() -> None:
    words = stop_words("sv")
    for opinion in ("bra", "dålig", "bättre", "sämre", "inte", "mer", "mindre", "fler", "viktig"):
        assert opinion not in words
    assert "och" in words and "att" in words
    terms = Analyzer("sv")("Det är inte bättre, vi behöver fler bussar och mindre bilar")
    assert {stem("inte", "sv"), stem("bättre", "sv"), stem("fler", "sv"), stem("mindre", "sv")} <= set(terms)
    assert "och" not in terms and "det" not in terms
    assert "not" in Analyzer("en")("The food was not good")


def test_stemming_joins_inflected_forms() -> None:
    assert stem("bussarna", "sv") == stem("bussar", "sv") == stem("buss", "sv")
    assert stem("waiting", "en") == stem("waited", "en")


def test_normalise_replaces_urls_and_numbers() -> None:
    text = normalise("Se https://example.se/sida — buss 12 går kl 07:30 ＡＢＣ")
    assert "https" not in text and "12" not in text and "abc" in text
    assert Analyzer("sv")("https://example.se/sida buss 12") == [stem("buss", "sv")]


@pytest.mark.skipif(not swedish_lexicon()[0], reason="Swedish Hunspell dictionary (hunspell-sv) not installed")
def test_swedish_compounds_share_terms_with_their_parts() -> None:
    assert split_compound("kollektivtrafiken") == ("kollektiv", "trafiken")
    assert split_compound("äldreboendet") == ("äldre", "boendet")
    assert split_compound("vårdcentralen")[0] == "vård"
    # Inflections and derivations are not compounds.
    for word in ("bussarna", "lägenheter", "ungdomar", "barnmorska"):
        assert split_compound(word) == (word,)
    # Nor is a noun made with -ering: parking is not about parks, recruiting not about phoning.
    for word in ("parkering", "parkeringen", "planering", "rekrytering"):
        assert split_compound(word) == (word,)
    assert split_compound("parkeringsplatser") == ("parkering", "platser")
    assert split_compound("nyckelring") == ("nyckel", "ring")
    # The noun shares a term with the verb it is made from.
    assert set(analyse_terms("mer rekrytering")) & set(analyse_terms("rekrytera fler"))
    assert set(analyse_terms("parkeringsplatser")) & set(analyse_terms("parkera"))
    assert not set(analyse_terms("rekrytering")) & set(analyse_terms("ring mig"))
    analyse = Analyzer("sv")
    assert set(analyse("kollektivtrafiken")) & set(analyse("trafiken"))
    assert set(analyse("äldreboendet")) & set(analyse("boende"))
    assert set(analyse("sjukvården")) & set(analyse("vården"))


def analyse_terms(text: str) -> list[str]:
    return Analyzer("sv")(text)


def test_analyzer_is_deterministic_and_handles_non_text() -> None:
    analyse = Analyzer("auto")
    assert analyse(None) == [] and analyse(float("nan")) == []
    assert analyse("Fler bussar!") == analyse("Fler bussar!")


def test_the_installed_swedish_dictionary_is_found() -> None:
    # Without it compounds are not split and themes get visibly worse (an NMI of 0.94 falls to 0.84
    # on the test corpus), so an installed hunspell-sv must never be missed, wherever pip put it.
    import importlib.metadata

    try:
        importlib.metadata.distribution("hunspell-sv")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("hunspell-sv not installed")
    begin, end = swedish_lexicon()
    assert "kollektiv" in begin and "trafik" in end


def test_fast_counting_gives_the_same_terms_as_the_analyser() -> None:
    from analysis.vectorize import AnswerVectorizer

    texts = ["Kollektivtrafiken måste bli bättre! Se https://example.se/buss", "Fler läkare på vårdcentralen",
             "ＢＵＳＳ 12 går för sällan, mejla anna@example.se", "", "vet ej"]
    vectorizer = AnswerVectorizer(lang="sv", char_weight=0.0)
    words = vectorizer.fit_transform(texts)
    terms = vectorizer.words_.get_feature_names_out()
    analyse = Analyzer("sv")
    for row, text in enumerate(texts):
        assert set(terms[words[row].indices]) == set(analyse(text))


def test_counting_in_chunks_keeps_every_answer_apart() -> None:
    from analysis.vectorize import _count_tokens

    # A URL at the end of one answer must not swallow the next answer's words; chunk edges and a
    # stray separator character inside an answer change nothing either.
    texts = ["läs www.example.se/buss", "bussar går", "", "tåg\x00bussar", "Bussar, tåg och BUSSAR"]
    for chunk in (1, 2, 100):
        counts, tokens = _count_tokens(texts, chunk=chunk)
        per_answer = [{tokens[j]: counts[i, j] for j in counts[i].indices} for i in range(len(texts))]
        assert per_answer == [{"läs": 1}, {"bussar": 1, "går": 1}, {}, {"tåg": 1, "bussar": 1},
                              {"bussar": 2, "tåg": 1, "och": 1}]


GERMAN = [
    "Die Busse fahren am Abend viel zu selten",
    "Es gibt zu wenige Busse und die Bahn ist immer zu spät",
    "Der Bus in unser Dorf fährt nur zweimal am Tag",
    "Mehr Busse und eine bessere Bahnverbindung in die Stadt",
    "Die Schulen brauchen mehr Lehrer und kleinere Klassen",
    "Unsere Schule ist alt und die Klassen sind zu groß",
    "Die Lehrer in der Schule haben keine Zeit für die Kinder",
    "Bessere Schulen und mehr Lehrer für die Kinder auf dem Land",
] * 3


def test_answers_in_another_language_get_its_own_stop_words_and_stems() -> None:
    """A question answered in German is analysed as German, not as Swedish: its function words
    are not themes' terms, and inflected forms meet."""
    from analysis.themes import ThemeFinder

    expected = [stem(word, "de") for word in ("busse", "fahren", "selten")]
    assert Analyzer("de")("Die Busse fahren zu selten") == expected
    finder = ThemeFinder(k=2, random_state=0).fit(GERMAN)
    assert finder.vectorizer_.lang_ == "de"
    terms = {term for theme in finder.to_dict()["themes"] for term in theme["terms"]}
    assert not terms & {"die", "der", "und", "zu", "in"}
    by_theme = finder.assignments_["theme_id"].to_numpy()[:8]
    assert len(set(by_theme[:4])) == 1 and len(set(by_theme[4:])) == 1 and by_theme[0] != by_theme[4]
