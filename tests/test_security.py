"""The attack surface, route by route: who may call what (an authorization matrix built from
every route the app has), CSRF on every state-changing form route, and security headers."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from consult.accounts import service as accounts
from tests.test_accounts import log_in

PASSWORD = "security-matrix-password"
ROLES = ("interviewer", "analyst", "admin")
SAMPLE_PARAMS = {"slug": "vasternorrland-2030", "token": "X" * 26, "receipt": "X" * 26}


def routes() -> list[APIRoute | Route]:
    """Every route of every domain router (the app itself keeps included routers nested),
    including the plain Starlette routes of the survey pages."""
    from consult.domains import domain_modules

    modules = domain_modules("routes") + domain_modules("api")
    return [r for m in modules for r in m.router.routes if isinstance(r, APIRoute | Route)]


def required_roles(route: APIRoute | Route) -> frozenset[str] | None:
    """The roles a route's require_role dependency allows; None for a public route (plain
    Starlette routes have no dependencies, so they are public by construction)."""
    if not isinstance(route, APIRoute):
        return None
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        roles = getattr(dependant.call, "consult_roles", None)
        if roles is not None:
            return roles
        pending.extend(dependant.dependencies)
    return None


def concrete_path(route: APIRoute) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return SAMPLE_PARAMS.get(name, "1")

    return re.sub(r"\{([^}]+)\}", fill, route.path)


@pytest.fixture(scope="module")
def callers(app, demo) -> dict[str, TestClient]:  # type: ignore[no-untyped-def]
    """One client per kind of caller, each with its own cookie jar."""
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    clients = {"anonymous": TestClient(app, base_url="http://testserver", follow_redirects=False)}
    with session_scope() as session:
        for role in ROLES:
            accounts.create_user(session, email=f"{role}-{suffix}@matrix.se", password=PASSWORD, role=role)
    for role in ROLES:
        accounts.reset_login_limits()
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        assert log_in(client, f"{role}-{suffix}@matrix.se", PASSWORD).status_code == 303
        clients[role] = client
    # A resident in the middle of a survey: a public caller holding a resume link's cookies.
    resident = TestClient(app, base_url="http://testserver", follow_redirects=False)
    start = resident.get("/s/vasternorrland-2030")
    token = re.search(r'name="csrftoken" value="([^"]+)"', start.text)
    if token:
        resident.post("/s/vasternorrland-2030/start", data={"csrftoken": token.group(1)})
    clients["resident"] = resident
    return clients


def staff_get_routes() -> list[tuple[APIRoute, frozenset[str]]]:
    found = []
    for route in routes():
        roles = required_roles(route)
        if roles is not None and "GET" in route.methods:
            found.append((route, roles))
    return found


def test_the_matrix_covers_staff_pages() -> None:
    paths = {route.path for route, _ in staff_get_routes()}
    assert len(paths) >= 5, paths
    assert "/admin/audit" in paths


def allowed(role: str, roles: frozenset[str]) -> bool:
    return role == "admin" or not roles or role in roles


def test_authorization_matrix(callers) -> None:  # type: ignore[no-untyped-def]
    """Every staff GET route against every kind of caller: anonymous and residents are sent to
    the login page (401 for JSON), a role the route does not list gets 403, and allowed roles
    are let through (anything but 401/403/5xx)."""
    failures = []
    for route, roles in staff_get_routes():
        path = concrete_path(route)
        for caller, client in callers.items():
            status = client.get(path).status_code
            if caller in ("anonymous", "resident"):
                ok = status in (303, 307, 401, 204)
            elif allowed(caller, roles):
                # A route about one object may still refuse an object that is not the caller's.
                object_level = "{" in route.path
                ok = status != 401 and status < 500 and (object_level or status != 403)
            else:
                ok = status == 403
            if not ok:
                failures.append(f"{caller:<11} GET {path} -> {status} (roles {sorted(roles) or 'any staff'})")
    assert not failures, "\n".join(failures)


def test_public_routes_never_fail_for_any_caller(callers) -> None:  # type: ignore[no-untyped-def]
    failures = []
    for route in routes():
        if required_roles(route) is not None or "GET" not in route.methods:
            continue
        path = concrete_path(route)
        for caller, client in callers.items():
            status = client.get(path).status_code
            if status >= 500 or status in (401,):
                failures.append(f"{caller} GET {path} -> {status}")
    assert not failures, "\n".join(failures)


def state_changing_form_routes() -> list[tuple[str, str]]:
    found = []
    for route in routes():
        if route.path.startswith("/api/"):
            continue
        for method in route.methods - {"GET", "HEAD", "OPTIONS"}:
            found.append((method, concrete_path(route)))
    return found


def test_every_state_changing_route_refuses_a_missing_csrf_token(callers) -> None:  # type: ignore[no-untyped-def]
    found = state_changing_form_routes()
    assert len(found) >= 5
    failures = []
    for method, path in found:
        for caller in ("anonymous", "admin"):
            client = callers[caller]
            response = client.request(method, path, data={"anything": "1"})
            if response.status_code != 403:
                failures.append(f"{caller} {method} {path} without token -> {response.status_code}")
            forged = client.request(method, path, data={"csrftoken": "forged.token"})
            if forged.status_code != 403:
                failures.append(f"{caller} {method} {path} with a forged token -> {forged.status_code}")
    assert not failures, "\n".join(failures)


def test_security_headers_on_every_kind_of_page(callers) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/s/vasternorrland-2030", "/login", "/api/surveys", "/finns-inte"):
        headers = callers["anonymous"].get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_tokens_are_at_least_128_bits() -> None:
    from consult.responses.service import new_token

    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) >= 26 and re.fullmatch(r"[A-Z2-7]+", t) for t in tokens)  # 26 base32 chars = 130 bits


def test_cookies_and_forms_that_are_not_utf8_get_an_answer_not_a_crash(app, demo) -> None:  # type: ignore[no-untyped-def]
    """A stray cookie of another site on the same domain, or a hand-made POST, may carry bytes that are
    not UTF-8: the CSRF layer must read past them (a page, or a refused form), never fail with a 500."""
    client = TestClient(app, base_url="http://testserver", follow_redirects=False, raise_server_exceptions=True)
    page = client.get("/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    cookie = f"csrftoken={client.cookies['csrftoken']}".encode()
    stray = b"tracker=\xff\xfe; " + cookie

    assert client.get("/s/vasternorrland-2030", headers={"cookie": stray}).status_code == 200
    form = {"content-type": "application/x-www-form-urlencoded"}
    # The token is still found beside the stray cookie: the form reaches the login check (wrong password).
    accounts.reset_login_limits()
    answered = client.post("/login", content=f"csrftoken={token}&email=x%40y.se&password=fel&next=".encode(),
                           headers={**form, "cookie": stray})
    assert answered.status_code == 422 and "csrftoken" in answered.text
    # A body that is not UTF-8 cannot carry the right token: refused with the form-expired page.
    refused = client.post("/login", content=b"csrftoken=\xff\xfe&email=\xe5", headers={**form, "cookie": cookie})
    assert refused.status_code == 403 and "<h1>Formuläret har gått ut</h1>" in refused.text
    # Nor can a token header that is not ASCII.
    header = client.post("/login", content=b"email=a", headers={**form, "cookie": cookie, "x-csrftoken": b"\xe5\xe4"})
    assert header.status_code == 403
    # A percent-encoded non-ASCII token is no token either.
    encoded = client.post("/login", content=b"csrftoken=%C3%A5&email=a", headers={**form, "cookie": cookie})
    assert encoded.status_code == 403


def test_the_csrf_layer_reads_the_token_field_as_a_form_parser_would() -> None:
    """The CSRF layer parses a form once for itself and the page (or, for a body of too many
    fields, decodes only the token field). Whatever the body, both readings must find the token the
    standard parser finds (the last non-empty value, names and values percent-decoded; text that is
    not ASCII is never a token), or a form would be refused or let through wrongly."""
    import random
    from urllib.parse import parse_qsl

    from consult.core.csrf_input import token_field
    from consult.core.formdata import last_filled, parse_urlencoded

    def parsed_once(body: bytes) -> str:
        fields = parse_urlencoded(body)
        assert fields is not None
        return last_filled(fields, "csrftoken")

    def as_accepted(token: str) -> str:
        return token if token.isascii() else "(not a token)"

    for reader in (token_field, parsed_once):
        assert reader(b"a=1&csrftoken=abc&b=2") == "abc"
        assert reader(b"csrf%74oken=abc") == "abc"  # an escaped name is the same name
        assert reader(b"csrftoken=abc&csrftoken=def") == "def"
        assert reader(b"csrftoken=abc&csrftoken=") == "abc"
        assert reader(b"csrftoken=&csrftoken") == ""
    assert parse_urlencoded(b"&".join([b"a=1"] * 1001)) is None  # left to token_field
    pieces = ["a", "b=", "=", "&", "%", "%2", "%26", "+", "csrftoken", "csrf%74oken", "\u00e5", "\xff", "é"]
    rng = random.Random(7)
    for _ in range(20_000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10))).encode("latin-1", errors="replace")
        expected = as_accepted(dict(parse_qsl(body.decode("utf-8", errors="replace"))).get("csrftoken", ""))
        assert as_accepted(token_field(body)) == expected, body
        assert as_accepted(parsed_once(body)) == expected, body


def asgi_status(app, method: str, path: str, query: bytes = b"", headers: list | None = None,  # type: ignore[no-untyped-def]
                body: bytes = b"") -> int:
    """The status the app answers a request with, the request given as raw ASGI (so it can carry
    bytes no HTTP client library would send); an exception escaping the app fails the test."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": query,
             "headers": [(b"host", b"testserver"), *(headers or [])], "scheme": "http", "server": ("testserver", 80),
             "client": ("127.0.0.1", 1), "http_version": "1.1", "root_path": "", "state": {}}
    started: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return started[0]["status"]


