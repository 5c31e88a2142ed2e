"""Checkout as the SPA and the buyer drive it: a purchase through the stand-in's hosted page, the cancel link, the
checkout contract, orders, tickets, PDFs with scannable QR codes, and verification at the door."""
import io
import time
import uuid
from urllib.parse import urlsplit

import pytest

from localrunner.bus import wait_until
from moments import PAST
from ticketing_support import (
    CANCEL_URL,
    SUCCESS_URL,
    add_type,
    checkout,
    mirror_event,
    pay_on_hosted_page,
    sent_for,
    stock,
    wait_status,
)

PLATFORM_WORKERS = 3  # competing replicas, as the platforms scale out (localrunner.workers)

pytestmark = pytest.mark.clock  # scripts/test runs it again with the clock a year ahead


def qr_codes(pdf_bytes):
    """Every QR code on every page, decoded from the page rendered as an image (what a phone camera sees)."""
    import pypdfium2
    import zxingcpp

    found = []
    document = pypdfium2.PdfDocument(io.BytesIO(pdf_bytes))
    for index in range(len(document)):
        image = document[index].render(scale=2).to_pil()
        found.append([r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode])
    return found


def purchase(api, db, buyer, type_ids):
    response = checkout(api, buyer, type_ids)
    assert response.status_code == 201, response.text
    pay_on_hosted_page(response.json()["redirectUrl"])
    order_id = response.json()["orderId"]
    assert wait_status(db, order_id, "COMPLETED")
    # tickets are issued right after the decision, before the webhook is answered
    assert wait_until(lambda: db["orders"].find_one({"_id": order_id, "settled": True}))
    return order_id


def test_a_purchase_through_the_hosted_page_issues_tickets_with_scannable_qr_codes(
        api, platform, db, org, member, on_sale, stripe, tap):
    wire = tap("payments.order.confirmed")
    vip = add_type(api, org, on_sale, "VIP", 40.5, 5)["id"]
    standard = add_type(api, org, on_sale, "STANDARD", 10, 5)["id"]

    response = checkout(api, member, [vip, standard, standard])

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"sessionId", "redirectUrl", "expiresAt", "orderId"}
    session = stripe.sessions[body["sessionId"]]
    assert session["metadata"] == {"orderId": body["orderId"]} and session["amount_total"] == 4050 + 2 * 1000
    assert 29 * 60 <= body["expiresAt"] - time.time() <= 30 * 60 and session["expires_at"] == body["expiresAt"]
    assert sorted((i["description"], i["quantity"], i["price"]["unit_amount"])
                  for i in stripe.line_items[body["sessionId"]]) == [("STANDARD", 2, 1000), ("VIP", 1, 4050)]
    assert stock(db, vip) == (4, 1, 1) and stock(db, standard) == (3, 2, 1)

    assert pay_on_hosted_page(body["redirectUrl"]) == SUCCESS_URL
    assert wait_status(db, body["orderId"], "COMPLETED")
    assert wait_until(lambda: db["orders"].find_one({"_id": body["orderId"], "settled": True}))

    order = api.call("GET", "ticketing", f"/orders/{body['orderId']}", token=member.token).json()
    assert order["status"] == "COMPLETED" and len(order["ticketIds"]) == 3 and order["paymentIntentId"]
    assert stock(db, vip) == (4, 1, 0) and stock(db, standard) == (3, 2, 0)
    confirmed = sent_for(wire, "payments.order.confirmed", orderId=body["orderId"])
    assert confirmed == [{"orderId": body["orderId"], "userId": member.id, "eventId": on_sale}]
    tickets = api.call("GET", "ticketing", f"/users/{member.id}/tickets", token=member.token).json()
    assert tickets["totalItems"] == 3 and {t["status"] for t in tickets["items"]} == {"ACTIVE"}
    assert sorted(t["attendeeName"] for t in tickets["items"]) == ["Guest 0", "Guest 1", "Guest 2"]

    pdf = api.call("GET", "ticketing", f"/orders/{body['orderId']}/pdf", token=member.token)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'inline; filename="order-{body["orderId"]}.pdf"'
    host = platform.settings.public_host or f"localhost:{platform.port}"
    assert sorted(code for page in qr_codes(pdf.content) for code in page) == sorted(
        f"http://{host}/verify/{ticket_id}" for ticket_id in order["ticketIds"])
    assert all(len(page) == 1 for page in qr_codes(pdf.content))  # one ticket, one page, one code
    one = api.call("GET", "ticketing", f"/tickets/{order['ticketIds'][0]}/pdf", token=member.token)
    assert qr_codes(one.content) == [[f"http://{host}/verify/{order['ticketIds'][0]}"]]
    event_pdf = api.call("GET", "ticketing", f"/users/{member.id}/events/{on_sale}/pdf", token=member.token)
    assert event_pdf.status_code == 200 and len(qr_codes(event_pdf.content)) == 3
    events = api.call("GET", "ticketing", f"/users/{member.id}/events", token=member.token,
                      params={"status": "PUBLISHED", "order": "desc"}).json()
    assert events == {"items": [on_sale], "totalItems": 1, "limit": 20, "offset": 0, "hasMore": False}


