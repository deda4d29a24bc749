"""`mem ui` in a real browser: Debian's chromium driven by Selenium (never a downloaded one),
against a real resident process and real stores. Skips, with the reason, where chromium or
chromedriver is not installed (.ci/run installs both)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from memcli.server.client import control

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are not installed")]
MEM = [sys.executable, "-m", "memcli"]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def mem(env, *args, check=0, stdin=None):
    p = subprocess.run(MEM + list(args), env=env, capture_output=True, text=True, timeout=120, input=stdin)
    assert check is None or p.returncode == check, (args, p.stdout, p.stderr)
    return p


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A home with notes, a trip, a conversation and the graph; its server; the page's URL."""
    from conftest import GARDEN, TRIP

    tmp = tmp_path_factory.mktemp("ui")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "garden.md").write_text(GARDEN)
    (corpus / "trip.txt").write_text(TRIP)
    (corpus / "journal.md").write_text("# Journal 2025\n\n## 12 April\n\nSowed the tomatoes in the greenhouse.\n\n"
                                       "## 20 April\n\nPotted on the seedlings, the Sungold are 15 cm tall.\n")
    (corpus / "plans.md").write_text("# Plans\n\nNext spring we repeat [[./trip|our trip]] to see the castle walls again.\n")
    shutil.copy(FIXTURES / "chat" / "locomo_tiny.json", corpus)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM_")}
    env.update({"MEM_HOME": str(tmp / "home"), "MEM_CONFIG": str(tmp / "config.yaml"), "MEM_EMBED__MODEL": "fake:64",
                "MEM_LLM__MODEL": "fake", "HF_HUB_OFFLINE": "1", "MEM_SERVE__AUTOSTART": "false",
                "MEM_ONNX_CACHE": os.environ.get("MEM_ONNX_CACHE", str(tmp / "onnx"))})
    mem({**env, "MEM_NO_SERVER": "1"}, "ingest", "-r", "--graph", str(corpus))
    broken = tmp / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really a pdf")
    mem({**env, "MEM_NO_SERVER": "1"}, "ingest", str(broken), check=None)  # remembered as failed, with why
    reply = json.loads(mem(env, "ui", "--no-open", "--json").stdout)  # starts the server, then the page
    yield {"env": env, "url": reply["url"], "home": tmp / "home", "corpus": corpus}
    mem(env, "serve", "--stop", check=None)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    drv.implicitly_wait(0)
    yield drv
    drv.quit()


def _until(read, timeout: float, failed):
    """``read()`` again every 0.1 s until it gives something; a list the page re-renders
    meanwhile (search as you type) leaves a stale element, and is read again."""
    from selenium.common.exceptions import StaleElementReferenceException

    t0 = time.time()
    while True:
        try:
            got = read()
        except StaleElementReferenceException:
            got = None
        if got:
            return got
        assert time.time() - t0 < timeout, failed()
        time.sleep(0.1)


def wait(drv, css, *, n=1, timeout=20.0, text=None):
    """The elements matching ``css`` once there are at least ``n`` (with ``text`` in one)."""
    from selenium.webdriver.common.by import By

    def read():
        els = drv.find_elements(By.CSS_SELECTOR, css)
        return els if len(els) >= n and (text is None or any(text in e.text for e in els)) else None

    return _until(read, timeout, lambda: f"{css!r} never appeared ({len(drv.find_elements(By.CSS_SELECTOR, css))} found)")


def wait_text(drv, css, text, timeout=20.0) -> str:
    """The text of the first element matching ``css`` that contains ``text``, read in the same
    pass that finds it (the page may replace the element right after)."""
    from selenium.webdriver.common.by import By

    return _until(lambda: next((t for e in drv.find_elements(By.CSS_SELECTOR, css) if text in (t := e.text)), None),
                  timeout, lambda: f"no {css!r} with {text!r}")


def opened(drv, page, hash_=""):
    drv.get(page["url"])  # the secret in the URL becomes a cookie, then the address drops it
    wait(drv, "nav a.active")
    assert "token=" not in drv.current_url
    if hash_:
        drv.get(drv.current_url.split("#")[0] + "#" + hash_)
    return drv


def test_search_as_you_type_explains_each_hit(page, browser):
    from selenium.webdriver.common.by import By

    opened(browser, page, "search")
    browser.find_element(By.ID, "q").send_keys("grilled sardines Lisbon")
    hits = wait(browser, "li.hit")
    assert "trip.txt" in hits[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "li.hit mark")  # the matched terms
    explain = hits[0].find_element(By.CSS_SELECTOR, ".explain").text
    assert "bm25 #" in explain and "dense #" in explain and "final" in explain
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys("castle walls again")
    plans = wait_text(browser, "li.hit", "plans.md")
    assert "our trip" in plans and "[[" not in plans  # a link reads as its text, as in the CLI


