"""A memory home on object storage: every command against a real S3-compatible server
(moto in server mode, started here on localhost), two writers at once, a killed writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import s3server  # noqa: E402

BUCKET = "memcli-test"


@pytest.fixture(scope="module")
def s3():
    """An S3-compatible server on localhost for this module (skipped, with the reason, only
    when moto is not installed: it is in the dev extras)."""
    pytest.importorskip("moto.server", reason="moto[server] (dev extra) provides the S3-compatible test server")
    try:
        proc, endpoint = s3server.start(BUCKET)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def remote_env(s3, tmp_path, monkeypatch) -> dict:
    """A fresh prefix in the bucket; credentials only in the environment, as in real use."""
    env = {**s3server.CREDENTIALS,
           "MEM_HOME": f"s3://{BUCKET}/{uuid.uuid4().hex[:10]}", "MEM_STORAGE__ENDPOINT": s3,
           "MEM_STORAGE__ALLOW_HTTP": "true", "MEM_STORAGE__REGION": "us-east-1",
           "MEM_EMBED__MODEL": "fake:64", "MEM_GRAPH__ENABLED": "true", "MEM_STORAGE__BATCH_FILES": "2",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def _mem(env: dict, cache: str | None = None) -> Memory:
    """A Memory on the remote home; ``cache``: another machine's local cache dir."""
    s = Settings(home=env["MEM_HOME"], embed={"model": "fake:64"}, graph={"enabled": True},
                 storage={"endpoint": env["MEM_STORAGE__ENDPOINT"], "allow_http": True, "region": "us-east-1"},
                 ingest={"lock_timeout_s": 5})
    if cache:
        os.environ["XDG_CACHE_HOME"] = cache
    try:
        return Memory(s, embedder=FakeEmbedder(dim=64), generator=None)
    finally:
        if cache:
            os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]


def _cli(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "memcli", *args], env={**os.environ, **env, "MEM_NO_SERVER": "1"},
                          capture_output=True, text=True, timeout=timeout)


def test_every_command_works_on_a_home_in_a_bucket(remote_env, corpus, tmp_path):
    env = remote_env
    assert _cli(env, "ingest", "-r", str(corpus)).returncode == 0
    hits = json.loads(_cli(env, "search", "tomatoes frost", "--json").stdout)["hits"]
    assert hits and hits[0]["uri"].endswith("garden.md")
    ans = json.loads(_cli(env, "ask", "When do we plant the tomatoes?", "--json").stdout)
    assert "May" in ans["answer"]
    assert _cli(env, "consolidate", "--json").returncode == 0
    doc = _cli(env, "doctor", "--json")
    assert doc.returncode == 0, doc.stdout
    stats = json.loads(_cli(env, "stats", "--json").stdout)
    assert stats["home"] == env["MEM_HOME"] and stats["sources"] == 3
    assert stats["read_cache_bytes"] > 0  # the searches above read this machine's copy
    gone = _cli(env, "forget", str(corpus / "trip.txt"), "--json")
    assert gone.returncode == 0 and len(json.loads(gone.stdout)["forgotten"]) == 1
    assert all(not h["uri"].endswith("trip.txt") for h in json.loads(
        _cli(env, "search", "Lisbon", "--json").stdout)["hits"])
    assert not any((tmp_path / "corpus").glob("*.lance"))  # nothing of the memory on the local disk
    # The tables are in the bucket: a machine with an empty cache sees the same memory.
    other = _cli({**env, "XDG_CACHE_HOME": str(tmp_path / "other-machine")}, "search", "tomatoes frost", "--json")
    assert [h["unit_id"] for h in json.loads(other.stdout)["hits"]] == [h["unit_id"] for h in json.loads(
        _cli(env, "search", "tomatoes frost", "--json").stdout)["hits"]]


def test_another_machine_sees_only_committed_units_and_follows_writes(remote_env, corpus, tmp_path):
    a = _mem(remote_env)
    b = _mem(remote_env, cache=str(tmp_path / "machine-b"))
    assert b.home != a.home  # each machine its own Tantivy cache
    lag = b.settings.storage.consistency_s  # how stale b's reads may be (5 s: each check is a request)
    assert b.search("hive queen", mode="bm25") == []
    a.ingest([corpus], recursive=True)
    assert _eventually(lambda: [h.unit_id for h in b.search("hive queen", mode="bm25")] ==
                       [h.unit_id for h in a.search("hive queen", mode="bm25")], lag + 10)
    a.forget(str(corpus / "garden.md"))
    # b's Tantivy cache follows LanceDB: the forgotten file's units leave b's results too.
    assert _eventually(lambda: all("garden" not in h.uri for h in b.search("hive queen", mode="bm25")), lag + 10)
    report = b.doctor()
    assert report.healthy, [f for f in report.findings if not f.ok]  # (failed once under load, cause not yet seen)


