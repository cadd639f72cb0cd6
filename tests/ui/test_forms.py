"""One path for every form's errors: the record's labels and the admin pages' own sentences."""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from service.problems import Problem, Unprocessable
from service.ui.forms import number, problem_errors, validation_errors


class _Inner(BaseModel):
    pulse_low_amber: int = Field(ge=30)


class _Form(BaseModel):
    name: str = Field(min_length=1, max_length=5)
    thresholds: _Inner
    starts: int = 0
    ends: int = 0

    @model_validator(mode="after")
    def _order(self) -> _Form:
        if self.ends < self.starts:
            raise ValueError("ends must not be before starts")
        return self


def _refusal(data: dict[str, object]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate(data)
    return caught.value


def test_a_field_is_named_by_its_label_and_a_nested_field_by_its_last_part():
    exc = _refusal({"name": "", "thresholds": {"pulse_low_amber": 20}})
    labels = {"name": "Name", "pulse_low_amber": "Amber: pulse below"}
    assert validation_errors(exc, labels) == {
        "name": "Enter name.",
        "pulse_low_amber": "Amber: pulse below must be 30 or more.",
    }


def test_the_forms_own_sentence_wins_and_the_prefix_names_the_pages_field():
    exc = _refusal({"name": "toolong", "thresholds": {"pulse_low_amber": "x"}})
    errors = validation_errors(exc, messages={"name": "Enter a name of 1 to 5."}, prefix="team_")
    assert errors == {
        "team_name": "Enter a name of 1 to 5.",
        "team_pulse_low_amber": "Pulse low amber must be a whole number.",
    }


def test_a_check_across_fields_is_the_forms_in_its_words():
    exc = _refusal({"name": "a", "thresholds": {"pulse_low_amber": 40}, "starts": 2, "ends": 1})
    errors = validation_errors(exc, {"ends": "End day", "starts": "start day"})
    assert errors == {"form": "End day must not be before start day."}


def _problem(*fields: str) -> Problem:
    errors = [{"field": f, "message": "must be 30 or more"} for f in fields]
    return Unprocessable("The thresholds are not safe.", extra={"errors": errors})


def test_a_refusal_names_the_forms_fields_by_label_or_by_the_pages_map():
    labels = {"pulse_low_amber": "Amber: pulse below"}
    assert problem_errors(_problem("thresholds.pulse_low_amber"), labels) == {
        "pulse_low_amber": "Amber: pulse below must be 30 or more."
    }
    fields = {"response_policy.opens_at": "opens_at"}
    found = problem_errors(
        _problem("response_policy.opens_at", "other"), fields=fields, default="x"
    )
    assert found == {"opens_at": "Must be 30 or more", "x": "Must be 30 or more"}


def test_a_refusal_naming_no_field_goes_to_the_default_or_to_the_caller():
    bare = Unprocessable("A site with code SITEA exists.")
    assert problem_errors(bare, default="code", prefix="team_") == {
        "team_code": "A site with code SITEA exists."
    }
    assert problem_errors(bare) == {}


def test_a_number_is_the_apis_json_number():
    assert number("60") == 60 and isinstance(number("60.0"), int)
    assert math.isclose(number("2.5"), 2.5)
    with pytest.raises(ValueError):
        number("inf")
