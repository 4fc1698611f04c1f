"""A small generated corpus of Swedish-like answers with known themes, for the analysis tests."""

from __future__ import annotations

import random

import pandas as pd

# Three needs, each said in several different ways (as residents do), plus empty/vague answers.
_TOPICS = {
    "trafik": ["kollektivtrafiken måste bli bättre", "fler bussar på kvällarna", "bussen går för sällan",
               "billigare busskort för pendlare", "kollektivtrafik till byarna", "tätare busstrafik",
               "busshållplatsen ligger för långt bort", "pendlingen till jobbet tar för lång tid"],
    "vard": ["vårdcentralen har för långa köer", "fler läkare på vårdcentralen", "akuten är för långt bort",
             "sjukvården måste bli bättre", "vården på landsbygden försvinner", "längre öppettider på vårdcentralen",
             "sjukhuset behöver mer personal", "kortare väntetider i vården"],
    "skola": ["skolan behöver fler lärare", "mindre klasser i skolan", "gymnasieskolan är för långt bort",
              "lärarna måste få bättre lön", "skolmaten är dålig", "fler speciallärare i grundskolan",
              "skolgården behöver rustas upp", "elevhälsan på skolan räcker inte"],
}
_FILLERS = ["", "tycker jag", "helt klart", "det är viktigt", "för oss som bor här", "snälla"]
_VAGUE = ["", "vet ej", "inget", "bra", "-", "nej"]


def corpus(n_per_topic: int = 40, n_vague: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for topic, phrases in _TOPICS.items():
        for i in range(n_per_topic):
            text = f"{rng.choice(phrases)} {rng.choice(_FILLERS)}".strip()
            if i % 3 == 0:
                text = f"{text}, och {rng.choice(phrases)}"
            rows.append({"text": text, "topic": topic,
                         "municipality": rng.choice(["Sundsvall", "Ånge", "Kramfors"])})
    for i in range(n_vague):
        rows.append({"text": _VAGUE[i % len(_VAGUE)], "topic": "ovrigt", "municipality": "Sundsvall"})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    return frame
