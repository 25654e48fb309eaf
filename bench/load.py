"""Load benchmark: civic's pages under gunicorn vs a bare Flask "hello", measured with wrk.

    python bench/load.py [--db sqlite|postgresql] [--residents 50000] [--duration 10]
                         [--cache-ttl 0]   # 0: measure with the page cache off
                         [--proposals 2000] [--reserve 10000] [--no-vote]

With the vote (the default) the database also holds an open campaign (2,000 projects,
100,000 ballots) and a closed one whose results are published (bench/bulk_load.py --vote),
and the run measures the proposal list of a quartier, a proposal page, the results page and
ballot submission: each POST is a distinct voter who has not voted yet, read by
bench/vote.lua from a file of signed session cookies and CSRF tokens prepared offline
(bench/bulk_load.py --vote-lines). A recorded vote is a 200 with the receipt page; afterwards
the database must hold as many ballots as participations, and as many new ballots as
recorded answers.

Starts gunicorn (2 sync workers, production config) on a freshly migrated and bulk-loaded
database, then a bare Flask app under the same gunicorn config, and measures each page with
wrk on loopback: throughput, its ratio to hello, and p50/p99 latency at the saturating load
and at half of it (wrk's -R is not available in Debian's wrk 4.1, so "half load" paces the same
connections with a Lua delay() to about half the measured throughput). Needs Debian's wrk
(apt-get install wrk); PostgreSQL runs under pg_virtualenv:
    pg_virtualenv -t python bench/load.py --db postgresql
Never run inside CI: it prints figures, it does not assert them.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess  # noqa: S404 - fixed argument lists, no shell
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = 8097


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server did not answer at {url}")


def _gunicorn(app: str, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PORT}", "--access-logfile",
         "/dev/null", "--error-logfile", "-", "--log-level", "warning", app],
        cwd=cwd, env=env)


def _wrk(url: str, connections: int, duration: int, rate: float | None = None,
         votes: str | None = None) -> dict[str, float]:
    """Closed loop at full speed; with ``rate``, each connection waits between requests so the
    whole run offers about ``rate`` requests per second (wrk 4.1 has no -R: a Lua delay()).
    With ``votes`` (a --vote-lines file), the requests are bench/vote.lua's ballot POSTs."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    script = None
    pace = max(1, round(connections / rate * 1000)) if rate else 0
    if votes:
        cmd += ["-s", str(ROOT / "bench" / "vote.lua")]
    elif rate:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(f"function delay() return {max(1, round(connections / rate * 1000))} end\n")
        script.close()
        cmd += ["-s", script.name]
    try:
        tail = ["--", votes, str(pace), "2"] if votes else []
        out = subprocess.run(  # noqa: S603
            [*cmd, url, *tail], capture_output=True, text=True, check=True).stdout
    finally:
        if script:
            os.unlink(script.name)

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result = {"rps": rps, "p50": ms("50"), "p99": ms("99"),
              "requests": int(done.group(1)) if done else 0,
              "errors": int(errors.group(1)) if errors else 0}
    counted = re.search(r"VOTES recorded=(\d+) other=(\d+) exhausted=(\d+) sent=(\d+)", out)
    if counted:
        result.update(zip(("recorded", "other", "exhausted", "sent"),
                          map(int, counted.groups()), strict=True))
    return result


