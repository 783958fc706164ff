"""Measure Portal Switch under load on loopback and print a table. Run it with ``./portal bench``.

Everything runs on this machine: gunicorn serving the wizard (threaded workers), the stand-in
Clickatell, wrk for throughput and latency, and Python threads for whole customer journeys. The load
generator shares the CPU with the server, so read the numbers as relative to each other (that is why
the bare Django view is measured in the same run).
"""

import argparse
import contextlib
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

API_KEY = "BenchRestKeyAAAAAAAAAAA=="
MOBILE = "+27821234567"
RELAXED = {name: "100000000/60" for name in ("PER_SETUP", "PER_IP", "PER_DESTINATION", "PER_API_KEY")}
# How far the machine's pace may move during a run before the table says its ratios don't compare:
# one run of (1) whose pace went from 0.47 s to 0.77 s put the boxes answer at 0.48× and pages at
# 0.53–0.69×, where steady runs measured 0.62–0.68×.
PACE_CHANGE_WARNED = 0.2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str) -> None:
    import requests

    for _ in range(200):
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            # Not listening yet, or a worker still starting on a busy machine.
            time.sleep(0.05)
    raise SystemExit(f"bench: nothing answers at {url}")


class Server:
    """gunicorn on loopback with the given Clickatell stand-in."""

    def __init__(self, env: dict, clickatell_url: str, read_timeout: float = 15):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Kept beside the database: where a row counts errors, the server's log says what they were.
        self.log = open(Path(env["PORTAL_DATA_DIR"]) / f"gunicorn-{self.port}.log", "w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "wizard.wsgi:application",
                "--config",
                "wizard/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            env={
                **env,
                "CLICKATELL_PLATFORM_URL": clickatell_url,
                "CLICKATELL_GATEWAY_URL": clickatell_url,
                "CLICKATELL_READ_TIMEOUT": str(read_timeout),
                "PORTAL_LOG_LEVEL": "WARNING",
            },
        )
        try:
            wait_for(self.url + "/bench/bare/")
        except BaseException:
            self.stop()
            raise

    def _worker_status(self) -> list[tuple[int, str]]:
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            if f"PPid:\t{self.process.pid}\n" in text:
                found.append((int(status.parent.name), text))
        return found

    def worker_rss_mib(self) -> list[float]:
        return [int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024 for _, text in self._worker_status()]

    def worker_cpu_seconds(self) -> float:
        """User + system CPU the workers have used so far (stable, unlike req/s on a shared machine)."""
        total = 0
        for pid, _ in self._worker_status():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# --- wrk ------------------------------------------------------------------------------------------------


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int = 16,
    method: str = "GET",
    body: str = "",
    cookie: str = "",
    csrf: str = "",
) -> dict:
    script = f"wrk.method = {method!r}\n"
    if body:
        script += f"wrk.body = {body!r}\nwrk.headers['Content-Type'] = 'application/x-www-form-urlencoded'\n"
    if cookie:
        script += f"wrk.headers['Cookie'] = {cookie!r}\n"
    if csrf:
        script += f"wrk.headers['X-CSRFToken'] = {csrf!r}\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script.replace("'", '"'))
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", fh.name, url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    os.unlink(fh.name)
    out = result.stdout
    kinds = {"non-2xx/3xx": sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))}
    for kind, n in re.findall(r"(connect|read|write|timeout) (\d+)", out):
        kinds[kind] = kinds.get(kind, 0) + int(n)
    errors = sum(kinds.values())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
        "errors": errors,
        # Which kind, so that a table with errors says where to look.
        "error_kinds": {kind: n for kind, n in kinds.items() if n},
    }


