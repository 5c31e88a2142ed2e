"""Ticket PDFs: A4, one page per ticket, with a QR code of the SPA's verify link (``/verify/{ticketId}``).

The QR modules are drawn as vector squares from ``qrcode``'s matrix (no raster image), with the standard quiet
zone, so any phone scanner (or a decoder in the tests) reads it from the printed or rendered page. Both libraries
are imported lazily: only the PDF functions ship them (their ``requirements``).
"""
from __future__ import annotations

import io
from typing import Any

REQUIREMENTS = ("qrcode", "reportlab")
QR_SIZE_POINTS = 180


def verify_url(public_host: str, ticket_id: str) -> str:
    scheme = "http" if "localhost" in public_host or public_host.startswith("127.") else "https"
    return f"{scheme}://{public_host}/verify/{ticket_id}"


def render(tickets: list[dict[str, Any]], events: dict[str, dict[str, Any]], public_host: str) -> bytes:
    import qrcode
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle("EvenToNight tickets")
    width, height = A4
    for ticket in tickets:
        event = events.get(ticket["eventId"]) or {}
        y = height - 70
        page.setFont("Helvetica-Bold", 20)
        page.drawString(50, y, f"{event.get('title') or 'EvenToNight'} - Ticket")
        page.setFont("Helvetica", 12)
        lines = [("Ticket ID", ticket["_id"]), ("Type", ticket.get("type") or ""),
                 ("Attendee", ticket["attendeeName"]), ("Event", ticket["eventId"])]
        if event.get("date"):
            lines.append(("Event date", event["date"].replace("T", " ") + " UTC"))
        lines += [("Purchased on", ticket["purchaseDate"].strftime("%Y-%m-%d %H:%M UTC")),
                  ("Price", f"{ticket['price']['amount']:.2f} {ticket['price']['currency']}"),
                  ("Status", ticket["status"])]
        for label, value in lines:
            y -= 22
            page.drawString(50, y, f"{label}: {value}")
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
    from runtime.contract import Response

    from functions.ticketing import model

    ids = sorted({t["eventId"] for t in tickets})
    events = {e["_id"]: e for e in db[model.EVENTS].find({"_id": {"$in": ids}})}
    return Response(200, render(tickets, events, public_host),
                    {"Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{filename}"'})
