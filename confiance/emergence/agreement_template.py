"""The agile contract both sides start from, in French and in English.

The agreement is written in one language chosen when it starts, whatever the language of the
pages each reader uses: both sides must accept the very same text. So the template and the
canonical text's labels are kept here as data per language, not in the interface's catalogue.
The clauses follow the founding essays: visible consumption, iterations each with a budget cap,
the right of either side to stop at the end of any iteration, a trust review at a set cadence,
problem ownership and escalation, approval for payment on a closure analysis.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("fr", "en")

TEMPLATE: dict[str, list[dict[str, str]]] = {
    "en": [
        {
            "key": "purpose",
            "title": "Purpose",
            "text": (
                "The provider helps the client reach the objectives listed in the terms above. "
                "The work is organised in iterations; what each iteration delivers is agreed "
                "at its start by both sides."
            ),
        },
        {
            "key": "visible-consumption",
            "title": "Visible consumption",
            "text": (
                "The client sees the effort consumed as it happens: every time entry, budget "
                "change and acceptance is recorded in a tamper-evident log that the client can "
                "verify, with the forecast at completion. Nothing consumed is revealed only at "
                "invoicing."
            ),
        },
        {
            "key": "iterations",
            "title": "Iterations and budget caps",
            "text": (
                "Each iteration has a budget cap, set in the terms. The provider warns the "
                "client as soon as the forecast of an iteration exceeds its cap, before the "
                "cap is reached; exceeding a cap needs the client's written agreement."
            ),
        },
        {
            "key": "stopping",
            "title": "The right to stop",
            "text": (
                "Either side may stop the engagement at the end of any iteration, without "
                "penalty and without having to justify it, by saying so before the next "
                "iteration starts. Only the work consumed up to that point is due. Stopping "
                "early is an honest outcome, not a failure."
            ),
        },
        {
            "key": "trust-review",
            "title": "Trust review",
            "text": (
                "At the cadence set in the terms, both sides review together the trust "
                "figures of the engagement in both directions, their explanations and the "
                "open alerts, and agree on what changes."
            ),
        },
        {
            "key": "problems",
            "title": "Problem ownership and escalation",
            "text": (
                "Every problem raised by either side has a named owner within one working day, "
                "progress updates until it is solved, and is escalated early rather than late. "
                "The provider raises the problems it sees before the client notices them."
            ),
        },
        {
            "key": "closure",
            "title": "Closure and approval for payment",
            "text": (
                "The engagement closes with an analysis of the attainment of each objective "
                "and a retrospective written by both sides. The client's approval for payment "
                "is given on that closure analysis."
            ),
        },
    ],
    "fr": [
        {
            "key": "purpose",
            "title": "Objet",
            "text": (
                "Le prestataire aide le client à atteindre les objectifs listés dans les "
                "conditions ci-dessus. Le travail est organisé en itérations ; ce que livre "
                "chaque itération est convenu à son début par les deux parties."
            ),
        },
        {
            "key": "visible-consumption",
            "title": "Consommé visible",
            "text": (
                "Le client voit l'effort consommé au fil de l'eau : chaque temps passé, chaque "
                "changement de budget et chaque acceptation est inscrit dans un registre "
                "infalsifiable que le client peut vérifier, avec la prévision à terminaison. "
                "Rien de consommé n'est découvert à la facturation."
            ),
        },
        {
            "key": "iterations",
            "title": "Itérations et plafonds de budget",
            "text": (
                "Chaque itération a un plafond de budget, fixé dans les conditions. Le "
                "prestataire prévient le client dès que la prévision d'une itération dépasse "
                "son plafond, avant de l'atteindre ; dépasser un plafond demande l'accord écrit "
                "du client."
            ),
        },
        {
            "key": "stopping",
            "title": "Le droit d'arrêter",
            "text": (
                "Chaque partie peut arrêter la mission à la fin de n'importe quelle itération, "
                "sans pénalité et sans avoir à se justifier, en le disant avant que l'itération "
                "suivante commence. Seul le travail consommé jusque-là est dû. Arrêter tôt est "
                "une issue honnête, pas un échec."
            ),
        },
        {
            "key": "trust-review",
            "title": "Revue de confiance",
            "text": (
                "Au rythme fixé dans les conditions, les deux parties revoient ensemble les "
                "indicateurs de confiance de la mission dans les deux sens, leurs explications "
                "et les alertes ouvertes, et conviennent de ce qui change."
            ),
        },
        {
            "key": "problems",
            "title": "Responsabilité des problèmes et escalade",
            "text": (
                "Chaque problème soulevé par l'une ou l'autre partie a un responsable nommé "
                "sous un jour ouvré, des points d'avancement jusqu'à sa résolution, et est "
                "escaladé tôt plutôt que tard. Le prestataire signale les problèmes qu'il voit "
                "avant que le client ne les remarque."
            ),
        },
        {
            "key": "closure",
            "title": "Clôture et bon à payer",
            "text": (
                "La mission se clôt par une analyse de l'atteinte de chaque objectif et une "
                "rétrospective écrite par les deux parties. Le bon à payer du client est donné "
                "sur cette analyse de clôture."
            ),
        },
    ],
}

# The labels of the canonical text, in the agreement's language.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "agreement": "Agreement",
        "client": "Client",
        "provider": "Provider",
        "terms": "Terms",
        "budget_days": "Budget cap (days)",
        "iterations": "Number of iterations",
        "iteration_days": "Budget cap of each iteration (days)",
        "trust_review_weeks": "Trust review every (weeks)",
        "objectives": "Objectives",
        "unset": "to be agreed",
    },
    "fr": {
        "agreement": "Accord",
        "client": "Client",
        "provider": "Prestataire",
        "terms": "Conditions",
        "budget_days": "Plafond de budget (jours)",
        "iterations": "Nombre d'itérations",
        "iteration_days": "Plafond de budget de chaque itération (jours)",
        "trust_review_weeks": "Revue de confiance toutes les (semaines)",
        "objectives": "Objectifs",
        "unset": "à convenir",
    },
}

TERM_NUMBERS = ("budget_days", "iterations", "iteration_days", "trust_review_weeks")


def template_clauses(language: str) -> list[dict[str, str]]:
    """A fresh copy of the template's clauses in `language`."""
    return [dict(clause) for clause in TEMPLATE[language]]


