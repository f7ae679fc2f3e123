"""GitHub: a personal access token or the device flow; repository info, create an issue, create a pull request."""

from __future__ import annotations

import re
from typing import Any

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json, retry_after_header
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, OAuthEndpoints, ParamType)

API_VERSION = "2022-11-28"
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def check_repo(repo: str) -> str:
    """owner/name, nothing else: the value becomes part of the request path."""
    if not _REPO.fullmatch(repo or "") or ".." in repo:
        raise InputError("repo", repo, "must be owner/name, e.g. octocat/Hello-World")
    return repo


class GitHubApi(Dialect):
    """2xx is success. A primary limit is 403/429 with x-ratelimit-remaining 0 (wait until x-ratelimit-reset);
    a secondary limit is 403/429 "You have exceeded a secondary rate limit" (wait retry-after, else 60 s)."""

    service = "GitHub"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        if isinstance(data, dict) and data.get("message"):
            errs = data.get("errors") or []
            detail = "; ".join(f"{e.get('field')} {e.get('code')}" if isinstance(e, dict) else str(e) for e in errs)
            return f"{data['message']}{f' ({detail})' if detail else ''}", None
        return super().error_fields(resp)

    @staticmethod
    def _limited(resp: httpx.Response) -> bool:
        if resp.status_code not in (403, 429):
            return False
        data = body_json(resp)
        message = str(data.get("message", "")) if isinstance(data, dict) else ""
        return (resp.headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message.lower()
                or resp.status_code == 429)

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        if self._limited(resp):
            return E.RateLimited
        if resp.status_code == 410:
            return E.NotFound
        return super().kind(resp, message, code)

    def wait_hint(self, resp: httpx.Response, now: float) -> float | None:
        after = retry_after_header(resp, now)
        if after is not None:
            return after
        reset = resp.headers.get("x-ratelimit-reset")
        if resp.headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
            return max(0.0, int(reset) - now)
        return 60.0  # PyGithub's wait when GitHub names none

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        if resp.status_code == 401:
            return "GitHub refused the token (expired or revoked?): create a new one and connect again"
        if resp.status_code == 404:
            return "no such repository, or the token cannot see it (fine-grained tokens list their repositories)"
        if resp.status_code == 410:
            return "issues are disabled for this repository: enable them or pick another repository"
        if resp.status_code == 403 and kind is E.PermissionDenied:
            return "the token lacks a permission: Issues (or Pull requests) read and write"
        return None


class GitHubClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(GitHubApi())

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {self.conn.token('token')}",
                "X-GitHub-Api-Version": API_VERSION}

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.request(method, f"{self.conn.url()}{path}", headers=self._headers(), json=body)

    def test(self) -> str:
        resp = self._call("GET", "/user")
        scopes = resp.headers.get("x-oauth-scopes")
        return f"signed in as {resp.json().get('login')}" + (f" (scopes: {scopes})" if scopes else "")

    def repo_info(self, repo: str) -> dict[str, Any]:
        r = self._call("GET", f"/repos/{check_repo(repo)}").json()
        return {k: r.get(k) for k in ("full_name", "private", "html_url", "default_branch", "has_issues",
                                      "open_issues_count")}

    def create_issue(self, repo: str, title: str, body: str | None = None, labels: list[str] | None = None,
                     assignees: list[str] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"title": title}
        if body:
            payload["body"] = body
        if labels:
            payload["labels"] = labels
        if assignees:
            payload["assignees"] = assignees
        # POST is not repeated on a 5xx (it may have created the issue); a rate limit was not processed.
        issue = self._call("POST", f"/repos/{check_repo(repo)}/issues", payload).json()
        return {"number": issue["number"], "html_url": issue.get("html_url"), "state": issue.get("state")}

    def create_pull_request(self, repo: str, title: str, head: str, base: str, body: str | None = None,
                            draft: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {"title": title, "head": head, "base": base, "draft": draft}
        if body:
            payload["body"] = body
        pr = self._call("POST", f"/repos/{check_repo(repo)}/pulls", payload).json()
        return {"number": pr["number"], "html_url": pr.get("html_url"), "state": pr.get("state")}


_REPO_PARAM = ActionParam("repo", "Repository (owner/name)", required=True)

SPEC = IntegrationSpec(
    id="github", name="GitHub", category=Category.DEV_TOOLS, icon="github",
    description="Open an issue when a budget is exceeded or a sync keeps failing; read repositories, open PRs.",
    fields=(
        CredentialField("token", "Personal access token", secret=True, placeholder="github_pat_...",
                        pattern=r"(github_pat_|gh[pousr]_)[A-Za-z0-9_]+",
                        pattern_hint="a GitHub token starts with github_pat_ or ghp_"),
        CredentialField("client_id", "OAuth app client id", help="an OAuth or GitHub App with device flow enabled"),
        CredentialField("webhook_secret", "Webhook secret", secret=True, required=False,
                        help="only to verify webhooks GitHub sends to the incoming-webhook listener"),
    ),
    auth_methods=(
        AuthMethod(AuthKind.BEARER_TOKEN, "Personal access token", ("token", "webhook_secret")),
        AuthMethod(AuthKind.OAUTH_DEVICE, "Sign in with a device code", ("client_id",),
                   OAuthEndpoints(device_code_url="https://github.com/login/device/code",
                                  token_url="https://github.com/login/oauth/access_token", scopes=("repo",))),
    ),
    base_urls={"api": "https://api.github.com"},
    test=ConnectionTest("GET /user", "HTTP 200 (the X-OAuth-Scopes header lists a classic token's scopes)"),
    actions=(
        Action("repo_info", "Repository info", "Name, visibility, default branch, open issues", (_REPO_PARAM,),
               lambda c, p: c.repo_info(p["repo"]), destination=False),
        Action("create_issue", "Create an issue", "Open an issue (budget exceeded, sync failing)",
               (_REPO_PARAM, ActionParam("title", "Title", required=True), ActionParam("body", "Body", ParamType.TEXT),
                ActionParam("labels", "Labels", ParamType.LIST), ActionParam("assignees", "Assignees", ParamType.LIST)),
               lambda c, p: c.create_issue(p["repo"], p["title"], p["body"], p["labels"], p["assignees"])),
        Action("create_pull_request", "Create a pull request", "Open a PR from a branch",
               (_REPO_PARAM, ActionParam("title", "Title", required=True), ActionParam("head", "Head branch", required=True),
                ActionParam("base", "Base branch", required=True), ActionParam("body", "Body", ParamType.TEXT),
                ActionParam("draft", "Draft", ParamType.BOOL, default=False)),
               lambda c, p: c.create_pull_request(p["repo"], p["title"], p["head"], p["base"], p["body"], p["draft"])),
    ),
    client=GitHubClient,
)
