"""Ticket PDFs: A4, one page per ticket, with a QR code of the SPA's verify link (``/verify/{ticketId}``).

The QR modules are drawn as vector squares from ``qrcode``'s matrix (no raster image), with the standard quiet
zone, so any phone scanner (or a decoder in the tests) reads it from the printed or rendered page. Both libraries
are imported lazily: only the PDF functions ship them (their ``requirements``).
"""
from __future__ import annotations

import io
from typing import Any

from runtime import Response

REQUIREMENTS = ("qrcode", "reportlab")
QR_SIZE_POINTS = 180
LABELS = {  # the reference's five languages (reference-core §4.5)
    "en": {"ticket": "Ticket", "id": "Ticket ID", "type": "Type", "attendee": "Attendee", "event": "Event",
           "date": "Event date", "purchased": "Purchased on", "price": "Price", "status": "Status"},
    "it": {"ticket": "Biglietto", "id": "ID biglietto", "type": "Tipo", "attendee": "Partecipante", "event": "Evento",
           "date": "Data evento", "purchased": "Acquistato il", "price": "Prezzo", "status": "Stato"},
    "es": {"ticket": "Entrada", "id": "ID de entrada", "type": "Tipo", "attendee": "Asistente", "event": "Evento",
           "date": "Fecha del evento", "purchased": "Comprado el", "price": "Precio", "status": "Estado"},
    "fr": {"ticket": "Billet", "id": "ID du billet", "type": "Type", "attendee": "Participant", "event": "Événement",
           "date": "Date de l'événement", "purchased": "Acheté le", "price": "Prix", "status": "Statut"},
    "de": {"ticket": "Ticket", "id": "Ticket-ID", "type": "Art", "attendee": "Teilnehmer", "event": "Veranstaltung",
           "date": "Veranstaltungsdatum", "purchased": "Gekauft am", "price": "Preis", "status": "Status"},
}


def verify_url(public_host: str, ticket_id: str) -> str:
    scheme = "http" if "localhost" in public_host or public_host.startswith("127.") else "https"
    return f"{scheme}://{public_host}/verify/{ticket_id}"


def render(tickets: list[dict[str, Any]], events: dict[str, dict[str, Any]], public_host: str,
           language: str = "en") -> bytes:
    import qrcode
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle("EvenToNight tickets")
    width, height = A4
    label = LABELS.get(language, LABELS["en"])
    for ticket in tickets:
        event = events.get(ticket["eventId"]) or {}
        y = height - 70
        page.setFont("Helvetica-Bold", 20)
        page.drawString(50, y, f"{event.get('title') or 'EvenToNight'} - {label['ticket']}")
        page.setFont("Helvetica", 12)
        lines = [(label["id"], ticket["_id"]), (label["type"], ticket.get("type") or ""),
                 (label["attendee"], ticket["attendeeName"]), (label["event"], ticket["eventId"])]
        if event.get("date"):
            lines.append((label["date"], event["date"].replace("T", " ") + " UTC"))
        lines += [(label["purchased"], ticket["purchaseDate"].strftime("%Y-%m-%d %H:%M UTC")),
                  (label["price"], f"{ticket['price']['amount']:.2f} {ticket['price']['currency']}"),
                  (label["status"], ticket["status"])]
        for name, value in lines:
            y -= 22
            page.drawString(50, y, f"{name}: {value}")
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(verify_url(public_host, ticket["_id"]))
        code.make(fit=True)
        matrix = code.get_matrix()
        cell = QR_SIZE_POINTS / len(matrix)
        x0, y0 = 50, y - 40 - QR_SIZE_POINTS
        page.setFillColorRGB(0, 0, 0)
        for row_index, row in enumerate(matrix):
            for col_index, dark in enumerate(row):
                if dark:
                    page.rect(x0 + col_index * cell, y0 + QR_SIZE_POINTS - (row_index + 1) * cell, cell, cell,
                              stroke=0, fill=1)
        page.showPage()
    page.save()
    return buffer.getvalue()


def response(tickets: list[dict[str, Any]], db, public_host: str, filename: str):
    from functions.ticketing import model

    ids = sorted({t["eventId"] for t in tickets})
    events = {e["_id"]: e for e in db[model.EVENTS].find({"_id": {"$in": ids}})}
    language = model.language_of(db, tickets[0]["userId"])
    return Response(200, render(tickets, events, public_host, language),
                    {"Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{filename}"'})