def _cpu_seconds(master_pid: int) -> float:
    """User + system CPU time used so far by the gunicorn workers (children of the master)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return float("nan")
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _measured(server: subprocess.Popen, *args, **kwargs) -> dict[str, float]:  # noqa: ANN002, ANN003
    """_wrk, plus the workers' CPU milliseconds per request answered (wrk's count)."""
    before = _cpu_seconds(server.pid)
    result = _wrk(*args, **kwargs)
    spent = _cpu_seconds(server.pid) - before
    result["cpu_ms"] = 1000 * spent / result["requests"] if result["requests"] else float("nan")
    return result


def _loader(env: dict, *args: str) -> str:
    return subprocess.run(  # noqa: S603
        [str(BIN / "python"), "bench/bulk_load.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True).stdout


def main() -> None:
    """Run the benchmark and print a table."""
    global PORT  # noqa: PLW0603 - one port for the whole run
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--quartiers", type=int, default=20)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8097, help="loopback port (must be free)")
    parser.add_argument("--cache-ttl", type=float, default=None,
                        help="CIVIC_PAGE_CACHE_TTL for the run (0: page cache off)")
    parser.add_argument("--no-vote", action="store_true",
                        help="no campaigns: the pages of the first version only")
    parser.add_argument("--proposals", type=int, default=2_000)
    parser.add_argument("--reserve", type=int, default=10_000,
                        help="residents who have not voted (two ballot POSTs each)")
    args = parser.parse_args()
    PORT = args.port
    with socket.socket() as probe:  # else wrk would silently measure whatever listens there
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        try:
            probe.bind(("127.0.0.1", PORT))
            probe.listen()
        except OSError:
            raise SystemExit(f"port {PORT} is in use: pick another with --port") from None
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="civic-bench-"))
    env = {**os.environ, "CIVIC_ENV": "production", "CIVIC_SECRET_KEY": "bench-secret",
           "FLASK_APP": "app.py", "CIVIC_MAIL_BACKEND": "outbox",
           "CIVIC_PAGE_CACHE_GENERATION_FILE": str(tmp / "page-cache-generation")}
    if not env.get("CIVIC_ENCRYPTION_KEYS"):  # production refuses to start without one
        env["CIVIC_ENCRYPTION_KEYS"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    if args.cache_ttl is not None:
        env["CIVIC_PAGE_CACHE_TTL"] = str(args.cache_ttl)
    if args.db == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    else:
        env["DATABASE_URL"] = "postgresql+psycopg://"
    flask = [str(BIN / "flask")]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,  # noqa: S603
                   capture_output=True)
    subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True,  # noqa: S603
                   capture_output=True)
    t0 = time.perf_counter()
    sizes = ["--residents", str(args.residents), "--quartiers", str(args.quartiers),
             "--reserve", str(args.reserve)]
    vote = [] if args.no_vote else ["--vote", "--proposals", str(args.proposals)]
    print(_loader(env, *sizes, *vote), end="")
    print(f"bulk load: {time.perf_counter() - t0:.1f} s ({args.db})")
    base = f"http://127.0.0.1:{PORT}"
    pages = {
        "home": "/",
        "quartiers page": "/quartiers",
        "login page": "/compte/connexion",
        "API quartiers": "/api/v1/quartiers",
        "API quartier": "/api/v1/quartiers/BEN-03",
    }
    vote_files: list[str] = []
    if not args.no_vote:
        ids = json.loads(_loader(env, *sizes, "--check-votes"))
        before = ids["ballots"]
        pages.update({
            "proposals of a quartier": f"/budget-participatif/campagnes/{ids['open_campaign']}"
                                       f"/propositions?quartier={ids['quartier_id']}",
            "proposal page": f"/budget-participatif/propositions/{ids['proposal_id']}",
            "results page": f"/budget-participatif/campagnes/{ids['closed_campaign']}"
                            "/resultats",
        })
        t1 = time.perf_counter()
        lines_file = tmp / "votes.tsv"
        print(_loader(env, *sizes, "--vote-lines", str(lines_file)), end="")
        lines = lines_file.read_text().splitlines(keepends=True)
        random.Random(8).shuffle(lines)  # noqa: S311 - spreads a voter's two envelopes
        for part in (0, 1):  # full load, then half load: never the same voter twice
            vote_files.append(str(tmp / f"votes-{part}.tsv"))
            Path(vote_files[-1]).write_text("".join(lines[part::2]))
        print(f"vote lines: {len(lines)} in {time.perf_counter() - t1:.1f} s")
    results: dict[str, dict] = {}
    hello = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PORT}", "--access-logfile",
         "/dev/null", "hello_app:app"], cwd=ROOT / "bench", env=env)
    try:
        _wait(base + "/hello")
        results["hello (bare Flask)"] = _measured(hello, base + "/hello", args.connections,
                                                  args.duration)
    finally:
        hello.send_signal(signal.SIGTERM)
        hello.wait()
    server = _gunicorn("app:app", env, ROOT)
    try:
        _wait(base + "/")
        for name, path in pages.items():
            results[name] = _measured(server, base + path, args.connections, args.duration)
            half = _wrk(base + path, args.connections, args.duration,
                        rate=results[name]["rps"] / 2)
            results[name]["p99_half"] = half["p99"]
            results[name]["rps_half"] = half["rps"]
        if vote_files:
            name = "ballot submission"
            results[name] = _measured(server, base + "/", args.connections, args.duration,
                                      votes=vote_files[0])
            half = _wrk(base + "/", args.connections, args.duration,
                        rate=results[name]["rps"] / 2, votes=vote_files[1])
            results[name]["p99_half"] = half["p99"]
            results[name]["rps_half"] = half["rps"]
            recorded = results[name]["recorded"] + half["recorded"]
            after = json.loads(_loader(env, *sizes, "--check-votes"))
            print(f"\nballot submission: full load {results[name]}, half load {half}")
            print(f"ballots before {before}, after {after['ballots']} (+"
                  f"{after['ballots'] - before}), participations {after['participations']}; "
                  f"recorded answers (200 with a receipt) {recorded}")
            print("CHECK ballots == participations:",
                  "OK" if after["ballots"] == after["participations"] else "FAILED")
            # A POST still in flight when wrk stops may be recorded without wrk reading its
            # answer: those are sent - recorded - other, and the only allowed difference.
            in_flight = sum(r["sent"] - r["recorded"] - r["other"]
                            for r in (results[name], half))
            new = after["ballots"] - before
            print(f"CHECK new ballots == recorded answers: {new} vs {recorded},",
                  f"{in_flight} POSTs in flight when wrk stopped:",
                  "OK" if recorded <= new <= recorded + in_flight else "FAILED")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    ref = results["hello (bare Flask)"]["rps"]
    print(f"\n{args.db}: gunicorn -w 2, wrk -t2 -c{args.connections} -d{args.duration}s")
    print("(½ load: the same connections paced to half the measured req/s; its req/s and p99)")
    print("(CPU ms/req: the gunicorn workers' user+system CPU per request answered at full "
          "load; the database server's own is not included)")
    print(f"{'page':22} {'req/s':>8} {'÷hello':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'½ req/s':>8} {'½ p99 ms':>9} {'errors':>6} {'CPU ms/req':>10}")
    for name, r in results.items():
        print(f"{name:22} {r['rps']:8.0f} {r['rps'] / ref:7.2f} {r['p50']:7.1f} {r['p99']:7.1f} "
              f"{r.get('rps_half', float('nan')):8.0f} {r.get('p99_half', float('nan')):9.1f} "
              f"{r['errors']:6d} {r.get('cpu_ms', float('nan')):10.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
