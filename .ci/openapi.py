#!/usr/bin/env python3
"""Regenerates static/openapi.json from the API routes in src/web/api/mod.rs.

Run it after adding an API route: python3 .ci/openapi.py (a test checks every route is documented).
"""
import json
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "src/web/api/mod.rs").read_text()
block = " ".join(src[src.index("Router::new()"):src.index(".fallback(")].split()).replace("( ", "(").replace(", )", ")")

FIELDS = {
    "organisations": ({"name": "string", "kind": "string"}, ["name"]),
    "schools": ({"name": "string", "urn": "integer", "local_authority": "string", "district": "string", "phase": "string",
                 "postcode": "string", "town": "string", "pupils": "integer", "fsm_percent": "number"}, ["name"]),
    "venues": ({"name": "string", "kind": "string", "postcode": "string", "capacity": "integer"}, ["name"]),
    "programmes": ({"title": "string", "year": "integer", "organisation_id": "integer", "priority_id": "integer", "theme": "string",
                    "starts_on": "string", "ends_on": "string", "target_schools": "integer", "target_audience": "integer",
                    "target_events": "integer", "status": "string"}, ["title", "year"]),
    "users": ({"email": "string", "name": "string", "role": "string", "school_id": "integer", "organisation_id": "integer",
               "password": "string"}, ["email", "role"]),
    "priorities": ({"title": "string", "aims": "string"}, ["title"]),
    "targets": ({"measure": "string", "value": "integer", "description": "string"}, ["measure", "value"]),
    "tokens": ({"label": "string", "expires_in_days": "integer"}, []),
    "events": ({"kind": "string", "starts_at": "string", "ends_at": "string", "school_id": "integer", "venue_id": "integer",
                "capacity": "integer", "needs_approval": "boolean", "status": "string", "title": "string"}, ["kind", "starts_at", "ends_at"]),
    "feedback": ({"programme_id": "integer", "event_id": "integer", "school_id": "integer", "role": "string", "quote": "string",
                  "rating": "integer", "consent": "boolean"}, ["programme_id", "role", "quote", "consent"]),
    "moderate": ({"moderation": "string", "featured": "boolean"}, []),
    "outcomes": ({"text": "string"}, ["text"]),
    "slots": ({"day": "string", "session": "string"}, ["day", "session"]),
    "bulk": ({"from": "string", "to": "string", "morning": "boolean", "afternoon": "boolean"}, ["from", "to"]),
    "bookings": ({"school_id": "integer", "pupils": "integer", "staff": "integer", "year_groups": "string", "notes": "string",
                  "access_needs": "string"}, ["pupils"]),
    "confirm": ({"message": "string"}, []),
    "decline": ({"message": "string"}, []),
}
MODULES = {"a": "accounts", "b": "bookings", "v": "delivery", "d": "directory", "f": "feedback", "r": "records"}
ACTIONS = ("archive", "restore", "revoke", "complete", "cancel", "moderate", "confirm", "decline", "regenerate")