def test_a_warm_search_reads_this_machines_copy_not_the_bucket(remote_env, corpus):
    """The read cache: once caught up, a search within storage.consistency_s reads the copy
    on this machine (here: the bucket's data files are gone, and the answer is the same)."""
    import obstore

    from memcli.store.remote import object_store

    mem = _mem(remote_env)
    mem.ingest([corpus], recursive=True)
    before = [h.unit_id for h in mem.search("grilled sardines Lisbon")]
    entities = mem.graph.stats()["entities"]
    lisbon = mem.graph.show("Lisbon")
    assert before and entities and (mem.home / "mirror" / "units.lance").is_dir()
    lance = object_store(remote_env["MEM_HOME"] + "/lance", mem.settings.storage)
    data = [m["path"] for b in obstore.list(lance) for m in b if "/data/" in m["path"]]
    assert any(p.startswith("units.lance/") for p in data) and any(p.startswith("mentions.lance/") for p in data)
    for p in data:
        obstore.delete(lance, p)
    assert [h.unit_id for h in mem.search("grilled sardines Lisbon")] == before
    assert [h.unit_id for h in mem.search("grilled sardines Lisbon", mode="graph")]
    assert mem.graph.stats()["entities"] == entities
    assert mem.graph.show("Lisbon") == lisbon  # its relations and mentions: rows read from the copy


def _eventually(check, seconds: float) -> bool:
    deadline = time.time() + seconds
    while not check():
        if time.time() > deadline:
            return False
        time.sleep(0.5)
    return True


