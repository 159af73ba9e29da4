"""Test sets as an API: create, list, change, append, delete; bad input; roles; tenancy."""

from __future__ import annotations

import pytest

from tests.support import Api

CASE = {"question": "When do you open?", "expect_source": "Opening hours", "expect_page": 2,
        "expect_text": ["9 am"]}


def evals_path(api: Api, bot: str, ws: str | None = None) -> str:
    return f"/api/v1/workspaces/{ws or api.ws}/chatbots/{bot}/evals"


def test_create_list_update_append_delete(bench):
    api, path = bench.api, evals_path(bench.api, bench.bot)
    created = bench.create_set([{**CASE, "question": "  When do you open?  ", "expect_text": ["9 am", " ", "9 am"]}])
    assert created["name"] == "Basics" and created["auto_run"] is False and created["case_count"] == 1
    assert created["cases"] == [CASE]  # trimmed, blank and repeated words dropped
    second = bench.create_set([], name="Empty for now", auto_run=True)

    listed = api.ok("GET", path)
    assert [s["id"] for s in listed["items"]] == [second["id"], created["id"]] and listed["next_cursor"] is None
    page = api.ok("GET", path, params={"limit": 1})
    assert [s["id"] for s in page["items"]] == [second["id"]]
    rest = api.ok("GET", path, params={"limit": 1, "cursor": page["next_cursor"]})
    assert [s["id"] for s in rest["items"]] == [created["id"]]

    one = f"{path}/{created['id']}"
    changed = api.ok("PUT", one, json={"name": "Renamed", "cases": [{"question": "Do you deliver?"}]})
    assert changed["name"] == "Renamed" and changed["cases"] == [
        {"question": "Do you deliver?", "expect_source": None, "expect_page": None, "expect_text": []}]
    assert api.ok("PUT", one, json={"auto_run": True})["name"] == "Renamed"  # left out: kept
    appended = api.ok("POST", one + "/cases", json={"cases": [CASE, {"question": "Parking?"}]})
    assert [c["question"] for c in appended["cases"]] == ["Do you deliver?", "When do you open?", "Parking?"]
    assert api.ok("GET", one) == appended

    api.ok("DELETE", one, 204)
    assert api.get(one).status_code == 404
    assert api.get(one + "/runs").status_code == 404
    assert [s["id"] for s in api.ok("GET", path)["items"]] == [second["id"]]


def _error(response) -> tuple[int, list[str]]:
    body = response.json()["error"]
    return response.status_code, [d["field"] for d in body.get("details") or [] if isinstance(d, dict)]


@pytest.mark.parametrize("body, fields", [
    ({"name": "x", "cases": [{"question": "   "}]}, ["cases[0].question"]),
    ({"name": "x", "cases": [{"question": "ok"}, {"question": ""}]}, ["cases[1].question"]),
    ({"name": "x", "cases": [{"question": "q"}] * 201}, ["cases"]),
    ({"name": "x", "cases": [{"question": "q", "expect_page": 3}]}, ["cases[0].expect_page"]),
    ({"name": "  ", "cases": []}, ["name"]),
    ({"name": "x", "cases": [{"question": "q", "expect_page": 0, "expect_source": "a"}]}, None),
    ({"name": "x", "cases": [{"question": "q", "colour": "red"}]}, None),
    ({"cases": []}, None),
])
def test_bad_sets_are_400_naming_the_field(bench, body, fields):
    response = bench.api.post(evals_path(bench.api, bench.bot), json=body)
    status, named = _error(response)
    assert status == 400, response.text
    if fields is not None:
        assert named == fields, response.text
    assert bench.api.ok("GET", evals_path(bench.api, bench.bot))["items"] == []


