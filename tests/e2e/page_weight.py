"""A page's first load in Chromium with an empty cache: the bytes that came over the wire
and the time until it is usable (loaded, every chart drawn). Used by
tests/e2e/test_demo_serve.py and bench/page_weight.py (make bench).

Bytes: the sum of Chromium's ``encodedDataLength`` of every response of the load (the
body as sent, compressed or not, with its headers: what the network carried), from the
DevTools protocol's Network events. Time: from the navigation's start to the moment the
page has fired ``load`` and every ``[data-plotly-figure]`` is drawn (static/js/charts.js
marks it ``data-rendered``), read from the page's own clock (performance.now()).
CPU (optional): the processor time the load cost each process tree named in ``cpu``
(e.g. Chromium's and the server's), which a busy machine does not inflate as it does
the wall-clock time.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

# Loaded, and every chart on the page drawn: the time since the navigation began (ms).
_READY = """() => {
  if (document.readyState !== "complete") { return false; }
  const charts = document.querySelectorAll("[data-plotly-figure]");
  for (const chart of charts) { if (chart.dataset.rendered !== "true") { return false; } }
  return {ms: performance.now(), charts: charts.length, svgs: document.querySelectorAll(".chart svg.main-svg").length};
}"""
_TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, ttfb: nav.responseStart};
}"""


@dataclass
class FirstLoad:
    path: str
    status: int
    bytes: int
    requests: int
    ms: float
    first_byte_ms: float
    dom_content_loaded_ms: float
    load_ms: float
    charts: int
    svgs: int
    problems: list = field(default_factory=list)
    by_url: dict = field(default_factory=dict)
    cpu_ms: dict = field(default_factory=dict)


def _process_tree_cpu_seconds(root):
    """User + system CPU time of a process and all its descendants (Linux /proc)."""
    children, ticks = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def log_in(context, base_url, username, password):
    page = context.new_page()
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.close()


def first_load(context, url, timeout_ms=30_000, cpu=None):
    """Load ``url`` in a new tab of ``context`` (its cookies, e.g. a session) with the
    browser's cache emptied first. ``cpu``: {name: pid} of process trees to account."""
    cpu = cpu or {}
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    urls, sizes = {}, {}
    cdp.on("Network.requestWillBeSent", lambda event: urls.__setitem__(event["requestId"], event["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda event: sizes.__setitem__(event["requestId"], event["encodedDataLength"]))
    before = {name: _process_tree_cpu_seconds(pid) for name, pid in cpu.items()}
    try:
        response = page.goto(url, wait_until="load")
        ready = page.wait_for_function(_READY, polling="raf").json_value()
        timing = page.evaluate(_TIMING)
        page.wait_for_load_state("networkidle")  # the favicon and anything else late
    finally:
        cdp.detach()
    cpu_ms = {name: (_process_tree_cpu_seconds(pid) - before[name]) * 1000 for name, pid in cpu.items()}
    by_url = {urls.get(request_id, request_id): size for request_id, size in sizes.items()}
    page.close()
    return FirstLoad(
        path=url, status=response.status, bytes=int(sum(sizes.values())), requests=len(sizes), ms=ready["ms"],
        first_byte_ms=timing["ttfb"], dom_content_loaded_ms=timing["dcl"], load_ms=timing["load"], charts=ready["charts"], svgs=ready["svgs"],
        problems=problems, by_url=by_url, cpu_ms=cpu_ms,
    )
