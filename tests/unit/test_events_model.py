"""The events group's document rules, pure: PUT semantics, the lifecycle, what publishing needs, locations."""
import pytest

import moments
from moments import FUTURE, PAST
from runtime.errors import Conflict

from functions.events import model

NOW = moments.days_ahead(0, hour=18)


def stored_event(**fields):
    doc = {"_id": "e1", "status": "DRAFT", "creatorId": "org", "collaboratorIds": ["partner"], "title": "Night",
           "titleKey": "night", "tags": ["Club"], "date": FUTURE, "_version": 3,
           "location": {"name": "Club", "lat": 1.0, "lon": 2.0}, "geo": {"type": "Point", "coordinates": [2.0, 1.0]}}
    return {**doc, **fields}


def test_an_update_keeps_omitted_fields_and_clears_empties():
    update = model.EventUpdate.model_validate({"title": "New Night", "tags": [], "date": None})

    after, mongo = model.apply_update(stored_event(), update)

    assert after["title"] == "New Night" and after["titleKey"] == "new night"
    assert "tags" not in after and "date" not in after and after["collaboratorIds"] == ["partner"]
    assert mongo == {"$inc": {"_version": 1}, "$set": {"title": "New Night", "titleKey": "new night"},
                     "$unset": {"date": "", "tags": ""}}


def test_an_update_of_the_location_moves_or_drops_the_point():
    moved, _ = model.apply_update(stored_event(), model.EventUpdate.model_validate(
        {"location": {"city": "Rimini", "lat": 44.0, "lon": 12.5}}))
    dropped, mongo = model.apply_update(stored_event(), model.EventUpdate.model_validate({"location": {"city": "X"}}))

    assert moved["geo"] == {"type": "Point", "coordinates": [12.5, 44.0]}
    assert "geo" not in dropped and mongo["$unset"] == {"geo": ""}


def test_collaborators_can_be_cleared_and_never_include_the_creator():
    after, _ = model.apply_update(stored_event(), model.EventUpdate.model_validate({"collaboratorIds": ["org", "b"]}))
    cleared, _ = model.apply_update(stored_event(), model.EventUpdate.model_validate({"collaboratorIds": []}))

    assert after["collaboratorIds"] == ["b"] and cleared["collaboratorIds"] == []


@pytest.mark.parametrize("current, target, allowed", [
    ("DRAFT", "DRAFT", True), ("DRAFT", "PUBLISHED", True), ("DRAFT", "CANCELLED", False),
    ("PUBLISHED", "PUBLISHED", True), ("PUBLISHED", "CANCELLED", True), ("PUBLISHED", "DRAFT", False),
    ("PUBLISHED", "COMPLETED", False), ("CANCELLED", "CANCELLED", True), ("CANCELLED", "PUBLISHED", False),
    ("COMPLETED", "COMPLETED", False),
])
def test_transitions(current, target, allowed):
    if allowed:
        model.check_transition(current, target)
    else:
        with pytest.raises(Conflict):
            model.check_transition(current, target)


def test_publishing_needs_the_fields_and_a_future_date():
    problems = model.publish_problems({"title": "T", "date": PAST}, NOW)

    assert problems == [{"field": "description", "message": "required to publish"},
                        {"field": "location", "message": "required to publish"},
                        {"field": "date", "message": "must be in the future to publish"}]
    assert model.publish_problems({"title": "T", "description": "d", "location": {"city": "c"},
                                   "date": PAST}, NOW, future_date=False) == []


def test_an_empty_location_form_is_no_location():
    assert model.EventUpdate.model_validate({"location": {"name": "", "city": None}}).location is None
    with pytest.raises(ValueError):
        model.EventUpdate.model_validate({"location": {"road": "Via Roma"}})
