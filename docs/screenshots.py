"""The screenshots in docs/ui.md: the sample corpus (plus the test suite's small LoCoMo-style
conversation, so that the timeline has sessions) in a fresh home, `mem ui`, headless Debian
chromium. Rerun after changing the page:

    .venv/bin/python docs/screenshots.py        (or: make screenshots)

Given real folders, the timeline and graph shots are taken on those instead (a second home):
the ones in docs/ui.md are the Obsidian help vault and Logseq's docs with its journals
(obsidianmd/obsidian-help, logseq/docs; bench/reader_manifest.json names the commits):

    .venv/bin/python docs/screenshots.py ~/src/obsidian-help ~/src/logseq-docs
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
MEM = [sys.executable, "-m", "memcli"]


def real_home(folders: list[str], env: dict) -> tuple[str, dict]:
    """`mem ui` on a second home holding ``folders`` (ingested with the graph)."""
    work = Path(tempfile.mkdtemp(prefix="mem-shots-real-"))
    env = {**env, "MEM_HOME": str(work / "home"), "MEM_CONFIG": str(work / "config.yaml")}
    subprocess.run(MEM + ["ingest", "-r", "--graph", *folders], env={**env, "MEM_NO_SERVER": "1"}, check=True,
                   capture_output=True)
    url = json.loads(subprocess.run(MEM + ["ui", "--no-open", "--json"], env=env, check=True, capture_output=True,
                                    text=True).stdout)["url"]
    return url, env


def main(real: list[str]) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    work = Path(tempfile.mkdtemp(prefix="mem-shots-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM_") and k != "CI"}
    env.update({"MEM_HOME": str(work / "home"), "MEM_CONFIG": str(work / "config.yaml"), "HF_HUB_OFFLINE": "1",
                "MEM_SERVE__AUTOSTART": "false", "MEM_ONNX_CACHE": str(work / "onnx")})
    local = {**env, "MEM_NO_SERVER": "1"}
    subprocess.run(MEM + ["ingest", "-r", "--graph", str(ROOT / "recipes" / "sample"),
                          str(ROOT / "tests" / "fixtures" / "chat" / "locomo_tiny.json")], env=local, check=True,
                   capture_output=True)
    url = json.loads(subprocess.run(MEM + ["ui", "--no-open", "--json"], env=env, check=True, capture_output=True,
                                    text=True).stdout)["url"]
    os.environ["SE_OFFLINE"] = "true"
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,860", "--hide-scrollbars"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=opts)
    OUT.mkdir(parents=True, exist_ok=True)
    env2 = None
    try:
        drv.get(url)
        base = drv.current_url.split("#")[0]

        def shot(name: str, settle: float = 0.8) -> None:
            time.sleep(settle)
            drv.save_screenshot(str(OUT / f"ui-{name}.png"))
            print(f"docs/img/ui-{name}.png")

        drv.get(base + "#search")
        drv.find_element(By.ID, "q").send_keys("how much did the hive kit cost")
        shot("search")
        drv.get(base + "#ask")
        drv.find_element(By.ID, "ask-q").send_keys("what prize did the honey win?")
        drv.find_element(By.ID, "ask-go").click()
        shot("ask", 1.5)
        drv.find_element(By.CSS_SELECTOR, "li.citation a.open-source").click()
        shot("source")
        drv.get(base + "#health")
        shot("health", 1.5)
        if real:
            url2, env2 = real_home(real, env)
            drv.get(url2)
            base = drv.current_url.split("#")[0]
        drv.get(base + "#timeline")
        shot("timeline", 2.0)
        drv.get(base + "#graph")
        shot("graph-overview", 2.5)  # the most connected entities, before anything is typed
        drv.find_element(By.ID, "graph-q").send_keys("Obsidian Sync" if real else "Maya Lindqvist")
        drv.find_element(By.CSS_SELECTOR, "#graph-form button").click()
        time.sleep(1.5)
        drv.execute_script("window.memGraph && window.memGraph.edges().length && window.memGraph.edges()[0].emit('tap')")
        shot("graph")
    finally:
        drv.quit()
        subprocess.run(MEM + ["serve", "--stop"], env=env, capture_output=True)
        if env2:
            subprocess.run(MEM + ["serve", "--stop"], env=env2, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
