"""Fake GitHub REST API and device flow: header checks, x-ratelimit-* on every reply, primary/secondary limits."""

from __future__ import annotations

import json
import re
import time
from collections import deque
from urllib.parse import parse_qs, urlencode

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU"
VERSIONS = {"2022-11-28", "2026-03-10"}
DOC = "https://docs.github.com/rest"
REPO = {"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "Hello-World",
        "full_name": "octocat/Hello-World", "private": False, "html_url": "https://github.com/octocat/Hello-World",
        "default_branch": "master", "permissions": {"pull": True, "push": True, "admin": False},
        "has_issues": True, "open_issues_count": 0}


class GitHubFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = {PAT}
        self.issues: list[dict] = []
        self.pulls: list[dict] = []
        self.branches = {"master", "feature"}
        self.issues_disabled = False
        self.remaining = 4999
        # device flow: the token endpoint's scripted answers before it grants
        self.client_id = "Iv1.abc123"
        self.device_script: deque[dict] = deque()
        self.device_token = "gho_16C7e42F292c6912E7710c838347Ae178B4a"

    def _rl(self, remaining: int | None = None) -> dict[str, str]:
        return {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": str(self.remaining if remaining is None else remaining),
                "x-ratelimit-reset": str(int(time.time()) + 3600), "x-ratelimit-used": "1",
                "x-ratelimit-resource": "core", "x-github-api-version-selected": "2022-11-28"}

    def _json(self, obj: dict, status: int = 200, extra: dict | None = None) -> FakeResponse:
        h = {"Content-Type": "application/json; charset=utf-8", **self._rl(), **(extra or {})}
        return FakeResponse(status, json.dumps(obj).encode(), h)

    def primary_limit(self, status: int = 403) -> FakeResponse:
        h = {"Content-Type": "application/json; charset=utf-8", **self._rl(0)}
        h["x-ratelimit-reset"] = str(int(time.time()) + 2)
        return FakeResponse(status, json.dumps({"message": "API rate limit exceeded for user ID 1.",
                                                "documentation_url": DOC}).encode(), h)

    def secondary_limit(self, retry_after: int = 1) -> FakeResponse:
        h = {"Content-Type": "application/json; charset=utf-8", **self._rl(), "retry-after": str(retry_after)}
        return FakeResponse(403, json.dumps({"message": "You have exceeded a secondary rate limit. Please wait a few "
                                                        "minutes before you try again.", "documentation_url": DOC}).encode(), h)

    def handle(self, req: FakeRequest) -> FakeResponse:
        if req.path.startswith("/login/"):
            return self._login(req)
        if not req.header("user-agent"):
            return FakeResponse(403, b"Request forbidden by administrative rules. Please make sure your request "
                                     b"has a User-Agent header", {"Content-Type": "text/plain"})
        version = req.header("x-github-api-version")
        if version is not None and version not in VERSIONS:
            return self._json({"message": f"Unsupported 'X-GitHub-Api-Version': {version}", "documentation_url": DOC}, 400)
        auth = req.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token") or (token not in self.tokens and token != self.device_token):
            return self._json({"message": "Bad credentials", "documentation_url": DOC, "status": "401"}, 401)
        if req.path == "/user":
            return self._json({"login": "octocat", "id": 1, "type": "User"}, extra={"X-OAuth-Scopes": "repo"})
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/issues|/pulls)?", req.path)
        if m is None or f"{m.group(1)}/{m.group(2)}" != REPO["full_name"]:
            return self._json({"message": "Not Found", "documentation_url": DOC, "status": "404"}, 404)
        if m.group(3) is None:
            return self._json(REPO)
        body = req.json() if req.body else {}
        if m.group(3) == "/issues" and req.method == "POST":
            if self.issues_disabled:
                return self._json({"message": "Issues are disabled for this repo", "documentation_url": DOC}, 410)
            if not body.get("title"):
                return self._json({"message": "Validation Failed", "errors": [
                    {"resource": "Issue", "field": "title", "code": "missing_field"}], "documentation_url": DOC}, 422)
            n = 1347 + len(self.issues)
            issue = {"id": n, "number": n, "state": "open", "title": body["title"], "body": body.get("body"),
                     "url": f"https://api.github.com/repos/octocat/Hello-World/issues/{n}",
                     "html_url": f"https://github.com/octocat/Hello-World/issues/{n}",
                     "labels": [{"name": x} for x in body.get("labels", [])], "user": {"login": "octocat", "id": 1},
                     "created_at": "2011-04-22T13:33:48Z"}
            self.issues.append(issue)
            return self._json(issue, 201, {"Location": issue["url"]})
        if m.group(3) == "/pulls" and req.method == "POST":
            errors = [{"resource": "PullRequest", "field": f, "code": "missing_field"} for f in ("title", "head", "base")
                      if not body.get(f)]
            errors += [{"resource": "PullRequest", "field": f, "code": "invalid"} for f in ("head", "base")
                       if body.get(f) and body[f] not in self.branches]
            if errors:
                return self._json({"message": "Validation Failed", "errors": errors, "documentation_url": DOC}, 422)
            n = 1 + len(self.pulls)
            pr = {"id": 1000 + n, "number": n, "state": "open", "title": body["title"], "draft": body.get("draft", False),
                  "html_url": f"https://github.com/octocat/Hello-World/pull/{n}",
                  "head": {"ref": body["head"]}, "base": {"ref": body["base"]}}
            self.pulls.append(pr)
            return self._json(pr, 201)
        return self._json({"message": "Not Found", "documentation_url": DOC}, 404)

    def _login(self, req: FakeRequest) -> FakeResponse:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        wants_json = req.header("accept") == "application/json"

        def out(obj: dict) -> FakeResponse:  # errors come back with HTTP 200 too
            if wants_json:
                return FakeResponse(200, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8"})
            return FakeResponse(200, urlencode(obj).encode(), {"Content-Type": "application/x-www-form-urlencoded"})

        if form.get("client_id") != self.client_id:
            return out({"error": "incorrect_client_credentials", "error_description": "The client_id is not valid."})
        if req.path == "/login/device/code":
            return out({"device_code": "3584d83530557fdd1f46af8289938c8ef79f9dc5", "user_code": "WDJB-MJHT",
                        "verification_uri": "https://github.com/login/device", "expires_in": 900, "interval": 5})
        if req.path == "/login/oauth/access_token":
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code":
                return out({"error": "unsupported_grant_type"})
            if form.get("device_code") != "3584d83530557fdd1f46af8289938c8ef79f9dc5":
                return out({"error": "incorrect_device_code"})
            if self.device_script:
                return out(self.device_script.popleft())
            return out({"access_token": self.device_token, "token_type": "bearer", "scope": "repo"})
        return out({"error": "not_found"})
