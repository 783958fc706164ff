"""Measure Portal Switch against its speed targets on loopback and print a table. Run it with ``./portal bench``.

Everything runs on this machine: gunicorn serving the wizard in its production configuration (the
defaults of wizard/gunicorn.conf.py), the stand-in Clickatell, wrk, and the simulated customers, which
walk whole journeys from a few processes of threads. The load generator shares the CPU with the server,
so the figures are those of the server and its customers together on these cores.

Each row states its target and whether this run met it; the last line counts them. The script exits 0
whatever the results: it is a report, not a test.
"""

import argparse
import base64
import contextlib
import math
import multiprocessing
import os
import random
import re
import runpy
import secrets
import shutil
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

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

API_KEY = "BenchRestKeyAAAAAAAAAAA=="
MOBILE = "+27821234567"
# Every simulated customer comes from 127.0.0.1 with the same number and key: the abuse budgets (which
# count per client, number and key) would stop the run, so they are opened wide; they are still counted.
RELAXED = {
    name: "100000000/60"
    for name in (
        "PER_SETUP",
        "PER_IP",
        "PER_DESTINATION",
        "PER_API_KEY",
        "NEW_SETUPS_PER_IP",
        "DELIVERY_CHECKS_PER_SETUP",
        "DELIVERY_CHECKS_PER_IP",
    )
}
CUSTOMERS = 50
# Seconds of walking before part 1 starts counting, so that the count starts at full speed.
WARM_UP = 3
# A journey's pauses when its person pauses: before each of its five answers, and on its last page.
PAUSES_PER_JOURNEY = 6

# The targets. Each row of the table names its own, so the numbers live here once.
JOURNEYS_PER_SECOND = 10
LATENCY_P95_MS = 150
OVERHEAD_P50_MS = 15
ISOLATION_P99_MS = 100
GROWTH_RATIO = 2
WORKER_MIB = 150


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str) -> None:
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
        """User + system CPU the workers have used so far (steadier than req/s on a shared machine)."""
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


@contextlib.contextmanager
def one_worker(env: dict, clickatell_url: str):
    """A one-worker server for parts 5 and 7: with two workers, wrk's keep-alive connections split unevenly
    between them, and the same measure varies widely from run to run."""
    server = Server({**env, "PORTAL_WORKERS": "1"}, clickatell_url)
    try:
        yield server
    finally:
        server.stop()


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
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
        "errors": sum(kinds.values()),
        # Which kind, so that a row with errors says where to look.
        "error_kinds": {kind: n for kind, n in kinds.items() if n},
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def measured(server: Server, path: str, seconds: int, settle: float = 0, **options) -> dict:
    """A wrk run, with the workers' CPU per request."""
    cpu_before = server.worker_cpu_seconds()
    run = wrk(server.url + path, seconds=seconds, **options)
    time.sleep(settle)
    run["cpu_ms"] = (server.worker_cpu_seconds() - cpu_before) * 1000 / max(run["rps"] * seconds, 1)
    return run


