"""The service's own symptom Questionnaire: the questions behind ``SymptomAnswersIn``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.coding import snomed
from service.fhir.codes import (
    QUESTIONNAIRE_ID,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    SYMPTOM_ANSWER_SYSTEM,
)
from service.fhir.resources import Questionnaire


@dataclass(frozen=True, slots=True)
class Question:
    link_id: str  # the SymptomAnswersIn field it fills
    text: str
    kind: str  # "choice" or "boolean"
    options: tuple[tuple[str, str], ...] = ()
    required: bool = True


QUESTIONS = (
    Question(
        "breathlessness",
        "How is your breathing today?",
        "choice",
        (
            ("none", "Not breathless"),
            ("usual", "Breathless as usual for me"),
            ("worse", "More breathless than usual when active"),
            ("at_rest", "Breathless at rest"),
        ),
    ),
    Question(
        "orthopnoea", "Do you need more pillows, or wake at night short of breath?", "boolean"
    ),
    Question(
        "ankle_swelling",
        "Are your ankles, legs or tummy swollen?",
        "choice",
        (
            ("none", "No swelling"),
            ("usual", "Swollen as usual"),
            ("worse", "More swollen than usual"),
        ),
    ),
    Question("dizziness", "Have you felt dizzy or light-headed?", "boolean"),
    Question("chest_pain", "Have you had chest pain?", "boolean"),
    Question(
        "fatigue",
        "How tired are you?",
        "choice",
        (("usual", "As usual for me"), ("worse", "More tired than usual")),
    ),
    Question("fainting", "Have you fainted or collapsed?", "boolean", required=False),
    Question("confusion", "Have you or others noticed new confusion?", "boolean", required=False),
)
BY_LINK_ID = {q.link_id: q for q in QUESTIONS}


def questionnaire() -> Questionnaire:
    items: list[dict[str, Any]] = []
    for q in QUESTIONS:
        item: dict[str, Any] = {
            "linkId": q.link_id,
            "text": q.text,
            "type": q.kind,
            "required": q.required,
        }
        concept = snomed.coding("symptom", q.link_id)
        if concept is not None:
            # The finding the question asks about, so a receiving system can file the answers.
            item["code"] = [concept]
        if q.options:
            item["answerOption"] = [
                {"valueCoding": {"system": SYMPTOM_ANSWER_SYSTEM, "code": c, "display": d}}
                for c, d in q.options
            ]
        items.append(item)
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": QUESTIONNAIRE_ID,
            "url": QUESTIONNAIRE_URL,
            "version": QUESTIONNAIRE_VERSION,
            "name": "MHFSymptoms",
            "title": "MHF @home daily heart failure symptoms",
            "status": "active",
            "subjectType": ["Patient"],
            "description": (
                "Daily symptom check for people monitored at home for heart failure. Answer "
                "with a QuestionnaireResponse whose questionnaire is this url; choice answers "
                "are valueCoding from the answerOption codes, yes/no answers valueBoolean."
            ),
            "item": items,
        }
    )
