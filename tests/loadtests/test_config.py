"""The parts of loadtests/run that decide what runs: the local nginx config made from
deploy/nginx.conf (checked by nginx itself), how a scenario shares out its users, the
scenario file, and the profile summary."""

import re

from loadtests.scaling.nginx import DEPLOYED, local_config, nginx_binary, nginx_check, nginx_prepare
from loadtests.scaling.profile import summarize
from loadtests.scaling.runner import seconds, students_needed
from loadtests.scaling.scenarios import USER_CLASSES, Scenario, Share, Thresholds, config_load


def test_the_local_nginx_config_keeps_the_deployed_one_but_its_upstreams_and_address(tmp_path):
    deployed = DEPLOYED.read_text()
    local = local_config(deployed, listen_port=9999, upstreams=[8101, 8102, 8103], prefix=tmp_path)
    upstream = re.search(r"upstream portal \{(.*?)\}", local, re.S).group(1)
    assert re.findall(r"server (\S+)", upstream) == [
        "127.0.0.1:8101", "127.0.0.1:8102", "127.0.0.1:8103"
    ]  # fmt: skip
    assert "least_conn;" in upstream and "keepalive" in upstream
    assert upstream.count("max_fails=3 fail_timeout=10s;") == 3
    sockets = re.search(r"upstream portal_ws \{(.*?)\}", local, re.S).group(1)
    assert re.findall(r"server (\S+) max_fails=0;", sockets) == [
        "127.0.0.1:8101", "127.0.0.1:8102", "127.0.0.1:8103"
    ]  # fmt: skip
    assert "listen 127.0.0.1:9999;" in local and not re.search(r"^\s*listen 80;", local, re.M)
    assert "web1:8000" not in local.split("upstream portal", 1)[1]
    # The websocket upgrade and every location are the deployed ones.
    assert local.count("location") == deployed.count("location")
    assert "proxy_set_header Upgrade    $http_upgrade;" in local
    assert f"client_body_temp_path {tmp_path / 'client_body_temp'};" in local


def test_nginx_accepts_the_local_config(tmp_path):
    binary = nginx_binary()
    assert binary, "nginx is not installed (scripts/test installs it)"
    config = nginx_prepare(folder=tmp_path, listen_port=9999, upstreams=[8101, 8102])
    nginx_check(binary, config=config, folder=tmp_path)  # raises with nginx's complaint


def _scenario(mix: dict[str, Share]) -> Scenario:
    return Scenario("s", "", 10, 1, "1m", mix, Thresholds())


def test_users_are_shared_out_by_weight_then_raised_to_each_minimum():
    scenario = _scenario(
        {"A": Share(40), "B": Share(15), "C": Share(5, min=3), "D": Share(3, min=1)}
    )
    assert scenario.counts(200) == {"A": 127, "B": 48, "C": 16, "D": 9}
    assert sum(scenario.counts(200).values()) == 200
    small = scenario.counts(6)
    assert small["C"] == 3 and small["D"] == 1 and small["A"] >= 1


def test_the_scenario_file_names_known_users_and_thresholds():
    config = config_load()
    assert {"browse", "search", "enroll", "learn", "waitlist", "mix"} <= set(config.scenarios)
    for scenario in config.scenarios.values():
        assert set(scenario.mix) <= set(USER_CLASSES)
        assert 0 < scenario.thresholds.max_fail_ratio < 1
    assert set(config.scenarios["mix"].mix) == set(USER_CLASSES)
    # Three blocks of accounts, each twice the largest signed-in class (users are numbered
    # per Locust worker) and some.
    counts = config.scenarios["mix"].counts(200)
    largest = max(
        counts[name] for name in ("EnrollingStudent", "LearningStudent", "WaitingStudent")
    )
    assert students_needed(config.scenarios["mix"], 200) == 3 * (2 * largest + 10)


def test_durations_read_as_locust_writes_them():
    assert [seconds(text) for text in ("90", "90s", "2m", "1h30m")] == [90, 90, 120, 5400]


def test_the_profile_summary_attributes_samples_to_the_part_nearest_the_leaf(tmp_path):
    collapsed = tmp_path / "profile.collapsed"
    collapsed.write_text(
        "run (asgiref/sync.py:1);get (catalog/views.py:5);compile (django/db/models/sql/compiler.py:9) 3\n"
        "run (asgiref/sync.py:1);get (catalog/views.py:5) 1\n"
    )
    summary = summarize(collapsed)
    assert "4 samples" in summary
    assert " 75.0%  Django ORM: query compiling" in summary
    assert " 25.0%  asgiref (sync ↔ async)" in summary
    assert "100.0%  get (catalog/views.py)" in summary  # the portal's function, inclusive