def body_for(path):
    last = [s for s in path.split("/") if s and not s.startswith("{")][-1]
    if "import" in path:
        return {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    if last == "attendance":
        row = {"type": "object", "additionalProperties": False, "properties": {k: {"type": [t, "null"]} for k, t in (("school_id", "integer"), ("group", "string"),
               ("pupils", "integer"), ("staff", "integer"), ("other", "integer"))}}
        return {"required": True, "content": {"application/json": {"schema": {"type": "array", "items": row}}}}
    if last in FIELDS:
        props, req = FIELDS[last]
        schema = {"type": "object", "required": req, "additionalProperties": False,
                  "properties": {k: {"type": [v, "null"]} if k not in req else {"type": v} for k, v in props.items()}}
        if last == "moderate":
            schema["minProperties"] = 1
        # A body whose every field may be left out may itself be left out.
        return {"required": bool(req) or last == "moderate", "content": {"application/json": {"schema": schema}}}
    return None


# The query parameters each route reads, from QUERY_PARAMS in src/web/api/mod.rs (the
# server refuses any other).
table = src[src.index("pub const QUERY_PARAMS"):src.index("];", src.index("pub const QUERY_PARAMS"))]
lists = {"LIST": ["page", "per_page", "q", "archived"]}
query_params = {}
for m in re.finditer(r'\(\s*"([^"]+)",\s*(LIST|&\[[^\]]*\])', table):
    names = lists["LIST"] if m.group(2) == "LIST" else re.findall(r'"(\w+)"', m.group(2))
    query_params[m.group(1)] = names
QUERY_SCHEMAS = {
    "page": {"type": "integer", "minimum": 1, "maximum": 1000000},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
    "q": {"type": "string", "maxLength": 100},
    "archived": {"type": "boolean"},
    "programme_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    "school_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    "event_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    "from": {"type": "string", "format": "date"},
    "to": {"type": "string", "format": "date"},
    "include_closed": {"type": "boolean"},
    "kind": {"type": "string", "enum": ["performance", "workshop", "live_stream"]},
    "status": {"type": "string", "enum": ["requested", "confirmed", "declined", "waitlisted", "cancelled"]},
    ("/events", "status"): {"type": "string", "enum": ["draft", "open", "confirmed", "completed", "cancelled"]},
    "filter": {"type": "string", "enum": ["all", "published", "featured"]},
    "moderation": {"type": "string", "enum": ["pending", "approved", "rejected"]},
}

paths = {}
for m in re.finditer(r'\.route\("([^"]+)", (.*?)\)(?= \.route|$)', block):
    path, handlers = m.group(1), m.group(2)
    full = "/api/v1" + path
    ops = {}
    for meth, handler in re.findall(r"(get|post|put)\(([\w:<>]+)\)", handlers):
        if "::<" in handler:
            # A handler written once for every record: create::<Schools> -> create_school.
            op, kind = handler.split("::<")
            name = op.split("::")[-1] + "_" + kind.rstrip(">").lower().removesuffix("s")
        else:
            name = handler.split("::")[-1]
            module = MODULES.get(handler.split("::")[0], "")
            if name in ("list", "get", "create", "csv", "search", "moderate", "summary", "confirm", "decline", "cancel", "me"):
                # Short names repeat across modules: bookings::list -> list_bookings.
                name = f"{name}_{module}" if module else name
        op = {"operationId": name, "summary": name.replace("_", " "), "responses": {}}
        params = [{"name": p, "in": "path", "required": True,
                   "schema": {"type": "string", "enum": ["impact.xlsx", "schools.csv", "events.csv", "attendance.csv", "feedback.csv"]} if p == "file"
                   else {"type": "string", "enum": ["schools", "programmes"]} if p == "kind"
                   else {"type": "integer", "minimum": 1900, "maximum": 2999} if p == "year"
                   else {"type": "integer", "minimum": 1, "maximum": 2147483647}}
                  for p in re.findall(r"\{(\w+)\}", path)]
        if meth == "get":
            params += [{"name": n, "in": "query", "schema": QUERY_SCHEMAS.get((path, n)) or QUERY_SCHEMAS[n]}
                       for n in query_params.get(path, [])]
        if params:
            op["parameters"] = params
        if meth in ("post", "put") and body_for(full):
            op["requestBody"] = body_for(full)
        created = meth == "post" and not full.endswith(ACTIONS) and "import" not in full
        if full.endswith(".csv"):
            media = {"text/csv": {"schema": {"type": "string"}}}
        elif ".xlsx" in full or "{file}" in full:
            media = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}, "text/csv": {}}
        else:
            media = {"application/json": {}}
        op["responses"]["201" if created else "200"] = {"description": "success", "content": media}
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for code, desc in (("400", "a path value or body that cannot be read"), ("401", "missing or wrong token"),
                           ("403", "role may not"), ("404", "unknown id"), ("409", "refused by a rule, with the reason"),
                           ("422", "invalid fields or parameters, each named")):
            op["responses"][code] = {"description": desc, **error}
        op["responses"]["default"] = {"description": "any other refusal (413 too large, 429 too many, 503 busy)", **error}
        if path == "/openapi.json":
            op["security"] = []
            op["responses"] = {"200": {"description": "this document"}}
        ops[meth] = op
    paths[full] = ops

seen = {}
for full, ops in paths.items():
    for meth, op in ops.items():
        other = seen.setdefault(op["operationId"], (meth, full))
        assert other == (meth, full), f"operationId {op['operationId']} of {meth} {full} is also {other}"

doc = {
    "openapi": "3.1.0",
    "info": {"title": "Outreach API", "version": "1",
             "description": "Bookings, attendance and impact reporting for theatre in education. Authenticate with "
                            "'Authorization: Bearer <token>' (outreach token create --email E). Lists return "
                            "{items, page, per_page, total} and take ?page=&per_page=&q=."},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
    },
    "paths": paths,
}
(root / "static/openapi.json").write_text(json.dumps(doc, indent=1) + "\n")
print(f"{len(paths)} paths")
