"""Budgets: month to date from the fake's truth, statuses from thresholds set around it, the data's own "as of"
time, and alerts delivered by Apprise to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

import usage_frames as uf
from usage_frames import ops
from usage_frames.finops import budgets as b
from usage_frames.providers.openai.sample import SAMPLE_NOW
from usage_frames.report_data import report_data

WINDOW = ("2026-09-01", "2026-10-16")  # as of 2026-10-16 00:00 UTC: half of October is known
MONTH = ("2026-10-01", "2026-10-16")


@pytest.fixture(scope="module")
def by_project():
    return uf.Client.fake().costs(*WINDOW, group_by="project_id")


def test_check_budgets__month_to_date_and_status_from_the_truth(org, by_project):
    spent = org.total("costs", "amount", *MONTH)
    search = org.total("costs", "amount", *MONTH, project_id="proj_search")
    budgets = {"budget": [
        {"name": "org", "monthly": spent * 10},  # far above: ok
        {"name": "search", "project_ids": ["proj_search"], "monthly": search * 0.9},  # already exceeded
        {"name": "org-tight", "monthly": spent * 1.05},  # not yet exceeded, but half the month is still to come
    ]}  # fmt: skip
    status = ops.check_budgets(by_project, budgets).set_index("budget")
    assert status.loc["org", "month_to_date"] == pytest.approx(round(spent, 2), abs=0.005)
    assert status.loc["search", "month_to_date"] == pytest.approx(round(search, 2), abs=0.005)
    assert status["status"].to_dict() == {"org": "ok", "search": "over", "org-tight": "projected over"}
    assert (status["lower"] <= status["projected"]).all() and (status["projected"] <= status["upper"]).all()
    assert (status["lower"] >= status["month_to_date"] - 0.01).all()
    assert set(status["as_of"]) == {pd.Timestamp(WINDOW[1], tz="UTC")}


def test_check_budgets__team_budgets_reuse_the_allocation_rules(org, by_project, tmp_path):
    path = tmp_path / "budgets.toml"
    path.write_text(
        '[[team]]\nname = "chat"\nproject_ids = ["proj_chat", "proj_batch"]\n'
        '[[budget]]\nname = "chat team"\nteam = "chat"\nmonthly = 100000.0\n'
    )
    status = by_project.usage.check_budgets(path)
    chat = org.total("costs", "amount", *MONTH, project_id=["proj_chat", "proj_batch"])
    assert status.loc[0, "month_to_date"] == pytest.approx(round(chat, 2), abs=0.005)
    assert status.loc[0, "status"] == "ok"


def test_check_budgets__speaks_for_the_datas_as_of_time_not_the_machines():
    costs = uf.Client.sample().costs("2026-09-01", group_by="project_id")
    budgets = {"budget": [{"name": "org", "monthly": 1.0}]}
    assert ops.check_budgets(costs, budgets).loc[0, "as_of"] == SAMPLE_NOW
    earlier = pd.Timestamp("2026-10-11", tz="UTC")
    tagged = costs.copy()
    tagged.attrs = {**costs.attrs, "as_of": str(earlier)}
    assert ops.check_budgets(tagged, budgets).loc[0, "as_of"] == earlier
    first_ten = costs[costs.index < earlier]
    assert ops.check_budgets(costs, budgets, now=earlier).loc[0, "month_to_date"] == pytest.approx(
        round(float(first_ten.loc["2026-10-01":, "amount"].sum()), 2)
    )


def test_check_budgets__at_midnight_on_the_1st_speaks_for_the_month_that_ended(org):
    # A window that ends at a month's first midnight (October's costs fetched later, or check run by cron at
    # 00:00:00): its month is October, whose forecast it shows, not the November that has no cost yet.
    costs = uf.Client.fake().costs("2026-09-01", "2026-11-01", group_by="project_id")
    october = org.total("costs", "amount", "2026-10-01", "2026-11-01")
    status = ops.check_budgets(costs, {"budget": [{"name": "org", "monthly": october - 1}]})
    assert status.loc[0, "month_to_date"] == pytest.approx(round(october, 2), abs=0.005)
    assert status.loc[0, "status"] == "over"
    card = next(c for c in report_data(uf.Client.fake(now="2026-11-01"))["cards"] if c["name"] == "forecast")
    assert (status.loc[0, "month_to_date"], status.loc[0, "projected"]) == (card["month_to_date"], card["value"])


def test_check_budgets__a_budget_by_key_needs_that_grouping(by_project):
    with pytest.raises(uf.InvalidParameterError, match=r"group_by=\['api_key_id'\]"):
        ops.check_budgets(by_project, {"budget": [{"name": "lab", "api_key_ids": ["key_lab"], "monthly": 10}]})


def test_check_budgets__too_little_history_is_bad_input():
    costs = uf.Client.fake().costs("2026-10-03", "2026-10-16")
    with pytest.raises(uf.InvalidParameterError, match="7 days before"):
        ops.check_budgets(costs, {"budget": [{"name": "org", "monthly": 10}]})


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[[budget]]\nname = 'org'", "monthly"),
        ("[[budget]]\nname = 'org'\nmonthly = -5", "monthly"),
        ("[[budget]]\nname = 'org'\nmonthly = 5\nteam = 'chat'", "team"),
        ("[[budget]]\nname = 'org'\nmonthly = 5\nprojects = ['p']", "projects"),
        ("[[budget]]\nname = 'a'\nmonthly = 5\n[[budget]]\nname = 'a'\nmonthly = 6", "unique"),
        ("monthly = 5", r"\[\[budget\]\]"),
        ("[[budget]\n", "does not parse"),
    ],
)
def test_budgets__bad_input_names_the_problem(text, named):
    with pytest.raises(uf.InvalidParameterError, match=named):
        b.Budgets.from_toml(text)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent (Apprise's json:// posts), answering ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[dict] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append({"path": self.path, "headers": dict(self.headers), "body": body.decode()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def test_send__delivers_one_message_to_a_local_receiver(receiver, by_project):
    status = ops.check_budgets(by_project, {"budget": [{"name": "org", "monthly": 1.0}]})
    title, body = b.message(status)
    b.send(b.notifier([receiver.url]), title, body)
    assert len(receiver.requests) == 1 and receiver.requests[0]["path"] == "/alerts"
    sent = json.loads(receiver.requests[0]["body"])
    assert sent["title"] == title and "org: over" in sent["message"]


@pytest.mark.parametrize("url", ["nonsense://example", "no scheme at all"])
def test_notifier__refuses_urls_apprise_cannot_send_to(url):
    with pytest.raises(uf.InvalidParameterError, match="notify"):
        b.notifier([url])


def test_send__a_failed_delivery_names_host_port_and_reason_never_the_urls_secrets(by_project):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Receiver(status=503) as refusing:
        urls = [f"json://alice:pa55word@127.0.0.1:{port}/hooks/t0k3n-path?x=1", refusing.url]
        with pytest.raises(b.AlertNotDeliveredError) as caught:
            b.send(b.notifier(urls), "title", "body")
    assert caught.value.failures == [
        f"127.0.0.1:{port} (json://): Connection refused",
        f"127.0.0.1:{refusing.server.server_address[1]} (json://): HTTP 503",
    ]
    assert not any(s in str(caught.value) for s in ("alice", "pa55word", "t0k3n", "hooks", "alerts"))
    assert len(refusing.requests) == 1  # it was tried, once


def test_check_budgets__a_budget_value_without_costs_is_named_with_the_closest_one(by_project):
    budgets = {"budget": [{"name": "search", "project_ids": ["proj_serch", "proj_search"], "monthly": 100.0}]}
    message = "budget 'search': project_ids 'proj_serch' matches no cost from 2026-09-01 to 2026-10-16 "
    with pytest.warns(uf.UsageFramesWarning, match=re.escape(message + "(did you mean 'proj_search'?)")):
        status = ops.check_budgets(by_project, budgets)
    assert status.loc[0, "month_to_date"] > 0  # the correct ID still counts


def test_check_budgets__a_team_of_the_rules_without_costs_is_named(by_project):
    budgets = {"team": [{"name": "chat", "project_ids": ["proj_chta"]}],
               "budget": [{"name": "chat team", "team": "chat", "monthly": 100.0}]}  # fmt: skip
    with pytest.warns(uf.UsageFramesWarning, match=r"team 'chat': project_ids 'proj_chta' .*'proj_chat'"):
        ops.check_budgets(by_project, budgets)


def test_check_budgets__an_idle_project_of_the_directory_is_not_a_typo(by_project):
    projects = pd.concat([uf.projects(uf.Client.fake()), pd.DataFrame({"id": ["proj_new"], "name": ["New"]})])
    budgets = {"budget": [{"name": "new", "project_ids": ["proj_new"], "monthly": 100.0}]}
    status = ops.check_budgets(by_project, budgets, projects=projects)  # warnings are errors in this suite
    assert status.loc[0, ["month_to_date", "status"]].tolist() == [0.0, "ok"]
    with pytest.warns(uf.UsageFramesWarning, match="'proj_new' matches no cost"):  # without the list: named
        ops.check_budgets(by_project, budgets)
