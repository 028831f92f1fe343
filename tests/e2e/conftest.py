"""Fixtures of the end-to-end tests. Every process a test starts is registered and
stopped after it; when a test fails, the logs of its processes are printed."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import helpers  # noqa: E402


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


class Procs:
    def __init__(self):
        self.all = []

    def add(self, proc):
        self.all.append(proc)
        return proc


@pytest.fixture
def procs(request):
    registry = Procs()
    yield registry
    for proc in reversed(registry.all):
        proc.stop()
    failed = any(getattr(request.node, f"rep_{when}", None) is not None and getattr(request.node, f"rep_{when}").failed
                 for when in ("setup", "call"))
    if failed:
        for proc in registry.all:
            lines = proc.output().splitlines()
            print(f"\n----- {proc.name} ({proc.log}), last {min(len(lines), 150)} lines -----")
            print("\n".join(lines[-150:]))


@pytest.fixture
def upstream():
    server = helpers.Upstream()
    yield server
    server.close()


@pytest.fixture
def logs(tmp_path) -> Path:
    return tmp_path


@pytest.fixture
def idp(procs, logs):
    return helpers.Idp(procs, logs)


def pytest_configure(config):
    config.addinivalue_line("markers", "load: the 30 s load test (deselect with -m 'not load')")


def pytest_terminal_summary(terminalreporter):
    for report in helpers.REPORTS:
        terminalreporter.write_line(report)
