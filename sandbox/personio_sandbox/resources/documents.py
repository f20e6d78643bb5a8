"""v1 document categories (§3.11)."""
from __future__ import annotations

from ..context import Ctx


def document_category(d: dict) -> dict:
    return {"id": d["id"], "type": "DocumentCategory", "attributes": {"name": d["name"]}}


def h_v1_document_categories(ctx: Ctx):
    return 200, {"success": True, "data": [document_category(d) for d in ctx.company.document_categories]}
