"""What an address may carry: bounded record ids in the path, no NUL in the query string.

Every ``<int:...>`` route parameter is a record id or a version number.

Flask's own ``int`` converter accepts any run of digits (Unicode ones too, since its pattern is
``\\d+``), so ``/tasks/99999999999999999999`` reached the database and failed there with a
server error (SQLite cannot bind it, PostgreSQL's ``integer`` cannot hold it). This converter
replaces it for the whole application, so a route added later is covered too: one to ten ASCII
digits naming a number from 1 to 2,147,483,647 (:data:`workflow.normalise.MAX_RECORD_ID`);
anything else is not a route, so the address answers 404.

A query string (filters, searches, page numbers) is no form with an error summary: one carrying
a NUL character, which PostgreSQL cannot compare with any text, is answered with the 400 page.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from workflow.normalise import MAX_RECORD_ID


class RecordIdConverter(IntegerConverter):
    regex = r"[0-9]{1,10}"

    def __init__(
        self,
        url_map,
        fixed_digits: int = 0,
        min: int | None = 1,
        max: int | None = MAX_RECORD_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered: rules take their converter when added."""
    app.url_map.converters["int"] = RecordIdConverter

    @app.before_request
    def no_nul_in_the_query_string():
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            abort(400)