def test_appending_past_the_limit_and_other_refusals(bench):
    api = bench.api
    eval_set = bench.create_set([{"question": f"q{i}"} for i in range(199)])
    one = f"{evals_path(api, bench.bot)}/{eval_set['id']}"
    over = api.post(one + "/cases", json={"cases": [{"question": "a"}, {"question": "b"}]})
    assert _error(over) == (400, ["cases"]) and "199" in over.text
    assert api.ok("POST", one + "/cases", json={"cases": [{"question": "last"}]})["case_count"] == 200
    assert _error(api.post(one + "/cases", json={"cases": []})) == (400, ["cases"])
    assert _error(api.put(one, json={"cases": [{"question": ""}]})) == (400, ["cases[0].question"])

    empty = bench.create_set([], name="Empty")
    refused = api.post(f"{evals_path(api, bench.bot)}/{empty['id']}/runs")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_cases"


def test_unknown_bot_set_or_run_is_404(bench):
    api = bench.api
    assert api.get(evals_path(api, "nope")).status_code == 404
    assert api.post(evals_path(api, "nope"), json={"name": "x", "cases": []}).status_code == 404
    path = evals_path(api, bench.bot)
    assert api.get(f"{path}/nope").status_code == 404
    assert api.post(f"{path}/nope/runs").status_code == 404
    eval_set = bench.create_set([{"question": "q"}])
    assert api.get(f"{path}/{eval_set['id']}/runs/nope").status_code == 404
    other_bot = api.create_bot(api.ws, name="Other")["id"]
    assert api.get(f"{evals_path(api, other_bot)}/{eval_set['id']}").status_code == 404  # the set is not its


@pytest.mark.parametrize("role, writes", [("viewer", False), ("agent", False), ("editor", True)])
def test_editors_write_and_run_viewers_and_agents_read(bench, client_factory, role, writes):
    eval_set = bench.create_set([{"question": "[[echo]] hi"}])
    member = client_factory()
    bench.api.invite_and_join(member, f"{role}@example.com", role)
    path = evals_path(member, bench.bot, bench.api.ws)
    assert member.ok("GET", path)["items"][0]["id"] == eval_set["id"]
    assert member.ok("GET", f"{path}/{eval_set['id']}/runs")["items"] == []
    attempts = [member.post(path, json={"name": "mine", "cases": []}),
                member.put(f"{path}/{eval_set['id']}", json={"name": "theirs"}),
                member.post(f"{path}/{eval_set['id']}/cases", json={"cases": [{"question": "q"}]}),
                member.post(f"{path}/{eval_set['id']}/runs")]
    assert [r.status_code for r in attempts] == ([201, 200, 200, 202] if writes else [403] * 4)
    assert member.delete(f"{path}/{eval_set['id']}").status_code == (204 if writes else 403)


def test_another_workspace_sees_nothing(server_factory):
    live = server_factory(open_signup=True)
    a, b = Api(live.url), Api(live.url)
    try:
        a.setup_owner("a@example.com", "A")
        b.signup("b@example.com", "B")
        bot = a.create_bot(a.ws, model="builtin/extractive")["id"]
        eval_set = a.ok("POST", evals_path(a, bot), 201, json={"name": "A's", "cases": [{"question": "hours?"}]})
        run = a.ok("POST", f"{evals_path(a, bot)}/{eval_set['id']}/runs", 202)
        for ws in (a.ws, b.ws):  # A's workspace in the path, or B's own with A's ids
            one = f"{evals_path(b, bot, ws)}/{eval_set['id']}"
            replies = [b.get(evals_path(b, bot, ws)), b.get(one), b.put(one, json={"name": "B was here"}),
                       b.post(one + "/cases", json={"cases": [{"question": "q"}]}), b.post(one + "/runs"),
                       b.get(one + "/runs"), b.get(f"{one}/runs/{run['id']}"), b.delete(one),
                       b.post(evals_path(b, bot, ws), json={"name": "x", "cases": []})]
            assert [r.status_code for r in replies] == [404] * 9, [r.text for r in replies]
        assert a.ok("GET", f"{evals_path(a, bot)}/{eval_set['id']}")["name"] == "A's"
    finally:
        a.close()
        b.close()
