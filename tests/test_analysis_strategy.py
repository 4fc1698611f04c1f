"""Mapping onto the strategy: the seed's own history (folkhälsa was added in the 2025 review)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from analysis.io import DEFAULT_KEYWORDS
from analysis.strategy_map import StrategyMapper, concepts_of, strategy_version
from tests.shared import STRATEGY

HEALTH = "Stärkt folkhälsoarbete för god och jämlik hälsa"

HEALTH_ANSWERS = [
    "Vårdcentralen i byn har stängt, vi måste åka sex mil till närmaste läkare",
    "Längre öppettider på vårdcentralen och kortare köer till psykiatrin",
    "Akuten i Sollefteå måste öppna igen, det är livsfarligt långt till sjukhuset",
    "Fler barnmorskor och en förlossning närmare, inte tio mil enkel väg",
    "Bättre hemtjänst och äldreomsorg, samma personal varje dag",
    "Tandvården är för dyr och väntetiderna är för långa",
]
OTHER_ANSWERS = [
    "Fler bussar på kvällarna så att man kan pendla till jobbet",
    "Dubbelspår på Ostkustbanan nu",
    "Bättre bredband och mobiltäckning i inlandet",
    "Mer stöd till småföretagare som vill starta företag",
]


@pytest.fixture(scope="module")
def seed() -> dict:
    if not STRATEGY.exists():
        pytest.skip("shared seed strategy not available")
    return yaml.safe_load(STRATEGY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def keywords() -> dict:
    return yaml.safe_load(DEFAULT_KEYWORDS.read_text(encoding="utf-8"))


def _coverage(strategy, texts: list[str], themes: list[int]) -> pd.DataFrame:
    mapper = StrategyMapper(strategy).fit(texts)
    return mapper.coverage(mapper.score_themes(mapper.score_answers(texts), themes))


def test_versions_follow_the_review_history(seed: dict, keywords: dict) -> None:
    v2020, v2025 = strategy_version(seed, keywords, 2020), strategy_version(seed, keywords, 2025)
    assert HEALTH in v2025.titles() and HEALTH not in v2020.titles()
    assert len(v2025.items) == len(v2020.items) + 1
    assert all(item.keywords for item in v2025.items if item.kind == "priority")


def test_health_answers_map_to_folkhalsa_in_2025_and_are_not_covered_in_2020(seed: dict, keywords: dict) -> None:
    texts = HEALTH_ANSWERS + OTHER_ANSWERS
    themes = [1] * len(HEALTH_ANSWERS) + [2, 3, 4, 5]
    coverage_2025 = _coverage(strategy_version(seed, keywords, 2025), texts, themes)
    assert coverage_2025.loc[1, "best_item"] == HEALTH
    assert bool(coverage_2025.loc[1, "covered"])
    coverage_2020 = _coverage(strategy_version(seed, keywords, 2020), texts, themes)
    assert not bool(coverage_2020.loc[1, "covered"])
    # The other themes are covered in both versions: only the health theme is a gap in 2020.
    assert coverage_2020.loc[[2, 3, 4, 5], "covered"].all()


def test_answer_scores_say_which_priorities_are_spoken_to(seed: dict, keywords: dict) -> None:
    strategy = strategy_version(seed, keywords, 2025)
    mapper = StrategyMapper(strategy).fit(HEALTH_ANSWERS + OTHER_ANSWERS)
    scores = mapper.score_answers(pd.Series(OTHER_ANSWERS))
    assert scores.shape == (4, len(strategy.items))
    assert scores.iloc[1].idxmax().startswith("Finansieringsbeslut")
    assert scores.iloc[2].idxmax().startswith("Ökad upplevd närhet")
    summary = mapper.summary(scores)
    assert summary["answers"].sum() >= 4
    assert HEALTH in concepts_of(strategy)


# Short answers whose only words besides the need are opinion/quantity words ("fler", "långt",
# "bättre"): the 2020 title "Fler flexibla former för livslångt lärande" used to claim them.
SHORT_HEALTH_ANSWERS = [
    "Fler barnmorskor",
    "Fler barnmorskor och en förlossning närmare",
    "Akuten måste öppna igen",
    "Akuten ligger för långt bort",
    "Längre öppettider på vårdcentralen",
    "Bättre vårdcentral med fler läkare",
]


def test_opinion_words_in_titles_do_not_make_short_health_answers_covered(seed: dict, keywords: dict) -> None:
    texts = SHORT_HEALTH_ANSWERS + OTHER_ANSWERS
    themes = [1] * len(SHORT_HEALTH_ANSWERS) + [2, 3, 4, 5]
    coverage_2020 = _coverage(strategy_version(seed, keywords, 2020), texts, themes)
    assert not bool(coverage_2020.loc[1, "covered"])
    coverage_2025 = _coverage(strategy_version(seed, keywords, 2025), texts, themes)
    assert coverage_2025.loc[1, "best_item"] == HEALTH and bool(coverage_2025.loc[1, "covered"])
    strategy = strategy_version(seed, keywords, 2025)
    scores = StrategyMapper(strategy).fit(texts).score_answers(SHORT_HEALTH_ANSWERS)
    assert (scores.idxmax(axis=1) == HEALTH).all()


def test_title_terms_leave_out_opinion_change_and_generic_words() -> None:
    from analysis.text import concept_terms, stem

    lifelong = concept_terms("Fler flexibla former för livslångt lärande genom nya metoder och arbetssätt", "sv",
                             title=True)
    assert not {stem(w, "sv") for w in ("fler", "långt", "nya", "former", "arbete")} & lifelong
    assert stem("lärande", "sv") in lifelong
    health = concept_terms("Stärkt folkhälsoarbete för god och jämlik hälsa", "sv", title=True)
    assert stem("hälsa", "sv") in health and not {stem("arbete", "sv"), stem("stärkt", "sv"), "god"} & health
    # The analysts' keywords are kept as written, with their compounds' topical parts only.
    assert concept_terms("livslångt", "sv") == {stem("livslångt", "sv")}
    assert {stem("trafik", "sv"), stem("kollektivtrafik", "sv")} <= concept_terms("kollektivtrafik", "sv")


TRAVEL = "Ett funktionellt och sammanhållet system för hållbart resande"


def test_inflected_and_listed_compounds_reach_their_priority(seed: dict, keywords: dict) -> None:
    """A QA pass found "fler bussturer kvällar" and "folkhälsan fler diabetes" flagged as not covered.
    "busstur" is a word of its own in the dictionary, so it was never split into buss + tur; and the
    stemmer kept "folkhälsan" apart from the keyword "folkhälsa"."""
    from analysis.text import stem

    assert stem("folkhälsan", "sv") == stem("folkhälsa", "sv") and stem("skolan", "sv") == stem("skola", "sv")
    assert stem("orkan", "sv") == "orkan" and stem("roman", "sv") == "roman"  # words of their own
    texts = ["Fler bussturer på kvällar och helger", "Jag tycker att folkhälsan, fler får diabetes",
             "Fler turer på landsbygden", *OTHER_ANSWERS]
    scores = StrategyMapper(strategy_version(seed, keywords, 2025)).fit(texts).score_answers(texts[:2])
    assert scores.iloc[0].idxmax() == TRAVEL and scores.iloc[0].max() >= 0.15
    assert scores.iloc[1].idxmax() == HEALTH and scores.iloc[1].max() >= 0.15
