"""GitHub against its fake: PAT headers, repo info, issues, pull requests, rate limits, device flow."""

from __future__ import annotations

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.errors import OAuthError
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.github import PAT, GitHubFake


@pytest.fixture
def github():  # type: ignore[no-untyped-def]
    with serving(GitHubFake()) as fake:
        yield fake


def _connect(manager, github) -> None:  # type: ignore[no-untyped-def]
    manager.connect("github", {"token": PAT}, name="gh", urls={"api": github.base_url})


def test_pat_requests_carry_the_documented_headers(manager, github) -> None:
    _connect(manager, github)
    assert manager.store.get("gh").status_message == "signed in as octocat (scopes: repo)"
    info = manager.run("gh", "repo_info", {"repo": "octocat/Hello-World"})
    assert info["default_branch"] == "master" and info["has_issues"] is True
    req = github.requests[-1]
    assert req.header("authorization") == f"Bearer {PAT}" and req.header("accept") == "application/vnd.github+json"
    assert req.header("x-github-api-version") == "2022-11-28" and req.header("user-agent").startswith("aicost-desktop/")


def test_issue_and_pull_request(manager, github) -> None:
    _connect(manager, github)
    out = manager.run("gh", "create_issue", {"repo": "octocat/Hello-World", "title": "Budget 'team' exceeded",
                                             "body": "$531.90 of $500.00", "labels": "budget,ai-cost"})
    assert out == {"number": 1347, "html_url": "https://github.com/octocat/Hello-World/issues/1347", "state": "open"}
    assert github.issues[0]["labels"] == [{"name": "budget"}, {"name": "ai-cost"}]
    pr = manager.run("gh", "create_pull_request", {"repo": "octocat/Hello-World", "title": "Raise budget",
                                                   "head": "feature", "base": "master", "draft": "true"})
    assert pr["number"] == 1 and github.pulls[0]["draft"] is True
    with pytest.raises(E.InvalidRequest, match="head invalid"):
        manager.run("gh", "create_pull_request", {"repo": "octocat/Hello-World", "title": "x", "head": "nope",
                                                  "base": "master"})


def test_errors_say_what_to_do(manager, github) -> None:
    _connect(manager, github)
    with pytest.raises(E.NotFound, match="Not Found") as err:
        manager.run("gh", "create_issue", {"repo": "octocat/Private", "title": "x"})
    assert "cannot see it" in err.value.hint
    with pytest.raises(E.InvalidRequest, match=r"Validation Failed \(title missing_field\)"):
        manager.open("gh").create_issue("octocat/Hello-World", "")
    github.issues_disabled = True
    with pytest.raises(E.NotFound, match="disabled"):
        manager.run("gh", "create_issue", {"repo": "octocat/Hello-World", "title": "x"})
    with pytest.raises(InputError, match="owner/name"):
        manager.run("gh", "repo_info", {"repo": "../../user"})
    github.tokens.clear()
    with pytest.raises(E.AuthFailed, match="Bad credentials"):
        manager.run("gh", "repo_info", {"repo": "octocat/Hello-World"})
    assert manager.store.get("gh").status == "error"


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_waits_until_reset(manager, github, waits, status) -> None:
    _connect(manager, github)
    github.inject(github.primary_limit(status))
    assert manager.run("gh", "repo_info", {"repo": "octocat/Hello-World"})["full_name"] == "octocat/Hello-World"
    assert len(waits) == 1 and 0 < waits[0] <= 2


def test_secondary_rate_limit_honours_retry_after_and_a_far_reset_goes_back(manager, github, waits) -> None:
    _connect(manager, github)
    github.inject(github.secondary_limit(1))
    manager.run("gh", "create_issue", {"repo": "octocat/Hello-World", "title": "x"})
    assert waits == [1.0] and len(github.issues) == 1
    far = github.primary_limit()
    far.headers["x-ratelimit-reset"] = str(int(far.headers["x-ratelimit-reset"]) + 3600)
    github.inject(far)
    with pytest.raises(E.RateLimited) as err:
        manager.run("gh", "create_issue", {"repo": "octocat/Hello-World", "title": "y"})
    assert err.value.retry_after > 3000 and len(github.issues) == 1


def _device(manager, github, waits, shown):  # type: ignore[no-untyped-def]
    return manager.connect_oauth("github", client_id=github.client_id, name="gh", sleep=waits, show_code=shown.append,
                                 urls={"api": github.base_url, "device_code": github.base_url + "/login/device/code",
                                       "token": github.base_url + "/login/oauth/access_token"})


def test_device_flow_honours_interval_and_slow_down(manager, github, waits, keychain) -> None:
    github.device_script.extend([
        {"error": "authorization_pending", "error_description": "The authorization request is still pending."},
        {"error": "slow_down", "error_description": "Too many requests.", "interval": 10},
        {"error": "authorization_pending", "error_description": "pending"}])
    shown: list = []
    rec = _device(manager, github, waits, shown)
    assert shown[0].user_code == "WDJB-MJHT" and shown[0].verification_uri == "https://github.com/login/device"
    assert waits == [5, 5, 10, 10]
    assert rec.status == "ok" and rec.auth_method == "oauth_device"
    polls = github.requests_to("/login/oauth/access_token")
    assert len(polls) == 4 and all(r.header("accept") == "application/json" for r in polls)
    assert b"client_secret" not in polls[0].body  # the device flow needs no secret
    assert manager.store.secret(rec, "access_token") == github.device_token
    assert manager.run("gh", "repo_info", {"repo": "octocat/Hello-World"})["private"] is False


@pytest.mark.parametrize("error, match", [("access_denied", "denied"), ("expired_token", "expired")])
def test_device_flow_denied_or_expired(manager, github, waits, error, match) -> None:
    github.device_script.append({"error": error, "error_description": "x"})
    with pytest.raises(OAuthError, match=match):
        _device(manager, github, waits, [])
    assert manager.connections() == []
