"""`mem ui` as a person waits for it, measured in one run (issue #28's goals).

  served search through the page's API   GET /api/search on the sample corpus, whole HTTP request, p50
  first page load                        chromium (headless) from the address `mem ui` prints to the
                                         page's load event (the token exchange included), p50 of fresh tabs
  graph neighbourhood, 5,000 entities    a home of generated notes naming 5,000 people: submit an entity
                                         to nodes drawn (API + cytoscape layout), p50
  `mem search --explain` overhead        warm in-process search with and without --explain, p50 of the same
                                         queries, same Memory

Goals: API search p50 <= 150 ms, first load <= 300 ms, graph <= 1 s, explain <= +10 %.

    python bench/ui.py [--runs 20]   (needs Debian's chromium + chromium-driver for the browser rows)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEM = [sys.executable, "-m", "memcli"]
QUERIES = ["how much did the hive kit cost", "who called about the swarm", "what prize did the honey win",
           "greenhouse build plan", "tomato seedlings", "varroa treatment", "compost bays", "bee supplies invoice"]


def ui(env: dict) -> str:
    out = subprocess.run(MEM + ["ui", "--no-open", "--json"], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["url"]


def get(url: str, path: str) -> tuple[int, bytes, float]:
    u = urlparse(url)
    token = url.split("token=", 1)[1]
    t = time.perf_counter()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", path, headers={"Host": u.netloc, "Cookie": f"mem_ui={token}"})
    r = c.getresponse()
    body = r.read()
    return r.status, body, time.perf_counter() - t


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=opts)


def first_loads(url: str, runs: int) -> list[float]:
    drv = browser()
    try:
        times = []
        for _ in range(runs):
            drv.delete_all_cookies()
            drv.get("about:blank")
            t = time.perf_counter()
            drv.get(url)  # returns after the load event of the page the exchange redirects to
            drv.execute_script("return document.readyState")
            times.append(time.perf_counter() - t)
        return times
    finally:
        drv.quit()


def graph_home(work: Path, people: int = 5000) -> Path:
    """Notes in which 5,000 generated people meet, live and work (the rules extractor's
    entities and relations): one small note per 10 people."""
    rng = random.Random(5)
    d = work / "people"
    d.mkdir()
    names = [f"{a} {b}" for a in ("Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jon")
             for b in [f"Q{i:03d}son" for i in range(people // 10)]][:people]
    for i in range(0, people, 10):
        lines = [f"# Meeting {i}"]
        for n in names[i:i + 10]:
            other = rng.choice(names)
            lines.append(f"{n} met {other} in Lisbon. {n} works with {rng.choice(names)}.")
        (d / f"m{i:05d}.md").write_text("\n\n".join(lines) + "\n")
    return d


def graph_times(url: str, entities: list[str]) -> list[float]:
    from selenium.webdriver.common.by import By

    drv = browser()
    try:
        drv.get(url)
        times = []
        for name in entities:
            drv.get(url.split("?")[0] + "#graph")
            box = drv.find_element(By.ID, "graph-q")
            box.clear()
            box.send_keys(name)
            t = time.perf_counter()
            drv.find_element(By.CSS_SELECTOR, "#graph-form button").click()
            while not drv.execute_script("return window.memGraph && window.memGraph.nodes().length > 1 && "
                                         "document.getElementById('graph-status').textContent.includes('entities')"):
                time.sleep(0.005)
            times.append(time.perf_counter() - t)
            drv.execute_script("window.memGraph.destroy(); window.memGraph = null;")
        return times
    finally:
        drv.quit()


def explain_overhead(home: Path, runs: int) -> tuple[float, float]:
    from memcli.config import load_settings
    from memcli.memory import Memory

    m = Memory(load_settings({"home": str(home)}))
    for q in QUERIES:
        m.search(q, explain=True)
    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(runs):
        for q in QUERIES:
            for explain in ((False, True) if i % 2 else (True, False)):  # alternate which goes first
                m._retriever._last_query = None  # each search embeds its question (no cache between the two)
                t = time.perf_counter()
                m.search(q, explain=explain)
                times[explain].append(time.perf_counter() - t)
    return statistics.median(times[False]), statistics.median(times[True])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mem-ui-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM_") and k != "CI"}
    env.update({"MEM_HOME": str(work / "home"), "MEM_CONFIG": str(work / "config.yaml"),
                "MEM_ONNX_CACHE": str(work / "onnx"), "HF_HUB_OFFLINE": "1", "MEM_SERVE__AUTOSTART": "false"})
    genv = {**env, "MEM_HOME": str(work / "graph-home"), "MEM_EMBED__MODEL": "fake:64"}
    rows = {}
    try:
        subprocess.run(MEM + ["ingest", "-r", str(ROOT / "recipes" / "sample")], env={**env, "MEM_NO_SERVER": "1"},
                       check=True, capture_output=True)
        url = ui(env)
        for q in QUERIES:
            get(url, f"/api/search?q={quote(q)}&k=10&explain=1")
        api = [get(url, f"/api/search?q={quote(q)}&k=10&explain=1")[2] for _ in range(max(1, args.runs // len(QUERIES) + 1))
               for q in QUERIES]
        rows["API search p50 (sample, k=10, explain)"] = statistics.median(api)
        plain, explained = explain_overhead(work / "home", max(6, args.runs // 2))
        rows["in-process search p50"] = plain
        rows["in-process search --explain p50"] = explained
        have_browser = shutil.which("chromium") and shutil.which("chromedriver")
        if have_browser:
            rows["first page load p50"] = statistics.median(first_loads(url, max(5, args.runs // 2)))
        subprocess.run(MEM + ["serve", "--stop"], env=env, capture_output=True)

        t = time.perf_counter()
        people = graph_home(work)
        subprocess.run(MEM + ["ingest", "-r", "--graph", str(people)], env={**genv, "MEM_NO_SERVER": "1"},
                       check=True, capture_output=True)
        print(f"graph home: 500 notes naming 5,000 people ingested with the graph in {time.perf_counter() - t:.0f} s")
        stats = json.loads(subprocess.run(MEM + ["graph", "stats", "--json"], env={**genv, "MEM_NO_SERVER": "1"},
                                          check=True, capture_output=True, text=True).stdout)
        print(f"graph: {stats.get('entities')} entities, {stats.get('relations')} relations")
        gurl = ui(genv)
        names = ["Ada Q000son", "Ben Q123son", "Eva Q250son", "Jon Q499son", "Lisbon"]
        api_g = [get(gurl, f"/api/graph?entity={quote(n)}")[2] for n in names]
        rows["graph API p50 (5,000-entity home)"] = statistics.median(api_g)
        if have_browser:
            rows["graph neighbourhood drawn p50"] = statistics.median(graph_times(gurl, names))
        subprocess.run(MEM + ["serve", "--stop"], env=genv, capture_output=True)
    finally:
        for e in (env, genv):
            subprocess.run(MEM + ["serve", "--stop"], env=e, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print()
    for name, v in rows.items():
        print(f"  {name:<42} {v * 1000:8.1f} ms")
    over = rows["in-process search --explain p50"] / rows["in-process search p50"] - 1
    print(f"\nAPI search <= 150 ms: {'met' if rows['API search p50 (sample, k=10, explain)'] <= 0.15 else 'NOT met'}; "
          f"first load <= 300 ms: {'met' if rows.get('first page load p50', 9) <= 0.3 else 'NOT met'}; "
          f"graph <= 1 s: {'met' if rows.get('graph neighbourhood drawn p50', 9) <= 1.0 else 'NOT met'}; "
          f"explain overhead {over * 100:+.1f} % (<= +10 %: {'met' if over <= 0.10 else 'NOT met'})")


if __name__ == "__main__":
    main()
