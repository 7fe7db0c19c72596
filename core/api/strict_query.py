"""Unknown query parameters are refused (422), not ignored: `?limt=5` should say so, not return 50 rows."""

from __future__ import annotations

from fastapi import Request

from core.api.errors import ApiProblem


async def reject_unknown_query_parameters(request: Request) -> None:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        takes = ", ".join(sorted(known)) or "none"
        raise ApiProblem(422, f"Unknown query parameter(s) {shown}; this operation takes: {takes}.")


def _query_names(dependant) -> set[str]:
    names, pending = set(), [dependant]
    while pending:  # the route's own parameters and those of its dependencies
        current = pending.pop()
        names.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    return names
