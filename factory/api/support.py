"""``/api/support``: the report URL that ends a chaos drill."""

from __future__ import annotations

from flask import Response, jsonify

from factory import drills
from factory.api import Blueprint, db_session

blp = Blueprint("support", __name__, url_prefix="/api/support", description="Drill support")


@blp.route("/<token>/report/<fix_code>", methods=["GET"])
@blp.endpoint(
    example="curl $FACTORY/api/support/DRILL_TOKEN/report/FIX_CODE",
    response={"message": drills.RESOLVED_MESSAGE},
)
def report(token: str, fix_code: str) -> tuple[Response, int]:
    """End the running drill this URL belongs to; the vendor's next order succeeds."""
    resolution = drills.resolve(db_session(), token, fix_code)
    return jsonify({"message": resolution.message}), resolution.status
