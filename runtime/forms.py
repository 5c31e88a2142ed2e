"""``multipart/form-data`` bodies (the SPA creates events as an ``event`` JSON part plus an optional file)."""
from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass

from .errors import BadRequest

MAX_PARTS = 16


@dataclass(frozen=True)
class Part:
    name: str
    content_type: str
    filename: str | None
    data: bytes


def parse_multipart(content_type: str, body: bytes) -> dict[str, Part]:
    """Parts by field name; a malformed body, a repeated field or more than ``MAX_PARTS`` parts is a 400, the last
    found by counting delimiters before anything is parsed (a body of many tiny parts costs no parsing)."""
    if "boundary=" not in content_type:
        raise BadRequest("multipart/form-data needs a boundary.", code="invalid_multipart")
    boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
    if not boundary or body.count(b"--" + boundary.encode("latin-1")) > MAX_PARTS + 1:
        raise BadRequest(f"A form has at most {MAX_PARTS} parts.", code="invalid_multipart")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise BadRequest("The multipart body could not be read.", code="invalid_multipart")
    parts: dict[str, Part] = {}
    for item in message.iter_parts():
        name = item.get_param("name", header="content-disposition")
        if not name:
            raise BadRequest("Every multipart part needs a name.", code="invalid_multipart")
        if name in parts or len(parts) >= MAX_PARTS:
            raise BadRequest(f"The part {name!r} is repeated or there are too many parts.", code="invalid_multipart")
        parts[name] = Part(name, item.get_content_type(), item.get_filename(), item.get_payload(decode=True) or b"")
    return parts
