"""The Keycloak admin REST API under ``/admin/realms/{realm}`` that the users functions call.

Users (create, query, read, update, delete, reset-password, logout), realm roles and realm role mappings, for a
bearer holding realm-management ``manage-users`` (a ``client_credentials`` token of a client configured with
``manage_users``). Errors in Keycloak's shapes and statuses: duplicates are checked before the password policy,
as Keycloak does, because the users functions tell the two apart.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .accounts import attributes_of, hash_password, password_policy_violation
from .errors import AdminError
from .realm import DEFAULT_ROLES
from .tokens import Tokens


class AdminApi(Tokens):
    """Request handlers for the admin API; each checks the realm and the caller's ``manage-users`` role first."""

    def _admin_routes(self) -> list[Route]:
        admin = "/admin/realms/{realm}"
        return [
            Route(f"{admin}/users", self.create_user, methods=["POST"]),
            Route(f"{admin}/users", self.query_users, methods=["GET"]),
            Route(f"{admin}/users/{{id}}", self.get_user, methods=["GET"]),
            Route(f"{admin}/users/{{id}}", self.update_user, methods=["PUT"]),
            Route(f"{admin}/users/{{id}}", self.delete_user, methods=["DELETE"]),
            Route(f"{admin}/users/{{id}}/role-mappings/realm", self.role_mappings, methods=["GET", "POST", "DELETE"]),
            Route(f"{admin}/users/{{id}}/reset-password", self.reset_password, methods=["PUT"]),
            Route(f"{admin}/users/{{id}}/logout", self.logout_user, methods=["POST"]),
            Route(f"{admin}/roles/{{role}}", self.get_role, methods=["GET"]),
        ]

    def _admin(self, request: Request) -> None:
        self._check_realm(request)
        claims = self._verify_access(request)
        roles = (claims.get("resource_access") or {}).get("realm-management", {}).get("roles", [])
        if "manage-users" not in roles:
            raise AdminError(403, {"error": "HTTP 403 Forbidden"})

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            raise AdminError(400, {"errorMessage": "Invalid JSON"}) from None

    async def create_user(self, request: Request) -> Response:
        self._admin(request)
        rep = await self._json(request)
        if not isinstance(rep, dict):
            raise AdminError(400, {"errorMessage": "Invalid user representation"})
        username = str(rep.get("username") or "").strip()
        if not username:
            raise AdminError(400, {"field": "username", "errorMessage": "error-user-attribute-required",
                                   "params": ["username"]})
        password = None
        for credential in rep.get("credentials") or []:
            if isinstance(credential, dict) and credential.get("type", "password") == "password":
                password = str(credential.get("value") or "")
        with self._lock:
            self._check_unique(username, rep.get("email"))  # Keycloak checks duplicates before the policy
            user = self.add_user(username, rep.get("email"), password, attributes=rep.get("attributes"),
                                 enabled=bool(rep.get("enabled", False)))
            user.email_verified = bool(rep.get("emailVerified", False))
            user.first_name, user.last_name = rep.get("firstName"), rep.get("lastName")
        location = f"{self.base_url}/admin/realms/{self.realm}/users/{user.id}"
        return Response(status_code=201, headers={"Location": location})

    async def query_users(self, request: Request) -> Response:
        self._admin(request)
        q = request.query_params
        exact = q.get("exact", "false").lower() == "true"

        def matches(value: str | None, wanted: str | None) -> bool:
            if wanted is None:
                return True
            if value is None:
                return False
            return value == wanted.lower() if exact else wanted.lower() in value

        attribute_query = dict(part.split(":", 1) for part in q.get("q", "").split() if ":" in part)
        search = q.get("search")
        with self._lock:
            found = [u for u in sorted(self.users.values(), key=lambda u: u.username)
                     if matches(u.username, q.get("username")) and matches(u.email, q.get("email"))
                     and all(v in u.attributes.get(k, []) for k, v in attribute_query.items())
                     and (search is None or search.lower().strip("*") in u.username
                          or search.lower().strip("*") in (u.email or ""))]
            first, maximum = int(q.get("first", 0)), int(q.get("max", 100))
            return JSONResponse([u.representation() for u in found[first:first + maximum]])

    async def get_user(self, request: Request) -> Response:
        self._admin(request)
        with self._lock:
            return JSONResponse(self._user(request.path_params["id"]).representation())

    async def update_user(self, request: Request) -> Response:
        self._admin(request)
        rep = await self._json(request)
        if not isinstance(rep, dict):
            raise AdminError(400, {"errorMessage": "Invalid user representation"})
        with self._lock:
            user = self._user(request.path_params["id"])
            self._check_unique(rep.get("username"), rep.get("email"), except_id=user.id)
            if rep.get("username"):
                user.username = str(rep["username"]).lower()
            if "email" in rep:
                user.email = str(rep["email"]).lower() if rep["email"] else None
            for key, attr in (("enabled", "enabled"), ("emailVerified", "email_verified"),
                              ("firstName", "first_name"), ("lastName", "last_name")):
                if key in rep:
                    setattr(user, attr, rep[key])
            if "attributes" in rep:
                user.attributes.update(attributes_of(rep["attributes"]))
            if not user.enabled:
                self.revoke_user_sessions(user.id)
        return Response(status_code=204)

    async def delete_user(self, request: Request) -> Response:
        self._admin(request)
        with self._lock:
            user = self._user(request.path_params["id"])
            self.revoke_user_sessions(user.id)
            del self.users[user.id]
        return Response(status_code=204)

    async def get_role(self, request: Request) -> Response:
        self._admin(request)
        name = request.path_params["role"]
        if name not in self.roles:
            raise AdminError(404, {"error": "Could not find role"})
        return JSONResponse({"id": self.roles[name], "name": name, "composite": name.startswith("default-roles-"),
                             "clientRole": False, "containerId": self.realm})

    async def role_mappings(self, request: Request) -> Response:
        self._admin(request)
        reps = await self._json(request) if request.method != "GET" else []
        if not isinstance(reps, list):
            raise AdminError(400, {"errorMessage": "Invalid role representations"})
        with self._lock:
            user = self._user(request.path_params["id"])
            if request.method == "GET":
                return JSONResponse([{"id": self.roles[r], "name": r, "composite": False, "clientRole": False,
                                      "containerId": self.realm} for r in sorted(user.roles)])
            names = []
            for rep in reps:
                name = rep.get("name") if isinstance(rep, dict) else None
                if name not in self.roles or (rep.get("id") and rep["id"] != self.roles[name]):
                    raise AdminError(404, {"error": "Role not found"})
                names.append(name)
            if request.method == "DELETE":
                user.roles.difference_update(names)
            else:
                implicit = {*DEFAULT_ROLES, f"default-roles-{self.realm}"}  # in every token already
                user.roles.update(n for n in names if n not in implicit)
        return Response(status_code=204)

    async def reset_password(self, request: Request) -> Response:
        self._admin(request)
        rep = await self._json(request)
        password = str((rep or {}).get("value") or "") if isinstance(rep, dict) else ""
        violation = password_policy_violation(password)
        with self._lock:
            user = self._user(request.path_params["id"])
            if violation:
                raise AdminError(400, {"error": violation[0], "error_description": violation[1]})
            user.password_hash = hash_password(password)
        return Response(status_code=204)

    async def logout_user(self, request: Request) -> Response:
        self._admin(request)
        with self._lock:
            self._user(request.path_params["id"])
            self.revoke_user_sessions(request.path_params["id"])
        return Response(status_code=204)