def test_the_cancel_link_releases_the_order_and_redirects_to_its_own_cancel_url(api, db, org, member, on_sale, stripe,
                                                                                 tap):
    wire = tap("payments.order.rejected")
    type_id = add_type(api, org, on_sale, quantity=3)["id"]
    body = checkout(api, member, [type_id, type_id]).json()
    assert stock(db, type_id) == (1, 2, 1)

    back = pay_page_cancel(stripe, body["sessionId"])  # the hosted page's Cancel goes to our cancel link
    path = urlsplit(back)
    response = api.call("GET", "ticketing", f"{path.path}?{path.query}", follow_redirects=False)

    assert response.status_code == 302 and response.headers["location"] == CANCEL_URL
    assert wait_status(db, body["orderId"], "CANCELLED")
    assert stock(db, type_id) == (3, 0, 0)
    assert stripe.sessions[body["sessionId"]]["status"] == "expired"
    rejected = sent_for(wire, "payments.order.rejected", orderId=body["orderId"])
    assert rejected == [{"orderId": body["orderId"], "userId": member.id, "eventId": on_sale,
                         "reason": "cancelled_by_user"}]
    again = api.call("GET", "ticketing", f"/checkout-sessions/{body['sessionId']}/cancel",
                     params={"redirect_to": "https://evil.example/"}, follow_redirects=False)
    assert again.status_code == 409 and again.json()["error"] == "checkout_settled"  # only while pending
    assert stock(db, type_id) == (3, 0, 0)
    assert api.call("GET", "ticketing", f"/checkout-sessions/{uuid.uuid4()}/cancel").status_code == 404


def pay_page_cancel(stripe, session_id):
    import httpx

    response = httpx.post(f"{stripe.url}/c/pay/{session_id}/cancel", timeout=10)
    assert response.status_code == 303
    return response.headers["location"]


def test_checkout_contract(api, broker, db, org, member, people, on_sale):
    type_id = add_type(api, org, on_sale, quantity=1)["id"]
    draft = mirror_event(broker, db, org, status="DRAFT")
    draft_type = add_type(api, org, draft)["id"]
    started = mirror_event(broker, db, org, date=PAST)
    started_type = add_type(api, org, started)["id"]

    def status_of(buyer, items, **changes):
        body = {"userId": buyer.id, "items": items, "successUrl": SUCCESS_URL, "cancelUrl": CANCEL_URL, **changes}
        response = api.call("POST", "ticketing", "/checkout-sessions", token=buyer.token, json=body)
        return response.status_code, response.json().get("error")

    one = [{"ticketTypeId": type_id, "attendeeName": "Ann"}]
    assert api.call("POST", "ticketing", "/checkout-sessions", json={}).status_code == 401
    assert status_of(member, one, userId=str(uuid.uuid4())) == (403, "forbidden")
    assert status_of(member, []) == (400, "invalid_input")
    assert status_of(member, one, successUrl="javascript:alert(1)") == (400, "invalid_input")
    assert status_of(member, one, cancelUrl="https://evil.example/phish") == (400, "invalid_input")  # not the SPA
    assert status_of(member, [{"ticketTypeId": type_id}]) == (400, "invalid_input")
    assert status_of(member, [{"ticketTypeId": "ett_missing", "attendeeName": "A"}]) == (404, "not_found")
    assert status_of(member, [{"ticketTypeId": draft_type, "attendeeName": "A"}]) == (404, "not_found")
    assert status_of(org, [{"ticketTypeId": draft_type, "attendeeName": "A"}]) == (400, "event_not_on_sale")
    assert status_of(member, [{"ticketTypeId": started_type, "attendeeName": "A"}]) == (400, "event_started")
    assert status_of(member, one) == (201, None)
    assert status_of(people("member"), one) == (409, "sold_out")
    assert stock(db, type_id) == (0, 1, 1)


def test_a_retried_checkout_with_its_key_reserves_once(api, db, org, member, on_sale):
    type_id = add_type(api, org, on_sale, quantity=5)["id"]
    key = f"checkout-{uuid.uuid4()}"

    first = checkout(api, member, [type_id, type_id], key=key)
    second = checkout(api, member, [type_id, type_id], key=key)

    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert stock(db, type_id) == (3, 2, 1)
    assert db["orders"].count_documents({"userId": member.id}) == 1


