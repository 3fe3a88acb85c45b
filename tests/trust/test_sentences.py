"""Each trust figure in one plain sentence, from the reader's side, in the reader's language."""

from __future__ import annotations

from django.utils import translation

from confiance.trust.opinion import Opinion
from confiance.trust.sentences import evidence_text, figure_sentence, question


def test_a_figure_reads_as_an_answer_with_its_range_evidence_and_blind_spots() -> None:
    opinion = Opinion.from_evidence(6, 2, 0.6)  # P = 0.72
    evidence = evidence_text(
        [("client_pulse", 3), ("time_logged_promptly", 38), ("time_logged_late", 2)]
    )
    assert evidence == "40 days of time logged and 3 pulse rounds"
    text = figure_sentence(opinion, evidence, ["reliability"])
    low, high = (round(x * 100) for x in opinion.band())
    assert text == (
        f"Fairly — between {low} % and {high} %, from 40 days of time logged and 3 pulse rounds; "
        "nothing known yet about reliability."
    )


def test_without_evidence_the_sentence_says_so_and_claims_nothing() -> None:
    assert figure_sentence(Opinion.vacuous(0.7), "") == "Not known yet — nothing observed so far."


def test_the_question_is_asked_from_the_readers_side() -> None:
    names = {"provider": "Meridian Conseil", "client": "Acme"}
    assert question(direction="c2p", reader_is_provider=False, **names) == (
        "Can you rely on Meridian Conseil?"
    )
    assert question(direction="c2p", reader_is_provider=True, **names) == "Can Acme rely on you?"
    assert question(direction="p2c", reader_is_provider=True, **names) == "Can you rely on Acme?"
    with translation.override("fr"):
        assert question(direction="c2p", reader_is_provider=False, **names) == (
            "Pouvez-vous compter sur Meridian Conseil ?"
        )
        assert evidence_text([("client_pulse", 1)]) == "1 tour du baromètre"