def machine_pace() -> float:
    """Seconds a fixed loop takes (the median of three). This machine's pace changes by the hour (the same
    loop took 0.38 s at one hour and 1.4 s at another, and 0.43–0.79 s within one minute), and the ratios
    in (1) move with it: each table says its run's pace."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        sum(range(3 * 10**7))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


# --- a customer, as a browser without JavaScript would be --------------------------------------------------


class Customer:
    def __init__(self, base: str):
        import requests

        self.base = base
        self.http = requests.Session()

    def _tokens(self, html: str) -> dict:
        tokens = {
            "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        }
        attempt = re.search(r'name="attempt_token" value="([^"]+)"', html)
        if attempt:
            tokens["attempt_token"] = attempt.group(1)
        return tokens

    def post(self, path: str, data: dict, expect: int = 302, form_page: str = ""):
        page = self.http.get(self.base + (form_page or path), timeout=60)
        page.raise_for_status()
        response = self.http.post(
            self.base + path, data={**self._tokens(page.text), **data}, timeout=60, allow_redirects=False
        )
        if response.status_code != expect:
            raise RuntimeError(f"POST {path}: {response.status_code}")
        return response

    def until_test(self) -> str:
        """Choose the app, confirm its boxes, give the key: returns the setup's path prefix."""
        location = self.post("/", {"platform": "novu"}).headers["Location"]
        prefix = location.rsplit("/fields/", 1)[0]
        self.post(f"{prefix}/fields/", {"confirm": "yes"})
        self.post(f"{prefix}/credentials/", {"api_key": API_KEY})
        return prefix

    def journey(self) -> None:
        prefix = self.until_test()
        self.post(f"{prefix}/test/", {"phone": MOBILE})
        page = self.http.get(f"{self.base}{prefix}/test/", timeout=60)
        if "Clickatell accepted the test message" not in page.text:
            raise RuntimeError("test send not accepted")
        self.post(f"{prefix}/test/confirm/", {"arrived": "yes"}, form_page=f"{prefix}/test/")
        if self.http.get(f"{self.base}{prefix}/instructions/", timeout=60).status_code != 200:
            raise RuntimeError("no instructions")