def test_raw_bytes_in_the_query_or_an_overlong_multipart_boundary_get_an_answer_not_a_crash(app, demo) -> None:  # type: ignore[no-untyped-def]
    """A hand-made request line may carry bytes outside ASCII in the query string: Starlette builds the
    request's URL as UTF-8, so they used to break every page, the error pages included."""
    assert asgi_status(app, "GET", "/s/vasternorrland-2030", b"k=\xff\xfe&lang=en") == 200
    assert asgi_status(app, "GET", "/api/surveys", b"lang=\xff") in (200, 422)
    assert asgi_status(app, "GET", "/api/surveys/vasternorrland-2030", b"lang=\xe5") == 422
    overlong = [(b"content-type", b"multipart/form-data; boundary=" + b"a" * 5000), (b"cookie", b"csrftoken=x")]
    assert asgi_status(app, "POST", "/login", headers=overlong, body=b"--" + b"a" * 5000 + b"\r\n") == 403


# Filter and paging names the staff pages read from request.query_params themselves.
READ_BY_HAND = ("kommun", "kon", "alder", "kanal", "kampanj", "fran", "till", "viktat", "publicera", "rad",
                "kolumn", "fraga", "q", "sok", "sida", "status", "tema", "prioritet", "cykel", "enkat")
# "²" and "٣" are digits to str.isdigit but not to int() (or not ASCII): a number check must refuse them.
GARBAGE = ("-1", "99999999999999999999999", "2025-02-30", "'\"<svg onload=x>", "\u00e5\u00e4\u00f6\ufffd", "", "NaN",
           "\u00b2", "\u0663", "--5")


