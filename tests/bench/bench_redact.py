"""Speed of the personal data redaction on 100,000 generated Swedish-like answers.

Run from the repository root:

    .venv/bin/python tests/bench/bench_redact.py [--n 100000] [--repeat 3]

It prints, for the same answers in the same run: a plain single regex pass (one precompiled
alternation of an e-mail and a digit-run pattern, ``re.sub``), ``redact`` called per answer, and
``redact_series`` on a pandas Series. With ``--scan-shared`` it instead counts what is found in the
labelled sets under ../shared/datasets, which hold no personal data.

About 5% of the generated answers carry personal data, taken from the hand-written cases in
tests/data/redaction_cases.tsv; the rest come from a vocabulary with a long tail, with numbers,
prices, years and bus lines mixed in as real answers have them.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analysis.redact import find_personal_data, read_cases, redact, redact_series  # noqa: E402

CASES = ROOT / "tests" / "data" / "redaction_cases.tsv"
SHARED = ROOT.parent / "shared" / "datasets"
# Real answers with no personal data in them (read in place, never copied): whatever is found there
# is a false positive.
SHARED_TEXT_COLUMNS = {
    "sv_resident_answers_dev.csv": "text",
    "sv_argumentation_train.tsv": "sentence",
    "sv_argumentation_dev.tsv": "sentence",
    "en_patient_feedback.csv": "feedback",
}

# What a naive redaction does: one pass, one regex, no validation.
BASELINE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d \-]{6,}\d")

OPENINGS = ["", "", "", "Jag tycker att ", "Det behövs ", "Vi vill ha ", "Satsa på ", "Mer ", "Bättre "]
CORE_WORDS = (
    "kollektivtrafik bussar tåg vägar cykelvägar vård vårdcentral äldreomsorg skola förskola bostäder jobb "
    "företag landsbygd glesbygd fiber internet kultur idrott fritidsgårdar ungdomar pendling klimat skog "
    "natur turism föreningsliv trygghet belysning snöröjning hamn flyg"
)
CORE = tuple(CORE_WORDS.split())
PLACES = [
    "Sundsvall",
    "Härnösand",
    "Timrå",
    "Kramfors",
    "Sollefteå",
    "Ånge",
    "Örnsköldsvik",
    "Liden",
    "Stöde",
]
NUMBERS = [
    "linje {n}",
    "buss {n}",
    "{n} kr",
    "{n} 000 kronor",
    "år {y}",
    "till {y}",
    "{n} procent",
    "{n} minuter",
    "kl {h}.{m:02d}",
    "{n} km",
]


ENDINGS = ["", "", "en", "et", "er", "erna", "arna", "na", "s", "ar", "ande"]


def make_vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    # Swedish compounds give a long tail: kollektivtrafik + bussar + na -> kollektivtrafikbussarna.
    vocabulary = rng.sample(CORE, len(CORE))
    while len(vocabulary) < size:
        parts = rng.sample(CORE, rng.choice([1, 2, 2, 3]))
        vocabulary.append("".join(parts) + rng.choice(ENDINGS))
    return vocabulary


def _zipf_word(rng: random.Random, vocabulary: list[str]) -> str:
    rank = min(int(30 * (rng.paretovariate(0.9) - 1)), len(vocabulary) - 1)
    return vocabulary[rank]


def generated_answer(rng: random.Random, vocabulary: list[str]) -> str:
    words = [_zipf_word(rng, vocabulary) for _ in range(rng.randint(2, 14))]
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words) + 1), f"i {rng.choice(PLACES)}")
    if rng.random() < 0.3:
        number = rng.choice(NUMBERS).format(
            n=rng.randint(1, 500), y=rng.randint(1990, 2040), h=rng.randint(5, 22), m=rng.randint(0, 59)
        )
        words.insert(rng.randrange(len(words) + 1), number)
    text = rng.choice(OPENINGS) + " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", "", "!", ". Tack."])


def make_answers(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    personal = [case.text for case in read_cases(CASES) if case.text != case.expected]
    vocabulary = make_vocabulary(rng)
    return [rng.choice(personal) if rng.random() < 0.05 else generated_answer(rng, vocabulary) for _ in range(n)]


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def scan_shared_datasets() -> None:
    for name, column in SHARED_TEXT_COLUMNS.items():
        path = SHARED / name
        if not path.exists():
            print(f"{name}: not found under {SHARED}")
            continue
        texts = pd.read_csv(path, sep="\t" if name.endswith(".tsv") else ",")[column].dropna().astype(str)
        flagged = [(text, find_personal_data(text)) for text in texts]
        flagged = [(text, spans) for text, spans in flagged if spans]
        naive = sum(1 for text in texts if BASELINE.search(text))
        print(f"{name}: {len(texts):,} texts, {len(flagged)} with findings; the plain regex changes {naive}")
        for text, spans in flagged[:20]:
            print("   ", [(span.type, text[span.start : span.end]) for span in spans], "|", text[:120])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--scan-shared", action="store_true", help="count findings (false positives) in ../shared/datasets"
    )
    args = parser.parse_args()
    if args.scan_shared:
        scan_shared_datasets()
        return
    answers = make_answers(args.n)
    series = pd.Series(answers)
    mean_chars = sum(map(len, answers)) / len(answers)
    print(
        f"{args.n:,} answers, {mean_chars:.0f} characters on average, "
        f"{series.nunique():,} distinct; best of {args.repeat} runs"
    )

    baseline = best_of(args.repeat, lambda: [BASELINE.sub("[x]", text) for text in answers])
    per_answer = best_of(args.repeat, lambda: [redact(text) for text in answers])
    vectorised = best_of(args.repeat, lambda: redact_series(series))
    with_findings = sum(1 for text in answers if find_personal_data(text))
    naive_changed = sum(1 for text in answers if BASELINE.search(text))

    print(f"plain single regex pass (re.sub)   {baseline:7.2f} s  {1e6 * baseline / args.n:6.1f} µs/answer")
    print(
        f"redact() per answer                {per_answer:7.2f} s  {1e6 * per_answer / args.n:6.1f} µs/answer"
        f"  ({per_answer / baseline:.1f}x the plain pass)"
    )
    print(f"redact_series() on a Series        {vectorised:7.2f} s  {1e6 * vectorised / args.n:6.1f} µs/answer")
    print(f"answers with personal data found: {with_findings:,} (the plain regex changes {naive_changed:,})")


if __name__ == "__main__":
    main()