def _errors(runs: list[dict]) -> str:
    kinds: dict[str, int] = {}
    for run in runs:
        for kind, n in run.get("error_kinds", {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    total = sum(run["errors"] for run in runs)
    return f"{total} ({', '.join(f'{kind} {n}' for kind, n in kinds.items())})" if kinds else f"{total}"


# --- a customer, as a browser without JavaScript would be --------------------------------------------------


class Customer:
    """One person's browser. It fetches a form, pauses `think` seconds while its person fills it in, and
    posts it; a browser follows each answer's redirect at once, and so does the next step's fetch here.
    Every request's start (time.monotonic) and duration (time.perf_counter) go to `timings`."""

    def __init__(self, base: str, think: float = 0, timings: list | None = None):
        self.base = base
        self.think = think
        self.timings = [] if timings is None else timings
        self.http = requests.Session()

    def request(self, method: str, path: str, **options) -> requests.Response:
        started, clock = time.monotonic(), time.perf_counter()
        response = self.http.request(method, self.base + path, timeout=60, allow_redirects=False, **options)
        self.timings.append((started, time.perf_counter() - clock))
        return response

    def get(self, path: str) -> str:
        page = self.request("GET", path)
        if page.status_code != 200:
            raise RuntimeError(f"GET {path}: {page.status_code}")
        return page.text

    @staticmethod
    def tokens(html: str) -> dict:
        tokens = {
            "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        }
        attempt = re.search(r'name="attempt_token" value="([^"]+)"', html)
        if attempt:
            tokens["attempt_token"] = attempt.group(1)
        return tokens

    def post(self, path: str, data: dict, form: str | None = None) -> requests.Response:
        """Submit the form on the page at `path` (fetched first), or on `form`, a page already in hand."""
        html = self.get(path) if form is None else form
        time.sleep(self.think)
        response = self.request("POST", path, data={**self.tokens(html), **data})
        if response.status_code != 302:
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
        result = self.get(f"{prefix}/test/")
        if "Clickatell accepted the test message" not in result:
            raise RuntimeError("test send not accepted")
        self.post(f"{prefix}/test/confirm/", {"arrived": "yes"}, form=result)
        self.get(f"{prefix}/instructions/")


# --- many customers at once ----------------------------------------------------------------------------


def _walk_in_process(base: str, starts: list[float], think: float, until: float, barrier, results) -> None:
    """One load-generating process: a thread per customer, each walking journeys one after another (and
    pausing `think` seconds after each, on the instructions page) until `until` seconds have passed."""
    timings, finished, errors = [], [], []
    barrier.wait()
    began, cpu = time.monotonic(), time.process_time()

    def customer(start: float) -> None:
        time.sleep(start)
        while time.monotonic() < began + until:
            try:
                Customer(base, think, timings).journey()
                finished.append(time.monotonic())
            except Exception as exc:  # counted, not raised: the table reports errors
                errors.append(repr(exc))
            time.sleep(think)

    threads = [threading.Thread(target=customer, args=(start,)) for start in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(
        {"timings": timings, "finished": finished, "errors": errors, "cpu": time.process_time() - cpu}
    )


def walk(base: str, seconds: float, think: float, processes: int, customers: int = CUSTOMERS) -> dict:
    """`customers` walking whole journeys at once, spread over `processes` processes so that one
    interpreter's lock does not hold up the customers' requests (or their clocks). Customers who pause
    arrive one after another over one journey's length, so that at any moment they are at different steps,
    as a crowd is; those who don't all start at once and walk WARM_UP seconds first. Counts the journeys
    finished and the requests started in the `seconds` after that, and every failed journey."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    arrival = PAUSES_PER_JOURNEY * think
    starts = [arrival * n / customers for n in range(customers)]
    before = max(WARM_UP, arrival)
    workers = [
        context.Process(
            target=_walk_in_process,
            args=(base, starts[n::processes], think, before + seconds, barrier, results),
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    counted_from = time.monotonic() + before
    counted_until = counted_from + seconds
    outcomes = [results.get(timeout=before + seconds + 300) for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(
        duration * 1000
        for outcome in outcomes
        for started, duration in outcome["timings"]
        if counted_from <= started < counted_until
    )
    errors = [error for outcome in outcomes for error in outcome["errors"]]
    return {
        "journeys_per_second": sum(
            counted_from <= end < counted_until for outcome in outcomes for end in outcome["finished"]
        )
        / seconds,
        "requests": len(latencies),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        # The load generator's own CPU, in cores: near one per process would mean it held the run back.
        "client_cores": sum(outcome["cpu"] for outcome in outcomes) / (before + seconds),
    }


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- the table --------------------------------------------------------------------------------------------


def row(rows: list, part: int, what: str, result: str, target: str = "", met: bool | None = None) -> None:
    """A row of the table; `met` is None where the row is information, with no target."""
    verdict = "" if met is None else "met" if met else "NOT met"
    rows.append((part, what, result, target or "none (information)", verdict))


def journey_errors(result: dict) -> str:
    return f"{result['errors']} errors" + (f" (first: {result['first_error']})" if result["errors"] else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--parts", default="1,2,3,4,5,6,7", help="which measures to run, e.g. 1,2 for capacity and latency"
    )
    parser.add_argument(
        "--period", type=int, default=30, help="seconds the customers of parts 1 and 2 are counted"
    )
    parser.add_argument(
        "--processes", type=int, default=5, help="processes the 50 customers of parts 1 and 2 are spread over"
    )
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run (parts 4, 5 and 7)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="wrk runs per measure of parts 5 and 7 (the median is shown)"
    )
    parser.add_argument("--growth", default="1000,100000", help="setup counts for the console runs of part 5")
    args = parser.parse_args()
    started = time.monotonic()
    parts = {int(part) for part in args.parts.split(",")}
    if not shutil.which("wrk"):
        raise SystemExit("bench: wrk is missing (./portal bench installs it from Debian)")

    data_dir = tempfile.mkdtemp(prefix="portal-bench-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
        "PORTAL_DATA_DIR": data_dir,
        **{f"PORTAL_LIMIT_{k}": v for k, v in RELAXED.items()},
        "PORTAL_LIMIT_GLOBAL": "100000000/86400",
    }
    # The production configuration is the config file's defaults, whatever this shell sets.
    for name in ("PORTAL_WORKERS", "PORTAL_THREADS"):
        env.pop(name, None)
        os.environ.pop(name, None)
    # Keys from the environment, as in production (docs/operations.md), not the development key file.
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["PORTAL_VAULT_KEYS"] = "bench1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ.update(env)
    gunicorn = runpy.run_path(str(ROOT / "wizard" / "gunicorn.conf.py"))
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
    database = "PostgreSQL + Redis" if connection.vendor == "postgresql" else "SQLite"
    account = {"username": "bench", "password": "bench", "integrations": {API_KEY: "rest"}, "balance": 1e9}
    clickatell = Sandbox({"accounts": [account], "deliver_after_seconds": 0}).start()
    rows: list[tuple] = []
    if parts & {1, 2, 3, 6}:
        server = Server(env, clickatell.url)
        print(f"bench: {database}, gunicorn {server.url}, sandbox {clickatell.url}", file=sys.stderr)
        try:
            if 1 not in parts:
                # Part 1 walks WARM_UP seconds first; without it, the server would meet its first customers
                # cold (every thread opening its database connection) in the rows that follow.
                walk(server.url, WARM_UP, think=0, processes=args.processes)
            if 1 in parts:
                measure_capacity(server, rows, args.period, args.processes)
            if 2 in parts:
                measure_latency(server, rows, args.period, args.processes)
            if 3 in parts:
                measure_overhead(server, clickatell, rows)
            if 6 in parts:
                measure_memory(server, rows)
        finally:
            server.stop()
    if 4 in parts:
        measure_isolation(env, rows, args.seconds)
    if 7 in parts:
        with one_worker(env, clickatell.url) as server:
            measure_steps(server, rows, args.seconds, args.rounds)
    if 5 in parts:
        with one_worker(env, clickatell.url) as server:
            counts = [int(n) for n in args.growth.split(",")]
            measure_growth(server, rows, args.seconds, args.rounds, counts, agent_password)
    clickatell.stop()

    print(
        f"\nPortal Switch benchmark on {database}, {os.cpu_count()} cores; gunicorn's production "
        f"configuration ({gunicorn['workers']} workers × {gunicorn['threads']} threads, {gunicorn['worker_class']}) "
        f"but in parts 5 and 7 (one worker); {time.monotonic() - started:.0f} s in all\n"
    )
    print("| part | measure | result | target | met? |")
    print("|---|---|---|---|---|")
    for part, what, result, target, met in sorted(rows, key=lambda r: r[0]):
        print(f"| {part} | {what} | {result} | {target} | {met} |")
    verdicts = [met for *_, met in rows if met]
    print(f"\nTargets met: {verdicts.count('met')} of {len(verdicts)}.")
    print(f"The servers' logs (warnings and errors): {data_dir}/gunicorn-*.log")


# --- the parts ----------------------------------------------------------------------------------------------


def measure_capacity(server: Server, rows: list, seconds: int, processes: int) -> None:
    """Part 1: how many whole journeys the server completes when customers never pause."""
    result = walk(server.url, seconds, think=0, processes=processes)
    met = result["errors"] == 0 and result["journeys_per_second"] >= JOURNEYS_PER_SECOND
    row(
        rows,
        1,
        f"capacity: {CUSTOMERS} customers at once walking whole journeys without pauses, "
        f"counted for {seconds} s ({processes} processes of customers)",
        f"{result['journeys_per_second']:.1f} journeys/s, {journey_errors(result)} "
        f"(requests p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms; "
        f"load generator {result['client_cores']:.2f} cores)",
        f"0 errors, ≥ {JOURNEYS_PER_SECOND} journeys/s",
        met,
    )


def measure_latency(server: Server, rows: list, seconds: int, processes: int) -> None:
    """Part 2: what a customer waits for each request when 50 quick people use the wizard at once."""
    result = walk(server.url, seconds, think=1, processes=processes)
    met = result["errors"] == 0 and result["p95"] <= LATENCY_P95_MS
    row(
        rows,
        2,
        f"latency: {CUSTOMERS} customers at once walking whole journeys, each pausing 1 s before every answer "
        f"and on the last page; every request counted for {seconds} s ({processes} processes of customers)",
        f"p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms over "
        f"{result['requests']} requests; {journey_errors(result)} "
        f"({result['journeys_per_second']:.1f} journeys/s)",
        f"p95 ≤ {LATENCY_P95_MS} ms, 0 errors",
        met,
    )


def measure_overhead(server: Server, clickatell, rows: list, delay: float = 0.2, samples: int = 30) -> None:
    """Part 3: the wizard's own time on a test send, against a Clickatell that takes a fixed time."""
    clickatell.state.delay_seconds = delay
    extra = []
    for _ in range(samples):
        customer = Customer(server.url)
        prefix = customer.until_test()
        data = {**customer.tokens(customer.get(f"{prefix}/test/")), "phone": MOBILE}
        started = time.perf_counter()
        customer.request("POST", f"{prefix}/test/", data=data)
        extra.append((time.perf_counter() - started - delay) * 1000)
    clickatell.state.delay_seconds = 0
    p50 = statistics.median(extra)
    row(
        rows,
        3,
        f"test-send overhead: request time minus the sandbox's fixed {delay * 1000:.0f} ms",
        f"p50 {p50:.1f} ms, max {max(extra):.1f} ms over {len(extra)} sends",
        f"p50 < {OVERHEAD_P50_MS} ms",
        p50 < OVERHEAD_P50_MS,
    )
    # Where that time goes: the call to Clickatell as the wizard's own client timed it (its session, the
    # connection, the request and the stand-in's answer); the rest is the request's way through gunicorn
    # and Django, and the wizard's work around the call.
    from wizard.flow.models import TestAttempt

    calls = TestAttempt.objects.order_by("-pk").values_list("duration_ms", flat=True)[:samples]
    call = statistics.median(calls) - delay * 1000
    row(
        rows,
        3,
        "test-send overhead, for reference: of it, the Clickatell call beyond the fixed delay, as the "
        "wizard's client timed it (whole milliseconds)",
        f"p50 {call:.0f} ms; the rest (gunicorn, Django, the wizard's work around the call) "
        f"about {p50 - call:.0f} ms",
    )


def measure_isolation(env: dict, rows: list, seconds: int) -> None:
    """Part 4: other customers' pages while ten test sends hang on a Clickatell that never answers."""
    from wizard.clickatell.sandbox import Sandbox

    account = {"username": "bench", "password": "bench", "integrations": {API_KEY: "rest"}}
    silent = Sandbox({"accounts": [account], "delay_seconds": 3600}).start()
    server = Server(env, silent.url, read_timeout=120)
    try:
        ready = []
        for _ in range(10):
            customer = Customer(server.url)
            prefix = customer.until_test()
            ready.append(
                (customer, prefix, {**customer.tokens(customer.get(f"{prefix}/test/")), "phone": MOBILE})
            )

        # The same load with nothing hanging, for information: the wrk run saturates two cores, so its
        # p99 follows the machine's pace; the difference between the two rows is what the hung sends cost.
        alone = wrk(server.url + "/", seconds=seconds)
        row(
            rows,
            4,
            "isolation, for reference: the same app page (wrk, 16 connections) with no test send hanging",
            f"p99 {alone['p99']:.1f} ms (p50 {alone['p50']:.1f} ms, {alone['rps']:.0f} req/s); "
            f"{_errors([alone])} errors",
        )

        def hang(customer, prefix, data):
            # The server is stopped under these requests at the end: their errors are expected.
            with contextlib.suppress(Exception):
                customer.http.post(
                    f"{server.url}{prefix}/test/", data=data, allow_redirects=False, timeout=seconds + 30
                )

        for item in ready:
            threading.Thread(target=hang, args=item, daemon=True).start()
        # Measure only once every send has reached Clickatell and hangs there (a busy machine may take a while).
        for _ in range(100):
            hung = len(silent.received("/messages"))
            if hung == len(ready):
                break
            time.sleep(0.1)
        result = wrk(server.url + "/", seconds=seconds)
        row(
            rows,
            4,
            f"isolation: other customers' app page (wrk, 16 connections) while {hung} test sends hang",
            f"p99 {result['p99']:.1f} ms (p50 {result['p50']:.1f} ms, {result['rps']:.0f} req/s); "
            f"{_errors([result])} errors",
            f"p99 < {ISOLATION_P99_MS} ms, 0 errors",
            result["p99"] < ISOLATION_P99_MS and result["errors"] == 0,
        )
    finally:
        silent.stop()  # releases the hung sends first, so gunicorn can stop gracefully
        server.stop()


def measure_memory(server: Server, rows: list) -> None:
    """Part 6: the workers' resident memory once they have served the parts before it."""
    rss = server.worker_rss_mib()
    row(
        rows,
        6,
        "memory per gunicorn worker (RSS), once it has served parts 1-3 (or a warm-up)",
        f"largest {max(rss):.0f} MiB, mean {statistics.mean(rss):.0f} MiB over {len(rss)} workers",
        f"< {WORKER_MIB} MiB",
        max(rss) < WORKER_MIB,
    )


def measure_steps(server: Server, rows: list, seconds: int, rounds: int) -> None:
    """Part 7, information: the one worker's CPU per request of each step, beside that of a bare Django
    view rendering a minimal template, measured the same way in the same run."""
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
    # A short run first, so no measure pays for the worker loading templates and opening connections.
    wrk(server.url + "/bench/bare/", seconds=2)
    # Rounds interleave the steps, so that a change in the machine's pace spreads over all of them.
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
    bare_cpu = statistics.median(run["cpu_ms"] for run in runs[bare])
    for name, *_ in targets:
        cpu = statistics.median(run["cpu_ms"] for run in runs[name])
        row(
            rows,
            7,
            f"CPU per request, one worker: {name}",
            f"{cpu:.2f} ms CPU/req"
            + ("" if name == bare else f" ({cpu / bare_cpu:.1f}× the bare view's)")
            + "; "
            f"{statistics.median(run['rps'] for run in runs[name]):.0f} req/s, "
            f"p50 {statistics.median(run['p50'] for run in runs[name]):.1f} ms; {_errors(runs[name])} errors",
        )
    row(rows, 7, "CPU per request: test POST", "not measured: its form tokens are single-use (see parts 1-3)")


def measure_growth(
    server: Server, rows: list, seconds: int, rounds: int, counts: list[int], agent_password: str
) -> None:
    """Part 5: each console page's time, one request at a time, as the setups grow from the first count to
    the last; and purge_expired on 100,000 expired secrets, for information. The setups are spread over
    the last 90 days, each with a refused test send, so the insights page counts every one of them."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from wizard.flow.models import Setup, TestAttempt
    from wizard.vault.models import StoredSecret

    agent = Customer(server.url)
    agent.post("/console/login/", {"username": "bench-agent", "password": agent_password})
    # The second factor, as the agent's authenticator app would give it.
    device = TOTPDevice.objects.create(
        user=get_user_model().objects.get(username="bench-agent"), name="bench"
    )
    agent.post("/console/login/code/", {"code": f"{totp(device.bin_key):06d}"})
    cookie = "; ".join(f"{k}={v}" for k, v in agent.http.cookies.items())
    # The earlier parts leave setups of their own (each new-setup POST is one), none of them matching the
    # filtered list: start from none, so that each measure holds the setups it names.
    Setup.objects.all().delete()
    times: dict[str, list[float]] = {}
    errors: dict[str, list[dict]] = {}
    for target in counts:
        missing = target - Setup.objects.count()
        while missing > 0:
            batch = min(missing, 5000)
            now = timezone.now()
            started = [now - timedelta(seconds=random.randrange(90 * 86400)) for _ in range(batch)]  # noqa: S311
            created = Setup.objects.bulk_create(
                [
                    Setup(
                        step="test",
                        signature="legacy_http",
                        last_outcome="rejected",
                        created_at=at,
                        app_chosen_at=at,
                        fields_confirmed_at=at,
                        credentials_first_saved_at=at,
                        first_test_sent_at=at,
                    )
                    for at in started
                ],
                batch_size=1000,
            )
            TestAttempt.objects.bulk_create(
                [
                    TestAttempt(
                        setup=setup,
                        signature="legacy_http",
                        destination_masked="+278…567",
                        status="rejected",
                        error_code="001",
                        diagnosis_key="legacy:001",
                        started_at=setup.created_at,
                    )
                    for setup in created
                ],
                batch_size=1000,
            )
            missing -= batch
        if connection.vendor == "postgresql":
            # Give the planner the statistics autovacuum gathers after a load like this one; without
            # them, whether the console's lists were planned well depended on when it got round to it.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            # Fold the bulk load's write-ahead log into the database, as SQLite's automatic checkpoints do
            # with everyday writes: otherwise every page read searches a log of the whole load.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        reference = Setup.objects.order_by("pk").values_list("reference", flat=True)[target // 2]
        for name, path in [
            ("list", "/console/"),
            ("list filtered", "/console/?step=test&outcome=rejected&page=3"),
            ("find by code", f"/console/find/?code={reference.lower()}"),
            ("setup page", f"/console/s/{reference}/"),
            ("insights, 90 days", "/console/insights/?period=90"),
        ]:
            # One connection: the p50 is the page's own time, not a queue's.
            runs = [
                wrk(server.url + path, seconds=seconds, connections=1, cookie=cookie) for _ in range(rounds)
            ]
            times.setdefault(name, []).append(statistics.median(run["p50"] for run in runs))
            errors.setdefault(name, []).extend(runs)
    for name, found in times.items():
        ratio = found[-1] / found[0]
        row(
            rows,
            5,
            f"console growth: {name}, {counts[0]:,} → {counts[-1]:,} setups",
            " → ".join(f"{ms:.1f}" for ms in found)
            + f" ms (p50, one request at a time): {ratio:.2f}×; {_errors(errors[name])} errors",
            f"≤ {GROWTH_RATIO}× its time at {counts[0]:,}",
            ratio <= GROWTH_RATIO,
        )
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
    row(
        rows,
        5,
        "purge_expired on 100,000 expired secrets",
        f"{time.perf_counter() - started:.2f} s, {StoredSecret.objects.count()} left",
    )


if __name__ == "__main__":
    main()