def test_orders_and_tickets_are_their_owners_only(api, db, org, member, people, on_sale):
    type_id = add_type(api, org, on_sale)["id"]
    order_id = purchase(api, db, member, [type_id])
    ticket_id = db["tickets"].find_one({"orderId": order_id})["_id"]
    other = people("member")

    assert api.call("GET", "ticketing", f"/orders/{order_id}", token=other.token).status_code == 403
    assert api.call("GET", "ticketing", f"/orders/{order_id}").status_code == 401
    assert api.call("GET", "ticketing", f"/orders/{uuid.uuid4()}", token=member.token).status_code == 404
    assert api.call("GET", "ticketing", f"/orders/{order_id}/pdf", token=other.token).status_code == 403
    assert api.call("GET", "ticketing", f"/tickets/{ticket_id}", token=other.token).status_code == 403
    assert api.call("GET", "ticketing", f"/tickets/{ticket_id}/pdf", token=other.token).status_code == 403
    assert api.call("GET", "ticketing", f"/tickets/{uuid.uuid4()}", token=member.token).status_code == 404
    assert api.call("GET", "ticketing", f"/users/{member.id}/tickets", token=other.token).status_code == 403
    assert api.call("GET", "ticketing", f"/users/{member.id}/events", token=other.token).status_code == 403
    assert api.call("GET", "ticketing", f"/users/{other.id}/events/{on_sale}/pdf", token=other.token).status_code == 404
    assert api.call("GET", "ticketing", f"/users/{member.id}/events", token=member.token,
                    params={"status": "DRAFT"}).status_code == 400
    assert api.call("GET", "ticketing", f"/users/{member.id}/tickets", token=member.token,
                    params={"limit": 0}).status_code == 400
    ticket = api.call("GET", "ticketing", f"/tickets/{ticket_id}", token=member.token).json()
    assert ticket == {"id": ticket_id, "orderId": order_id, "eventId": on_sale, "userId": member.id,
                      "attendeeName": "Guest 0", "ticketTypeId": type_id, "type": "STANDARD", "price": 25.0,
                      "currency": "USD", "purchaseDate": ticket["purchaseDate"], "status": "ACTIVE"}


def test_verification_at_the_door_uses_a_ticket_once(api, broker, db, org, member, people):
    collaborator, stranger = people("organization"), people("member")
    event_id = mirror_event(broker, db, org, collaborators=[collaborator.id])
    type_id = add_type(api, org, event_id)["id"]
    first, second = (purchase(api, db, member, [type_id]) for _ in range(2))
    ticket_a = db["tickets"].find_one({"orderId": first})["_id"]
    ticket_b = db["tickets"].find_one({"orderId": second})["_id"]

    def verify(caller, ticket_id):
        response = api.call("PUT", "ticketing", f"/tickets/{ticket_id}/verify", token=caller.token)
        return response.status_code, response.json()

    assert verify(stranger, ticket_a)[0] == 403
    assert verify(member, ticket_a)[0] == 403
    assert verify(org, ticket_a) == (200, True)
    assert verify(org, ticket_a) == (200, False)
    assert verify(collaborator, ticket_b) == (200, True)
    assert verify(org, f"ticket_{uuid.uuid4()}")[0] == 404
    assert db["tickets"].find_one({"_id": ticket_a})["status"] == "USED"
    db["tickets"].update_one({"_id": ticket_b}, {"$set": {"status": "CANCELLED"}})
    assert verify(org, ticket_b)[0] == 409


@pytest.mark.parametrize("status", ["CANCELLED", "COMPLETED"])
def test_closed_events_take_no_new_ticket_types(api, broker, db, org, status):
    event_id = mirror_event(broker, db, org, status=status)

    response = api.call("POST", "ticketing", f"/events/{event_id}/ticket-types", token=org.token,
                        json={"type": "VIP", "price": 1, "quantity": 1})

    assert response.status_code == 409 and response.json()["error"] == "event_closed"


def test_the_pdf_and_the_checkout_message_speak_the_buyers_language(api, broker, db, org, member, on_sale, stripe):
    broker.publish("user.created", {"id": member.id, "username": "mario", "name": "Mario", "email": "m@example.org",
                                    "avatar": "http://media.localhost/users/default.png", "bio": None,
                                    "interests": None, "language": "it", "role": "member"}, sequence=1)
    assert wait_until(lambda: db["users"].find_one({"_id": member.id, "language": "it"}), timeout=10)
    type_id = add_type(api, org, on_sale)["id"]

    order_id = purchase(api, db, member, [type_id])

    session_id = db["orders"].find_one({"_id": order_id})["sessionId"]
    assert stripe.sessions[session_id]["custom_text"]["submit"]["message"] == "Acquisto biglietti per: Rave night"
    pdf = api.call("GET", "ticketing", f"/orders/{order_id}/pdf", token=member.token)
    assert "Rave night - Biglietto" in pdf_text(pdf.content) and "Partecipante: Guest 0" in pdf_text(pdf.content)


def pdf_text(pdf_bytes):
    import pypdfium2

    document = pypdfium2.PdfDocument(io.BytesIO(pdf_bytes))
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
