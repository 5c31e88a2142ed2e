"""The ticketing domain's pure parts: money in Stripe's minor units, deterministic ids and session parameters (so
Stripe's idempotency key always meets the same request), value rules, the verify link in the QR code."""
from datetime import timedelta

import pytest

import moments
from runtime.config import Config
from runtime.errors import InvalidInput
from runtime.validation import parse

from functions.ticketing import model, pdf, saga


@pytest.mark.parametrize("amount, cents", [(0, 0), (19.99, 1999), (0.29, 29), (1.005, 101), (1000, 100000)])
def test_minor_units_round_half_up(amount, cents):
    assert model.minor_units(amount) == cents


def test_derived_ids_are_stable_and_distinct():
    assert model.derived_id("order", "u1", "k1") == model.derived_id("order", "u1", "k1")
    assert model.derived_id("order", "u1", "k1") != model.derived_id("order", "u2", "k1")
    assert model.derived_id("order", "u1", "k1").startswith("order_")


CREATED = moments.days_ahead(400)


def order():
    request = parse(model.CheckoutRequest, {
        "userId": "u1", "successUrl": "http://localhost:5173/events/e1", "cancelUrl": "http://localhost:5173/a?b=c&d",
        "items": [{"ticketTypeId": "ett_vip", "attendeeName": "Ann"}, {"ticketTypeId": "ett_std", "attendeeName": "Bo"},
                  {"ticketTypeId": "ett_std", "attendeeName": "Cy"}]})
    types = {"ett_vip": {"_id": "ett_vip", "type": "VIP", "price": 40.5},
             "ett_std": {"_id": "ett_std", "type": "STANDARD", "price": 10.0}}
    created = CREATED
    return saga.new_order("order_1", "u1", {"_id": "e1", "title": "Rave"}, types, request, created)


def test_session_parameters_are_a_function_of_the_order():
    config = Config({"PUBLIC_HOST": "eventonight.example"})
    params = saga.session_params(order(), config)

    assert params == saga.session_params(order(), config)
    assert params["expires_at"] == int((CREATED + timedelta(minutes=30)).timestamp())
    assert params["metadata"] == {"orderId": "order_1"} and params["mode"] == "payment"
    assert [(i["price_data"]["product_data"]["name"], i["quantity"], i["price_data"]["unit_amount"])
            for i in params["line_items"]] == [("STANDARD", 2, 1000), ("VIP", 1, 4050)]
    assert params["cancel_url"] == ("http://ticketing.eventonight.example/checkout-sessions/order_1/cancel"
                                    "?redirect_to=http%3A%2F%2Flocalhost%3A5173%2Fa%3Fb%3Dc%26d")
    assert order()["total"] == 60.5 and [i["n"] for i in order()["items"]] == [2, 1]


@pytest.mark.parametrize("body, field", [
    ({"type": "VIP", "price": 10.999, "quantity": 1}, "price"),
    ({"type": "VIP", "price": 10, "quantity": 1.5}, "quantity"),
    ({"type": "VIP", "price": 10, "quantity": 1, "description": ""}, "description"),
])
def test_ticket_type_value_rules(body, field):
    with pytest.raises(InvalidInput) as refused:
        parse(model.NewTicketType, body)
    assert [d["field"] for d in refused.value.details] == [field]


def test_the_qr_link_is_the_spas_verify_route():
    assert pdf.verify_url("localhost:8080", "ticket_1") == "http://localhost:8080/verify/ticket_1"
    assert pdf.verify_url("eventonight.example", "ticket_1") == "https://eventonight.example/verify/ticket_1"