def test_two_writers_at_once_take_turns_and_lose_nothing(remote_env, tmp_path):
    env = remote_env
    dirs = []
    for w in range(2):
        d = tmp_path / f"notes{w}"
        d.mkdir()
        for i in range(6):
            (d / f"n{i}.md").write_text(f"# Note {w}-{i}\n\nWriter {w} wrote note {i} about lantern {w * 10 + i}.\n")
        dirs.append(d)
    slow = {**env, "MEM_INGEST__LOCK_TIMEOUT_S": "120"}
    procs = [subprocess.Popen([sys.executable, "-m", "memcli", "ingest", str(d), "--json"],
                              env={**os.environ, **slow, "MEM_NO_SERVER": "1",
                                   "XDG_CACHE_HOME": str(tmp_path / f"machine{i}")},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, d in enumerate(dirs)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    m = _mem(env)
    assert len(m.sources()) == 12 and m._lance.count_units("status = 'pending'") == 0
    rep = m.doctor()
    assert rep.healthy, [f for f in rep.findings if not f.ok]
    assert {h.uri.rsplit("/", 2)[-2] for h in m.search("lantern", mode="bm25", k=12)} == {"notes0", "notes1"}


def test_a_second_writer_waits_then_exits_6(remote_env, corpus):
    a = _mem(remote_env)
    a.ingest([corpus], recursive=True)
    with a._lock():
        t0 = time.time()
        p = _cli({**remote_env, "MEM_INGEST__LOCK_TIMEOUT_S": "1", "XDG_CACHE_HOME": remote_env["XDG_CACHE_HOME"] + "-b"},
                 "ingest", "-r", str(corpus))
        assert p.returncode == 6 and "another mem process" in p.stderr, p.stderr
        assert time.time() - t0 < 60


def test_a_writer_killed_mid_ingest_is_recovered_by_the_next_run(remote_env, tmp_path):
    env = remote_env
    d = tmp_path / "many"
    d.mkdir()
    for i in range(60):
        (d / f"note{i:02d}.md").write_text(f"# Note {i}\n\n" + f"Paragraph {i} about bees and the harbour. " * 30)
    # Thirty batches of two files (none grown), so that the kill lands between commits.
    small = {"MEM_STORAGE__BATCH_FILES": "2", "MEM_INGEST__BATCH_UNITS_MAX": "512"}
    p = subprocess.Popen([sys.executable, "-m", "memcli", "ingest", str(d)],
                         env={**os.environ, **env, **small, "MEM_NO_SERVER": "1"}, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    m = _mem(env)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        try:
            if m._lance.sources():
                break  # a batch is committed: the ingest is mid-way
        except Exception:
            pass
        time.sleep(0.05)
    assert p.poll() is None, "the ingest ended before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait()
    again = _cli(env, "ingest", str(d), "--json")
    assert again.returncode == 0, again.stderr
    m = _mem(env)
    assert len(m.sources()) == 60 and m._lance.count_units("status = 'pending'") == 0
    assert m.doctor().healthy
    assert m._lance.committed_ids() == m._lexical.all_ids()


def test_racing_writers_never_hold_the_lock_together(remote_env):
    """Six threads, each its own RemoteLock on one home, take the lock repeatedly: at most
    one holds it at any time (one creator wins each generation)."""
    import threading

    from memcli.store.remote import RemoteLock

    m = _mem(remote_env)
    holding, overlaps, done = [], [], []
    guard = threading.Lock()

    errors = []

    def writer(n: int) -> None:
        try:
            work(n)
        except Exception:  # reported by the assertion below
            import traceback

            errors.append(traceback.format_exc())

    def work(n: int) -> None:
        lock = RemoteLock(m.location, m.settings.storage, timeout=60)
        for _ in range(3):
            lock.acquire()
            with guard:
                holding.append(n)
                if len(holding) > 1:
                    overlaps.append(tuple(holding))
            time.sleep(0.02)
            with guard:
                holding.remove(n)
            lock.release()
            done.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    [t.start() for t in threads]
    [t.join(timeout=120) for t in threads]
    assert not errors, errors[0]
    assert len(done) == 18 and overlaps == []


def test_an_unreachable_bucket_is_a_clear_error(tmp_path):
    """No S3 server at the endpoint: exit 5 and one line that says so, not a traceback."""
    env = {**os.environ, **s3server.CREDENTIALS, "MEM_NO_SERVER": "1", "MEM_HOME": "s3://memcli-test/x",
           "MEM_STORAGE__ENDPOINT": f"http://127.0.0.1:{s3server.free_port()}", "MEM_STORAGE__ALLOW_HTTP": "true",
           "MEM_STORAGE__REGION": "us-east-1", "MEM_EMBED__MODEL": "fake:64", "XDG_CACHE_HOME": str(tmp_path)}
    for args in (["search", "hello"], ["ingest", str(tmp_path)]):
        p = subprocess.run([sys.executable, "-m", "memcli", *args], env=env, capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 5, p.stderr
        assert "cannot reach the memory home s3://memcli-test/x" in p.stderr and "Connection refused" in p.stderr
        assert "internal error" not in p.stderr and len(p.stderr.splitlines()) <= 4


def test_a_local_home_moves_to_the_bucket_and_back(remote_env, mem, corpus, tmp_path):
    """export -> import into s3:// -> export -> import into a local home: the same memory."""
    mem.ingest([corpus], recursive=True)
    mem.export(tmp_path / "local.tar")
    remote = _mem(remote_env)
    assert remote.import_(tmp_path / "local.tar")["units"] == mem._lance.count_units()
    remote.export(tmp_path / "remote.tar")
    back = Memory(Settings(home=tmp_path / "back", embed={"model": "fake:64"}, graph={"enabled": True}),
                  embedder=FakeEmbedder(dim=64))
    back.import_(tmp_path / "remote.tar")
    for m in (remote, back):
        assert m._lance.committed_ids() == mem._lance.committed_ids()
        for q in ("tomatoes frost", "hive queen", "Lisbon"):
            assert [h.unit_id for h in m.search(q)] == [h.unit_id for h in mem.search(q)]
        assert m.doctor().healthy


def test_the_page_serves_a_home_in_a_bucket(remote_env, corpus):
    """`mem ui` on an s3:// home: the resident process serves the page's reads from the bucket
    and its forget goes through the one writer."""
    import http.client
    import json as _json
    from urllib.parse import urlparse

    env = {**os.environ, **remote_env, "MEM_SERVE__AUTOSTART": "false"}
    assert _cli(remote_env, "ingest", "-r", str(corpus)).returncode == 0
    p = subprocess.run([sys.executable, "-m", "memcli", "ui", "--no-open", "--json"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    url = _json.loads(p.stdout)["url"]
    u, token = urlparse(url), url.split("token=", 1)[1]

    def call(path, method="GET", body=None):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        h = {"Host": u.netloc, "Cookie": f"mem_ui={token}"}
        if method == "POST":
            h |= {"Origin": f"http://{u.netloc}", "X-Mem-Token": token, "Content-Type": "application/json"}
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, _json.loads(r.read())

    try:
        status, found = call("/api/search?q=grilled+sardines+Lisbon&k=1")
        assert status == 200 and found["hits"][0]["uri"].endswith("trip.txt")
        status, gone = call("/api/forget", "POST", _json.dumps({"source": str(corpus / "trip.txt")}))
        assert status == 200 and gone["forgotten"][0]["uri"].endswith("trip.txt")
        assert all(not s["uri"].endswith("trip.txt") for s in call("/api/sources")[1])
    finally:
        subprocess.run([sys.executable, "-m", "memcli", "serve", "--stop"], env=env, capture_output=True, timeout=60)
