"""``screening serve``: the HTTP API for the case systems municipalities run, and the web interview for caseworkers.

May import: the library façades (``api``, ``accounts``, ``assessment``, ``fhir``,
``validate``), ``interview`` (the session, not the terminal), ``store``,
``report``, ``batch``, ``content``, ``engine``, ``errors`` / fastapi, starlette,
uvicorn (only to serve), the stdlib.
Must not import: ``cli`` (``cli`` imports this package in ``screening serve`` only, the layer above).

It parses, authorises, calls the same functions the CLI calls and renders; no
domain logic of its own. Every request is authorised against ``accounts.PERMISSIONS``
and the case's team, and every access to a case — allowed or refused — is an
"access" record in the store's tamper-evident audit trail, in addition to the
store's own records of what was read or written (named after the signed-in account).

Modules: ``_app`` (the app, its middleware and routers), ``_config`` (the settings
of one server), ``_problems`` (RFC 9457 problem details), ``_limits`` (body size
and security headers), ``_auth`` (sign-in: sessions, tokens, the trusted header,
CSRF, the login rate limit), ``_access`` (authorisation and the access log),
``_stores`` (one store connection per worker thread), ``_content`` (instruments
and rule sets, loaded once), ``_models`` (request bodies), ``_stateless``
(instruments, scoring, validation, reports), ``_cases`` (the case endpoints),
``_audit_routes`` (the auditor's access log), ``_rescore_routes`` (a team lead's dry-run re-score),
``_web`` (the web interview's frame: pages, sign-in, case list, quick exit), ``_webtexts``
(its words in Swedish and English), ``_webforms`` (fields shown and read), ``_webflow``
(facts and questions), ``_webgroup`` (repeating groups by row), ``_webend`` (summary,
judgement, completion, result, reports).
"""

import typing

from .._lazy import exports as _exports

if typing.TYPE_CHECKING:
    from ._app import create_app
    from ._config import ServerConfig

__all__ = ["ServerConfig", "create_app"]

__getattr__, __dir__ = _exports(
    __name__, {"create_app": ("._app", "create_app"), "ServerConfig": ("._config", "ServerConfig")}
)