def journeys(base: str, customers: int, seconds: float) -> dict:
    done, errors = [], []
    stop = time.monotonic() + seconds

    def run():
        while time.monotonic() < stop:
            try:
                Customer(base).journey()
                done.append(1)
            except Exception as exc:  # counted, not raised: the table reports errors
                errors.append(repr(exc))

    threads = [threading.Thread(target=run) for _ in range(customers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "per_second": len(done) / (time.monotonic() - started),
        "journeys": len(done),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


# --- the run ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="wrk runs per step and console measure (the median is shown)"
    )
    parser.add_argument("--growth", default="1000,10000,100000", help="setup counts for the console runs")
    parser.add_argument(
        "--parts", default="1,2,3,4,5,6", help="which measures to run, e.g. 5 for growth only"
    )
    args = parser.parse_args()
    if not shutil_which("wrk"):
        raise SystemExit("bench: wrk is missing (./portal bench installs it from Debian)")

    data_dir = tempfile.mkdtemp(prefix="portal-bench-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PORTAL_DATA_DIR": data_dir,
        **{f"PORTAL_LIMIT_{k}": v for k, v in RELAXED.items()},
        "PORTAL_LIMIT_GLOBAL": "100000000/86400",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wizard.catalog.loader import load_catalog
    from wizard.clickatell.sandbox import Sandbox

    call_command("migrate", verbosity=0)
    load_catalog()
    agent_password = secrets.token_urlsafe(16)
    call_command("create_agent", "bench-agent", password=agent_password)
    database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    account = {"username": "bench", "password": "bench", "integrations": {API_KEY: "rest"}, "balance": 1e9}
    clickatell = Sandbox({"accounts": [account], "deliver_after_seconds": 0}).start()
    rows: list[tuple[str, ...]] = []
    pace_before = machine_pace()
    server = Server(env, clickatell.url)
    parts = set(args.parts.split(","))
    try:
        print(f"bench: {database}, gunicorn {server.url}, sandbox {clickatell.url}", file=sys.stderr)
        if "1" in parts:
            measure_steps(env, clickatell.url, rows, args.seconds, args.rounds)
        if "2" in parts:
            measure_journeys(server, rows)
        if "3" in parts:
            measure_overhead(server, clickatell, rows)
        if "5" in parts:
            measure_growth(
                env,
                clickatell.url,
                rows,
                args.seconds,
                args.rounds,
                [int(n) for n in args.growth.split(",")],
                agent_password,
            )
        if "6" in parts:
            rss = server.worker_rss_mib()
            mean = f"{statistics.mean(rss):.0f} MiB"
            rows.append(("6. memory", "per gunicorn worker (RSS)", mean, f"{len(rss)} workers", "", ""))
    finally:
        server.stop()
    if "4" in parts:
        measure_isolation(env, rows, args.seconds)
    clickatell.stop()
    pace_after = machine_pace()
    print(
        f"\nPortal Switch benchmark on {database}, {os.cpu_count()} cores, wrk -t1 -c16 -d{args.seconds}s; "
        f"machine pace (sum(range(3*10**7))): {pace_before:.2f} s before, {pace_after:.2f} s after\n"
    )
    if abs(pace_after - pace_before) > PACE_CHANGE_WARNED * pace_before:
        print(
            "The machine's pace changed during this run: its ratios compare measures made at different "
            "speeds. Run it again for ones to quote.\n"
        )
    print("| measure | what | result | p50 | p99 | errors / note |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nThe servers' logs (warnings and errors): {data_dir}/gunicorn-*.log")


def shutil_which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


@contextlib.contextmanager
def one_worker(env: dict, clickatell_url: str):
    """A one-worker server for throughput comparisons. With two workers, wrk's keep-alive connections
    split unevenly between them, and the same bare view measured 1,300-4,800 req/s from run to run."""
    server = Server({**env, "PORTAL_WORKERS": "1"}, clickatell_url)
    try:
        yield server
    finally:
        server.stop()


def measured(server: Server, path: str, seconds: int, settle: float = 0, **options) -> dict:
    """A wrk run, with the workers' CPU per request: steadier than req/s when wrk shares the cores."""
    cpu_before = server.worker_cpu_seconds()
    run = wrk(server.url + path, seconds=seconds, **options)
    time.sleep(settle)
    run["cpu_ms"] = (server.worker_cpu_seconds() - cpu_before) * 1000 / max(run["rps"] * seconds, 1)
    return run


def summary(runs: list[dict], baseline_rps: float | None = None) -> tuple[str, str, str, str]:
    """Medians of several runs: result (req/s, ratio, CPU per request), p50, p99, and errors."""
    rps = statistics.median(run["rps"] for run in runs)
    ratio = f" ({rps / baseline_rps:.2f}× bare)" if baseline_rps else ""
    return (
        f"{rps:.0f} req/s{ratio}, {statistics.median(run['cpu_ms'] for run in runs):.2f} ms CPU/req",
        f"{statistics.median(run['p50'] for run in runs):.1f} ms",
        f"{statistics.median(run['p99'] for run in runs):.1f} ms",
        _errors(runs),
    )


def _errors(runs: list[dict]) -> str:
    kinds: dict[str, int] = {}
    for run in runs:
        for kind, n in run.get("error_kinds", {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    total = sum(run["errors"] for run in runs)
    return f"{total} ({', '.join(f'{kind} {n}' for kind, n in kinds.items())})" if kinds else f"{total}"


def measure_steps(env: dict, clickatell_url: str, rows: list, seconds: int, rounds: int) -> None:
    with one_worker(env, clickatell_url) as server:
        _measure_steps(server, rows, seconds, rounds)


def _measure_steps(server: Server, rows: list, seconds: int, rounds: int) -> None:
    customer = Customer(server.url)
    prefix = customer.until_test()
    customer.post(f"{prefix}/test/", {"phone": MOBILE})
    csrf = customer.http.cookies["csrftoken"]
    # Every request carries the CSRF cookie a browser holds after its first page (the bare view ignores it).
    cookie = f"csrftoken={csrf}"
    targets = [
        ("bare Django view + minimal template", "/bench/bare/", "GET", ""),
        ("app GET", "/", "GET", ""),
        ("app POST (new setup)", "/", "POST", "platform=novu"),
        ("fields GET", f"{prefix}/fields/", "GET", ""),
        ("fields POST", f"{prefix}/fields/", "POST", "confirm=yes"),
        ("credentials GET", f"{prefix}/credentials/", "GET", ""),
        (
            "credentials POST (encrypts the key)",
            f"{prefix}/credentials/",
            "POST",
            urlencode({"api_key": API_KEY}),
        ),
        ("test GET", f"{prefix}/test/", "GET", ""),
        ("instructions GET", f"{prefix}/instructions/", "GET", ""),
    ]
    # A short run first, so no measure pays for workers loading templates and opening connections.
    wrk(server.url + "/bench/bare/", seconds=2)
    # wrk's keep-alive connections land unevenly on the two workers, so one run can be far off: every
    # target is measured once per round, rounds interleave them, and the table shows each one's median.
    runs = {name: [] for name, *_ in targets}
    for _ in range(rounds):
        for name, path, method, body in targets:
            run = measured(
                server,
                path,
                seconds,
                # Writes queued behind SQLite's lock finish after wrk stops; let them, before the next measure.
                settle=3 if method == "POST" else 0,
                method=method,
                body=body,
                cookie=cookie,
                csrf=csrf if method == "POST" else "",
            )
            runs[name].append(run)
    bare = targets[0][0]
    bare_rps = statistics.median(run["rps"] for run in runs[bare])
    for name, *_ in targets:
        rows.append(("1. steps", name, *summary(runs[name], None if name == bare else bare_rps)))
    rows.append(
        ("1. steps", "test POST", "see 2 and 3", "", "", "single-use form tokens: not replayable by wrk")
    )


def measure_journeys(server: Server, rows: list) -> None:
    for customers in (1, 10, 50):
        result = journeys(server.url, customers, seconds=10)
        rows.append(
            (
                "2. journeys",
                f"{customers} concurrent customers, every step + test send",
                f"{result['per_second']:.1f} journeys/s",
                "",
                "",
                f"{result['errors']} errors of {result['journeys'] + result['errors']} {result['first_error']}",
            )
        )


def measure_overhead(server: Server, clickatell, rows: list, delay: float = 0.2, samples: int = 30) -> None:
    clickatell.state.delay_seconds = delay
    extra = []
    for _ in range(samples):
        customer = Customer(server.url)
        prefix = customer.until_test()
        page = customer.http.get(f"{server.url}{prefix}/test/", timeout=60)
        data = {**customer._tokens(page.text), "phone": MOBILE}
        started = time.perf_counter()
        customer.http.post(f"{server.url}{prefix}/test/", data=data, allow_redirects=False, timeout=60)
        extra.append((time.perf_counter() - started - delay) * 1000)
    clickatell.state.delay_seconds = 0
    extra.sort()
    rows.append(
        (
            "3. overhead",
            f"test-send request time minus the sandbox's fixed {delay * 1000:.0f} ms",
            f"{len(extra)} sends",
            f"{statistics.median(extra):.1f} ms",
            f"{extra[-1]:.1f} ms (max)",
            "",
        )
    )


def measure_isolation(env: dict, rows: list, seconds: int) -> None:
    from wizard.clickatell.sandbox import Sandbox

    account = {"username": "bench", "password": "bench", "integrations": {API_KEY: "rest"}}
    silent = Sandbox({"accounts": [account], "delay_seconds": 3600}).start()
    server = Server(env, silent.url, read_timeout=120)
    try:
        ready = []
        for _ in range(10):
            customer = Customer(server.url)
            prefix = customer.until_test()
            page = customer.http.get(f"{server.url}{prefix}/test/", timeout=60)
            ready.append((customer, prefix, {**customer._tokens(page.text), "phone": MOBILE}))

        def hang(customer, prefix, data):
            # The server is stopped under these requests at the end: their errors are expected.
            with contextlib.suppress(Exception):
                customer.http.post(
                    f"{server.url}{prefix}/test/", data=data, allow_redirects=False, timeout=seconds + 30
                )

        threads = [threading.Thread(target=hang, args=item, daemon=True) for item in ready]
        for thread in threads:
            thread.start()
        time.sleep(1)
        hung = len(silent.received("/messages"))
        result = wrk(server.url + "/", seconds=seconds)
        rows.append(
            (
                "4. isolation",
                f"other customers' app page while {hung} test sends hang",
                f"{result['rps']:.0f} req/s",
                f"{result['p50']:.1f} ms",
                f"{result['p99']:.1f} ms",
                f"{result['errors']}",
            )
        )
    finally:
        silent.stop()  # releases the hung sends first, so gunicorn can stop gracefully
        server.stop()


def measure_growth(
    env: dict,
    clickatell_url: str,
    rows: list,
    seconds: int,
    rounds: int,
    counts: list[int],
    agent_password: str,
) -> None:
    with one_worker(env, clickatell_url) as server:
        _measure_growth(server, rows, seconds, rounds, counts, agent_password)


def _measure_growth(
    server: Server, rows: list, seconds: int, rounds: int, counts: list[int], agent_password: str
) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from wizard.flow.models import Setup
    from wizard.vault.models import StoredSecret

    agent = Customer(server.url)
    agent.post("/console/login/", {"username": "bench-agent", "password": agent_password})
    cookie = "; ".join(f"{k}={v}" for k, v in agent.http.cookies.items())
    # The earlier parts leave thousands of setups of their own (each new-setup POST is one), none of
    # them matching the filtered list: start from none, so that each row holds the setups it names.
    Setup.objects.all().delete()
    for target in counts:
        missing = target - Setup.objects.count()
        while missing > 0:
            batch = min(missing, 5000)
            Setup.objects.bulk_create(
                [Setup(step="test", signature="legacy_http", last_outcome="rejected") for _ in range(batch)],
                batch_size=1000,
            )
            missing -= batch
        if connection.vendor == "postgresql":
            # Give the planner the statistics autovacuum gathers after a load like this one; without
            # them, whether the console's lists were planned well depended on when it got round to it.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Setup._meta.db_table}")
        if connection.vendor == "sqlite":
            # Fold the bulk load's write-ahead log into the database, as SQLite's automatic checkpoints do
            # with everyday writes: otherwise every page read searches a log of tens of thousands of rows.
            wal = Path(connection.settings_dict["NAME"]).with_name(
                Path(connection.settings_dict["NAME"]).name + "-wal"
            )
            print(
                f"bench: {target:,} setups, write-ahead log {wal.stat().st_size / 2**20:.0f} MiB",
                file=sys.stderr,
            )
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        reference = Setup.objects.order_by("pk").values_list("reference", flat=True)[target // 2]
        for name, path in [
            ("list", "/console/"),
            ("list filtered", "/console/?step=test&outcome=rejected&page=3"),
            ("find by code", f"/console/find/?code={reference.lower()}"),
            ("setup page", f"/console/s/{reference}/"),
        ]:
            runs = [measured(server, path, seconds, connections=8, cookie=cookie) for _ in range(rounds)]
            rows.append(("5. growth", f"console {name}, {target:,} setups", *summary(runs)))
    expired = timezone.now() - timedelta(minutes=1)
    StoredSecret.objects.bulk_create(
        [
            StoredSecret(
                owner=f"bench-expired:{n}",
                field="api_key",
                key_id="x",
                nonce=b"0" * 12,
                ciphertext=b"0" * 40,
                expires_at=expired,
            )
            for n in range(100_000)
        ],
        batch_size=2000,
    )
    started = time.perf_counter()
    call_command("purge_expired", stdout=open(os.devnull, "w"))
    rows.append(
        (
            "5. growth",
            "purge_expired on 100,000 expired secrets",
            f"{time.perf_counter() - started:.2f} s",
            "",
            "",
            f"{StoredSecret.objects.count()} left",
        )
    )


if __name__ == "__main__":
    main()