def canonical_text(
    *,
    language: str,
    title: str,
    client: str,
    provider: str,
    terms: dict[str, Any],
    clauses: list[dict[str, str]],
) -> str:
    """The one text both sides accept: header, terms, then the clauses in order.

    Deterministic from its inputs (the SHA-256 of an acceptance is over these UTF-8 bytes); line
    endings are normalised so that a browser's CRLF does not change what is signed.
    """
    labels = LABELS[language]
    lines = [
        f"# {labels['agreement']}: {title}",
        "",
        f"{labels['client']}: {client}",
        f"{labels['provider']}: {provider}",
        "",
        f"## {labels['terms']}",
        "",
    ]
    for name in TERM_NUMBERS:
        value = terms.get(name)
        lines.append(f"- {labels[name]}: {value if value is not None else labels['unset']}")
    objectives = [o for o in terms.get("objectives", []) if o]
    lines.append(f"- {labels['objectives']}:")
    lines.extend(f"  - {objective}" for objective in objectives)
    if not objectives:
        lines.append(f"  - {labels['unset']}")
    for number, clause in enumerate(clauses, start=1):
        lines += ["", f"## {number}. {clause['title']}", "", normalise(clause["text"])]
    return "\n".join(lines) + "\n"


def normalise(text: str) -> str:
    """One form of a clause's text: Unix line endings, no trailing spaces, no outer blank lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")
