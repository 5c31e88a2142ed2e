"""The runtime every function ships: what a function may use, and nothing else.

A function module imports from here only (``from runtime import function, http, Response, NotFound``); what it
needs at run time comes through ``ctx`` (``runtime.context.Context``). The submodules are the platform's own:
the pipeline (``invoke``), the adapters, the ledger, the store and outbox, the broker client, the registry.
docs/architecture.md describes this surface and the error catalogue.
"""
from .adapters import entry_points
from .auth import Principal
from .config import Config, Secret
from .context import Context
from .contract import ACCEPTED, UPLOAD_MAX_BODY_BYTES, Index, Response, every, function, http, index, on_event
from .dates import iso, stored_date
from .errors import (
                     CATALOGUE,
                     BadRequest,
                     Conflict,
                     Forbidden,
                     FunctionError,
                     InternalError,
                     InvalidInput,
                     NotFound,
                     PayloadTooLarge,
                     TooManyRequests,
                     Unauthorized,
                     Unavailable,
)
from .forms import Part, parse_multipart
from .health import health
from .mirror import Mirror
from .ordering import sequence_of, stamp
from .outbox import relay
from .storage import (
                     MAX_IMAGE_BYTES,
                     MediaStorage,
                     StoredObject,
                     avatar_key,
                     check_image,
                     poster_key,
                     storage_from_config,
)
from .store import Emit
from .validation import Strict, parse, query_int, query_offset

__all__ = [
    # declaring a function and its entry points
    "function", "http", "on_event", "every", "index", "Index", "entry_points", "UPLOAD_MAX_BODY_BYTES",
    # what main returns and emits
    "Response", "ACCEPTED", "Emit", "stamp",
    # what main reads
    "Context", "Principal", "Config", "Secret", "Strict", "parse", "query_int", "query_offset", "Part", "parse_multipart",
    "sequence_of",
    # shared parts of groups
    "Mirror", "MediaStorage", "StoredObject", "storage_from_config", "check_image", "MAX_IMAGE_BYTES", "avatar_key",
    "poster_key", "stored_date", "iso",
    "relay", "health",
    # the error catalogue and its families
    "CATALOGUE", "FunctionError", "BadRequest", "InvalidInput", "Unauthorized", "Forbidden", "NotFound", "Conflict",
    "PayloadTooLarge", "TooManyRequests", "Unavailable", "InternalError",
]