def test_ask_shows_the_evidence_and_a_citation_opens_the_source_at_its_line(page, browser):
    from selenium.webdriver.common.by import By

    opened(browser, page, "ask")
    browser.find_element(By.ID, "ask-q").send_keys("Which variety is for sauce?")
    browser.find_element(By.ID, "ask-go").click()
    wait(browser, "#answer-text", text="San Marzano")
    assert wait(browser, "li.citation mark.evidence")[0].text  # the evidence sentence, marked in its excerpt
    link = wait(browser, "li.citation a.open-source")[0]
    line = int(link.get_attribute("href").rsplit("/", 1)[1])
    link.click()
    target = wait(browser, "#source-view .unit.target")[0]
    lo, hi = map(int, target.get_attribute("data-lines").split("-"))
    assert lo <= line <= hi and "garden.md" in browser.find_element(By.ID, "source-view").text


def test_a_refusal_shows_the_closest_hits(page, browser):
    from selenium.webdriver.common.by import By

    opened(browser, page, "ask")
    browser.find_element(By.ID, "ask-q").send_keys("What does the frobnicate_widget() option default to?")
    browser.find_element(By.ID, "ask-go").click()
    wait(browser, "#answer.refusal")
    assert "Not in your memory" in browser.find_element(By.ID, "answer-text").text
    assert wait(browser, "li.citation")


def test_timeline_shows_the_conversation_and_a_day_lists_its_units(page, browser):
    from selenium.webdriver.common.by import By

    opened(browser, page, "timeline")
    items = wait(browser, ".vis-item", n=3)
    sessions = [i for i in items if "session" in i.text]
    assert sessions, [i.text for i in items]
    sessions[0].click()  # a click selects the item: its day's units are listed
    units = wait(browser, "li.day-unit")
    assert "locomo_tiny.json" in units[0].text and browser.find_element(By.ID, "day-title").text.startswith("2023-")


def test_timeline_draws_notes_at_their_content_dates_and_lists_undated_ones_apart(page, browser):
    from selenium.webdriver.common.by import By

    opened(browser, page, "timeline")
    events = wait(browser, ".vis-item.tl-event", n=2)
    starts = browser.execute_script("""return window.memTimeline.itemsData.get()
        .filter(i => i.className === 'tl-event').map(i => [new Date(i.start).toISOString().slice(0, 10), i.content])""")
    assert ["2025-04-12", "12 April"] in starts and ["2025-04-20", "20 April"] in starts, starts
    undated = wait(browser, "#undated-list li", n=2)
    assert {"garden.md", "trip.txt"} <= {li.get_attribute("title").rsplit("/", 1)[-1] for li in undated}
    assert wait(browser, "#undated-title")[0].text.startswith("3 with no date")  # garden, trip, plans: not drawn at ingest time
    t0 = time.time()
    while not browser.execute_script("return window.memTimelineReady === true"):
        assert time.time() - t0 < 10
        time.sleep(0.1)
    time.sleep(0.3)
    # Every label drawn is inside the axis: none is clipped at an edge.
    box = browser.find_element(By.CSS_SELECTOR, "#timeline .vis-center").rect
    for el in browser.find_elements(By.CSS_SELECTOR, ".vis-item.tl-event .vis-item-content"):
        r = el.rect
        assert box["x"] <= r["x"] and r["x"] + r["width"] <= box["x"] + box["width"] + 1, (el.text, r, box)
    next(e for e in events if "12 April" in e.text).click()  # its units are listed
    wait(browser, "li.day-unit", text="tomatoes")
    assert browser.find_element(By.ID, "day-title").text.startswith("2025-04-12")
    # A range: the window the axis shows, here April 2025, and what memory holds in it.
    browser.execute_script("window.memTimeline.setWindow(new Date('2025-04-01'), new Date('2025-04-30'), {animation: false})")
    browser.find_element(By.ID, "in-view").click()
    wait(browser, "#day-title", text="2025-04-01 → 2025-04-30: 2 units")
    assert {"Sowed the tomatoes" in li.text or "Potted on" in li.text for li in browser.find_elements(By.CSS_SELECTOR, "li.day-unit")} == {True}


def test_graph_shows_an_entitys_neighbours_and_an_edges_sentence(page, browser):
    from selenium.webdriver.common.by import By

    opened(browser, page, "graph")
    # It opens on the memory's most connected entities, coloured by type, with a legend.
    wait(browser, "#graph-nodes li", n=3)
    first = browser.execute_script("return window.memGraph.nodes().map(n => [n.data('label'), n.data('type'), n.style('background-color')])")
    assert any(t == "person" for _, t, _ in first), first  # the chat's speakers and people
    assert len({c for _, t, c in first if t}) >= 2  # two types, two colours
    legend = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#graph-legend .legend-item")]
    assert "person" in legend and "place" in legend
    # No two labels overlap: their boxes (as drawn, labels included) are disjoint.
    boxes = browser.execute_script("""return window.memGraph.nodes().map(n => {
        const b = n.boundingBox({includeNodes: false, includeLabels: true, includeEdges: false});
        return [b.x1, b.y1, b.x2, b.y2]; })""")
    clash = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
             if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert not clash, clash
    token = page["url"].split("token=", 1)[1]
    assert "Lisbon" in json.loads(_request(page, "/api/entities?prefix=lis", cookie=token)[1])["names"]
    browser.find_element(By.ID, "graph-q").send_keys("Lisbon")
    browser.find_element(By.CSS_SELECTOR, "#graph-form button").click()
    wait(browser, "#graph-nodes li", n=2)
    names = browser.execute_script("return window.memGraph.nodes().map(n => n.data('label'))")
    assert "Lisbon" in names and len(names) >= 2
    assert wait(browser, "#panel-entity")[0].text == "Lisbon"  # its panel lists the notes that name it
    assert any("trip.txt" in li.get_attribute("title") for li in browser.find_elements(By.CSS_SELECTOR, "#panel-notes li"))
    browser.execute_script("window.memGraph.edges()[0].emit('tap')")
    sentence = wait(browser, "#edge-sentence")[0].text
    assert sentence and browser.execute_script("return window.memGraph.edges()[0].data('text')").strip()


