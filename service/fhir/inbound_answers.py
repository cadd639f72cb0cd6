"""The symptom QuestionnaireResponse in, the native symptoms reading out (see ``inbound``)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from service.fhir import codes
from service.fhir.inbound import (
    EntryKey,
    Mapped,
    Refused,
    SubjectRef,
    reading_id,
    subject_ref,
    taken_time,
    validated,
)
from service.fhir.outcome import Issue
from service.fhir.problem_codes import coding
from service.fhir.questionnaire import BY_LINK_ID

ACCEPTED_RESPONSE_STATUS = {"completed", "amended"}


def is_our_questionnaire(canonical: str | None) -> bool:
    if not canonical:
        return False
    url, _, version = canonical.partition("|")
    if version and version != codes.QUESTIONNAIRE_VERSION:
        return False
    return url == codes.QUESTIONNAIRE_URL or url.endswith(f"Questionnaire/{codes.QUESTIONNAIRE_ID}")


def questionnaire_response(qr: Any, where: str, key: EntryKey) -> Mapped:
    issues: list[Issue] = []
    if not is_our_questionnaire(qr.questionnaire):
        issues.append(
            Issue(
                "not-supported",
                f"questionnaire must be {codes.QUESTIONNAIRE_URL} "
                f"(version {codes.QUESTIONNAIRE_VERSION})",
                (f"{where}.questionnaire",),
                details=coding("invalid_value"),
            )
        )
    if qr.status not in ACCEPTED_RESPONSE_STATUS:
        issues.append(
            Issue(
                "not-supported",
                f"status {qr.status!r}: only completed answers are stored",
                (f"{where}.status",),
                details=coding("invalid_value"),
            )
        )
    subject: SubjectRef | None = None
    try:
        subject = subject_ref(qr.subject, where)
    except Refused as exc:
        issues.extend(exc.issues)
    taken_at = taken_time(qr.authored, f"{where}.authored", issues)
    answers: dict[str, Any] = {}
    fields: dict[str, str] = {"taken_at": f"{where}.authored", "answers": f"{where}.item"}
    for index, item in enumerate(qr.item or []):
        expr = f"{where}.item[{index}]"
        link_id = item.linkId or ""
        question = BY_LINK_ID.get(link_id)
        if question is None:
            issues.append(
                Issue(
                    "not-supported",
                    f"unknown question linkId {link_id!r}",
                    (f"{expr}.linkId",),
                    details=coding("unknown_field"),
                )
            )
            continue
        fields[f"answers.{link_id}"] = expr
        if item.item:
            issues.append(
                Issue(
                    "structure",
                    "nested items are not part of this questionnaire",
                    (f"{expr}.item",),
                    details=coding("unknown_field"),
                )
            )
        if link_id in answers:
            issues.append(
                Issue(
                    "invalid",
                    f"{link_id} is answered twice",
                    (expr,),
                    details=coding("invalid_value"),
                )
            )
            continue
        if len(item.answer or []) != 1:
            issues.append(
                Issue(
                    "invalid",
                    f"{link_id} needs exactly one answer",
                    (f"{expr}.answer",),
                    details=coding("invalid_value"),
                )
            )
            continue
        answer = (item.answer or [])[0]
        answer_expr = f"{expr}.answer[0]"
        if question.kind == "boolean":
            if answer.valueBoolean is None:
                issues.append(
                    Issue(
                        "invalid",
                        f"{link_id} is answered with valueBoolean",
                        (answer_expr,),
                        details=coding("invalid_type"),
                    )
                )
                continue
            answers[link_id] = answer.valueBoolean
        else:
            chosen = answer.valueCoding
            allowed = [c for c, _ in question.options]
            if (
                chosen is None
                or chosen.system not in (None, codes.SYMPTOM_ANSWER_SYSTEM)
                or chosen.code not in allowed
            ):
                issues.append(
                    Issue(
                        "code-invalid",
                        f"{link_id} is answered with a valueCoding from "
                        f"{codes.SYMPTOM_ANSWER_SYSTEM}: one of {allowed}",
                        (answer_expr,),
                        details=coding("invalid_value"),
                    )
                )
                continue
            answers[link_id] = chosen.code
    if issues or subject is None or taken_at is None:
        raise Refused(issues)
    content = f"symptoms|{taken_at.astimezone(UTC).isoformat()}|{sorted(answers.items())}"
    identifiers = [(qr.identifier.system, qr.identifier.value)] if qr.identifier else []
    rid, id_expr = reading_id("QuestionnaireResponse", identifiers, key, content, where)
    fields["id"] = id_expr.replace(".identifier[0]", ".identifier")
    raw = {"id": rid, "type": "symptoms", "taken_at": taken_at, "answers": answers}
    return Mapped(validated(raw, fields, where), subject, "QuestionnaireResponse", where, fields)