def test_staff_pages_never_fail_on_garbage_in_the_query(callers) -> None:  # type: ignore[no-untyped-def]
    """Every staff GET page, as an admin, with every query parameter it declares (and the filters read
    by hand) set to values no form would send: an error message or a fallback, never a 500."""
    client = callers["admin"]
    failures = []
    for route, _roles in staff_get_routes():
        declared = [p.alias for p in route.dependant.query_params] if isinstance(route, APIRoute) else []
        names = [*declared, *READ_BY_HAND]
        for value in GARBAGE:
            status = client.get(concrete_path(route), params={name: value for name in names}).status_code
            if status >= 500:
                failures.append(f"GET {concrete_path(route)} with {value!r} -> {status}")
    assert not failures, "\n".join(failures)


def test_digits_that_are_not_numbers_get_a_clear_error_not_a_crash(client) -> None:  # type: ignore[no-untyped-def]
    """A superscript two or an Arabic-Indic three passes str.isdigit; as a choice code through the API
    it must be refused with a 422 naming the field, and nothing stored."""
    from tests.factories import every_type_survey, store
    from tests.test_api import VALID, post

    survey = store(every_type_survey())
    for value in ("\u00b2", "\u0663", "--5"):
        response = post(client, survey.slug, {**VALID, "val": value})
        assert response.status_code == 422, (value, response.text[:200])
        assert "val" in response.text


def test_a_csrf_cookie_checked_once_is_still_refused_when_altered(app, demo) -> None:  # type: ignore[no-untyped-def]
    """The CSRF layer remembers the cookies it has found genuine (consult.core.signing): a cookie
    whose signature was altered must be refused every time, also right after the genuine one passed."""
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    genuine = client.cookies["csrftoken"]
    form = {"content-type": "application/x-www-form-urlencoded"}
    body = "csrftoken={}&email=x%40y.se&password=fel&next="
    for _ in range(2):
        accounts.reset_login_limits()
        passed = client.post("/login", content=body.format(token), headers={**form, "cookie": f"csrftoken={genuine}"})
        assert passed.status_code == 422  # past the CSRF layer, to the wrong password
    altered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    for _ in range(2):
        headers = {**form, "cookie": f"csrftoken={altered}"}
        refused = client.post("/login", content=body.format(altered), headers=headers)
        assert refused.status_code == 403


def test_the_remembering_serializer_signs_and_checks_as_itsdangerous_does() -> None:
    from itsdangerous import BadSignature, URLSafeSerializer

    from consult.core.signing import RememberingSerializer

    plain, remembering = URLSafeSerializer("secret"), RememberingSerializer("secret")
    signed = plain.dumps("abc", "csrftoken")
    assert remembering.dumps("abc", "csrftoken") == signed
    assert remembering.loads(signed, "csrftoken") == remembering.loads(signed, "csrftoken") == "abc"
    for wrong in (signed + "x", signed.replace(".", ",", 1)):
        with pytest.raises(BadSignature):
            remembering.loads(wrong, "csrftoken")
    with pytest.raises(BadSignature):  # the namespace is part of the signature
        remembering.loads(signed, "another")
    with pytest.raises(BadSignature):  # and so is the secret
        RememberingSerializer("other secret").loads(signed, "csrftoken")
    # Values are not compressed (too small to gain), but compressed ones made before still load.
    answered = {str(survey): "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for survey in range(20)}
    compressed = plain.dumps(answered)
    assert compressed.startswith(".")
    assert remembering.loads(compressed) == answered == plain.loads(remembering.dumps(answered))