def test_sources_forget_after_confirming(page, browser):
    from selenium.webdriver.common.by import By

    opened(browser, page, "sources")
    rows = wait(browser, "#sources-table tbody tr", n=4)
    assert any("trip.txt" in r.text for r in rows)
    # The failed files come from a second request (/api/status), after which the buttons work.
    failed = wait(browser, "#sources-table tr.failed")
    assert len(failed) == 1 and "broken.pdf" in failed[0].text and "failed:" in failed[0].text
    browser.find_element(By.CSS_SELECTOR, f'#sources-table button.forget[data-uri$="trip.txt"]').click()
    browser.switch_to.alert.dismiss()  # "no": nothing happens
    time.sleep(0.5)
    assert any("trip.txt" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "#sources-table tbody tr"))
    browser.find_element(By.CSS_SELECTOR, f'#sources-table button.forget[data-uri$="trip.txt"]').click()
    browser.switch_to.alert.accept()
    wait(browser, "#forgot", text="trip.txt")
    t0 = time.time()
    while browser.find_elements(By.CSS_SELECTOR, f'#sources-table button.forget[data-uri$="trip.txt"]'):
        assert time.time() - t0 < 10
        time.sleep(0.1)
    uris = [s["uri"] for s in json.loads(mem(page["env"], "sources", "--json").stdout)]
    assert not any(u.endswith("trip.txt") for u in uris)  # the CLI sees the same memory
    assert mem(page["env"], "doctor").returncode == 0


def test_health_shows_doctor_and_the_server(page, browser):
    opened(browser, page, "health")
    wait(browser, "#doctor-ok")
    status = json.loads(wait(browser, "#server-status")[0].text)
    assert status["pid"] == control(page["home"], "status")["pid"]


def _request(page, path, *, host=None, origin=None, cookie=None, method="GET", headers=None, body=None):
    u = urlparse(page["url"])
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    h = {"Host": host or u.netloc, **(headers or {})}
    if origin:
        h["Origin"] = origin
    if cookie:
        h["Cookie"] = f"mem_ui={cookie}"
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    return r.status, r.read()


def test_no_token_a_foreign_host_or_origin_gets_403(page):
    u = urlparse(page["url"])
    token = page["url"].split("token=", 1)[1]
    assert _request(page, "/api/sources", cookie=token)[0] == 200
    assert _request(page, "/api/sources")[0] == 403  # no token
    assert _request(page, "/api/sources", cookie="guess")[0] == 403
    assert _request(page, "/?token=guess")[0] == 403
    assert _request(page, "/api/sources", cookie=token, host=f"attacker.example:{u.port}")[0] == 403  # DNS rebinding
    assert _request(page, "/api/sources", cookie=token, origin="http://attacker.example")[0] == 403
    # A change: the cookie alone is not enough (a form on another site could send it).
    body = json.dumps({"source": str(page["corpus"] / "garden.md")})
    origin = f"http://{u.netloc}"
    assert _request(page, "/api/forget", method="POST", cookie=token, origin=origin, body=body)[0] == 403
    assert _request(page, "/api/forget", method="POST", cookie=token, headers={"X-Mem-Token": token}, body=body)[0] == 403
    status, data = _request(page, "/api/sources", cookie=token)
    assert any(s["uri"].endswith("garden.md") for s in json.loads(data))  # nothing was forgotten
    assert b"access-control-allow-origin" not in _request(page, "/api/sources", cookie=token, origin=origin)[1].lower()


def test_the_page_shows_what_another_process_ingested(page, tmp_path):
    """An ingest in another process (not through the server) commits; the page's next read
    sees it (its Memory notices the new Tantivy commit and table versions)."""
    token = page["url"].split("token=", 1)[1]
    note = tmp_path / "owl.md"
    note.write_text("# Owls\n\nA tawny owl nests in the old oak behind the shed.\n")
    mem({**page["env"], "MEM_NO_SERVER": "1"}, "ingest", str(note))
    status, data = _request(page, "/api/search?q=tawny+owl+oak&k=1", cookie=token)
    assert status == 200 and json.loads(data)["hits"][0]["uri"] == str(note)
