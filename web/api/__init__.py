"""The JSON API at ``/api/v1`` for the utility's other systems, described by OpenAPI 3.1.

Built with flask-smorest: its resources are plain Flask blueprints registered by the same app
factory as the pages, and its OpenAPI document is generated from the marshmallow schemas the
views validate with (APIFlask would replace the Flask class itself; spectree wants pydantic,
which nothing else here uses). The document is at ``/api/v1/openapi.json``, a reading page
(Swagger UI from npm, served from this server) at ``/api/v1/docs``.

Resource groups and their token scopes (``engine.api_access.SCOPES``):

- ``portal`` (:mod:`web.api.portal`): the start link, an application's status and timeline,
  its invoice PDF, starting an application (idempotent);
- ``billing`` (:mod:`web.api.billing`): posted readings and invoices as a feed with a cursor,
  one subscriber's reading history;
- ``staff`` (:mod:`web.api.staff`): the unit's queue, claim and release;
- ``studio`` (:mod:`web.api.studio`): versions, validating a diagram.

Every refusal is a problem document (:mod:`web.api.problems`); the same policy as the pages
decides (``engine.policy``), with the token's scopes.
"""

from __future__ import annotations

import http

from flask import Blueprint, Flask, render_template
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from web import errors
from web.api import billing, portal, staff, studio
from web.api.problems import MEDIA_TYPE, TITLES, from_http_exception, problem
from web.route_policy import declare_public, public

PREFIX = "/api/v1"


class FieldError(Schema):
    field = fields.String(required=True)
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldError))


class SaygacApi(Api):
    """flask-smorest's Api whose errors are problem documents, answered for the API's own
    addresses only (``web.errors.answer_as_json``); the site's pages keep their translated error
    pages."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["content"] = {MEDIA_TYPE: {"schema": ProblemSchema}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR",
            {
                "description": "A problem document (RFC 9457)",
                "content": {MEDIA_TYPE: {"schema": ProblemSchema}},
            },
            lazy=True,
        )


pages = Blueprint("api_pages", __name__, template_folder="templates")


@pages.get(PREFIX + "/docs")
@public
def api_docs():
    """The API's reference (Swagger UI over the OpenAPI document), readable without a token."""
    return render_template("api/docs.html")


def _problem(status: int, err: HTTPException | None):
    if err is not None:
        return from_http_exception(err)
    return problem(status, TITLES.get(status, "Error"))


def init_app(app: Flask, csrf) -> None:
    app.config.update(
        API_TITLE="saygac",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Meter readings, applications and invoices of the water utility's "
                "e-service. Authenticate with `Authorization: Bearer <token>`."
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    api = SaygacApi(app)
    for module in (portal, billing, staff, studio):
        csrf.exempt(module.blp)  # bearer tokens only: no cookie, nothing to forge
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    app.register_blueprint(pages)
    declare_public(
        app, "api-docs.openapi_json"
    )  # the document describes the API; calling it needs a token
    for endpoint in app.view_functions:
        if endpoint.startswith("api-docs."):
            declare_public(app, endpoint)  # the OpenAPI document, readable without a token
    errors.answer_as_json(app, PREFIX, _problem)
    app.extensions["saygac.api"] = api
