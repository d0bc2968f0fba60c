#!/usr/bin/env python3
"""Benchmark of releasemgr over HTTP, against the machine's own ceilings.

What it measures (every figure comes from this run; nothing is hard-coded):

  C0   GET /bench/nginx: nginx answering by itself (the HTTP ceiling)
  C1   GET /healthz: a FastCGI round trip with no storage work
  W1   GET /services for one explicit system version, over and over
       (answered from nginx's cache)
  W2   GET /services for a random one of V system versions (V = 10,000)
       of an environment of 100 services; W2u the same through a bench-only
       location that bypasses nginx's cache, so the workers answer each one
  W3   GET /status of that environment
  W4   POST /deploy, every request a change, durable commits (the default)
  W4k  W4 with the key a careful watcher sends on every report: a unique
       eventId (36 bytes, a UUID's shape) and a sequence, so that each
       deploy also reads and writes its eventId's record; its runs
       alternate with W4's, on the same server, in an environment of its
       own
  W5   POST /deploy, every request the same unchanged deploy
  W6   W4 on a second, fresh server with durable_commits = no
  W2u-on, W2u-off, W4-on, W4-off
       W2u and W4 on two more fresh servers seeded alike, one with the
       metrics on (the default), one with metrics = no, alternating
  S2   an environment of 10,000 services: its newest version asked for
       explicitly, over and over (repeats, kept by nginx's cache), its
       current list (S2c: never cached, so a worker answers each one; S2u
       the same through the bench-only location), and single requests for
       explicit versions never read before
  S4   VmRSS of every worker at start and at the end; bytes of the *.db
       files per system version once V versions are seeded, with every
       file and without those of reports (audit.db, events.db), and
       audit.db's bytes per report
  H1   GET /systemversions (a page of 50) of an environment of 100,000
       versions, from the newest and from the middle: single requests
       timed at the client (seeded on the W6 server, whose commits are not
       flushed: reads do not depend on it)
  CW2m, CW2r, CW4m, CW4r
       a group of three sites on this machine (tests/e2e/test_cluster.py's):
       W2u's reads at its master and at a replica, alternating; W4's
       deploys sent to its master and to a replica (which hands them to
       the master), alternating; reported as ratios of each other and of
       the single-site W4
  S1, S3, S4, S5, H1 of the store itself: build/store_bench's KEY VALUE UNIT lines
       (S5: the bytes on disk of reports each with an eventId and a sequence);
       then cgi-bin/releasemgr-admin export and verify, timed on the S3 store
       store_bench leaves

How: the servers are started through tests/e2e/harness.py (the real
launcher, nginx and pool, on 127.0.0.1 in temporary directories) with the
default configuration (conf/releasemgr.conf, as `make run` uses), plus an
nginx include holding the bench-only locations. Every workload is run with
wrk (2 threads, 32 connections, 10 s, 3 runs) and a Lua done() hook
(tests/bench/report.lua) printing the latency percentiles in microseconds
and the error counts; the report gives the medians over the runs. Around
each W4/W4k/W6 run, db5.3_stat gives Berkeley DB's counts of commits and log
flushes (fsyncs). Seeding uses 16 Python threads with keep-alive
connections. Everything started is stopped at the end, on errors and on
Ctrl-C or SIGTERM too.

  python3 tests/bench/bench.py [--store-bench build/store_bench]
      [--admin cgi-bin/releasemgr-admin] [--out docs/benchmarks.md]
      [--duration S] [--runs N] [--quick]

--quick (2 s, 1 run, 1,000 versions and services) is a smoke test of the
program itself, well under a minute; its figures are not the benchmark.
"""

import argparse
import datetime
import http.client
import itertools
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests', 'e2e'))
import harness  # noqa: E402  (the e2e fixture: the real launcher)
from test_cluster import Cluster  # noqa: E402  (three sites of a group)

WRK_THREADS = 2
WRK_CONNECTIONS = 32
WRK_TIMEOUT = '10s'            # a request slower than this is a socket error
SEED_THREADS = 16
SEED_TIMEOUT = 900.0          # seconds for one seeding
SERVICES = 100                # services of the W2 environment and of W4/W6
COLD_READS = 7                # S2: single requests, each a new version
STORE_BENCH_TIMEOUT = 1800.0
ADMIN_TIMEOUT = 600.0          # seconds for releasemgr-admin export or verify

ENV_W2, ENV_W4, ENV_W5, ENV_S2 = 'bench-w2', 'bench-w4', 'bench-w5', 'bench-s2'
ENV_W4K = 'bench-w4k'
ENV_H1 = 'bench-h1'

_wrk_base = itertools.count(1)   # distinct version spaces for deploy runs


# --------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------

def command_output(args, timeout=30):
    """stdout + stderr of a command, stripped ('' if it cannot run)."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        return (done.stdout + done.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def machine_info(directory):
    cpu = 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    with open('/proc/meminfo') as f:
        mem_kib = int(re.search(r'MemTotal:\s+(\d+)', f.read()).group(1))
    df_lines = command_output(['df', '-T', directory]).splitlines()
    df = df_lines[-1].split() if len(df_lines) > 1 else ['?'] * 7
    return [
        ('CPU', cpu),
        ('cores (online)', str(os.cpu_count())),
        ('RAM', '%.1f GiB' % (mem_kib / 1048576)),
        ('kernel', platform.release()),
        ('nginx', command_output(['nginx', '-v'])),
        ('wrk', command_output(['wrk', '-v']).splitlines()[0] if shutil.which('wrk') else '-'),
        ('temporary directory', '%s: %s on %s (%s)' % (directory, df[1], df[0], df[-1])),
    ]


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------

def write_nginx_include(path, data_dir):
    """The bench-only locations: C0's /bench/nginx; W2u's uncached
    /services; and W4k's /bench/deploy-keyed, POST /deploy as
    conf/nginx-site.conf has it, whose answer also carries the request's
    Bench-Service header back, so that deploy.lua knows which service's
    report was answered (every fastcgi_param of conf/nginx-site.conf
    re-declared in the last two, since declaring one in a location drops
    the inherited ones)."""
    with open(os.path.join(REPO_ROOT, 'conf', 'nginx-site.conf')) as f:
        params = re.findall(r'^\s*fastcgi_param\s+(\S+)\s+(.+?);', f.read(), re.M)

    def pool_location(location, uri, extra):
        overrides = {'DOCUMENT_URI': uri, 'REQUEST_URI': uri + '$is_args$args'}
        return (['location = %s {' % location] + ['    ' + line for line in extra] +
                ['    fastcgi_pass unix:%s/run/releasemgr.sock;' % data_dir] +
                ['    fastcgi_param %s %s;' % (name, overrides.get(name, value))
                 for name, value in params] + ['}'])

    lines = ['location = /bench/nginx { return 200 "ok\\n"; }']
    lines += pool_location('/bench/services-uncached', '/services', [])
    # deploy_rate is 0 in the configuration benchmarked: /deploy's limit_req
    # counts nothing, but runs; so does this one
    lines += pool_location('/bench/deploy-keyed', '/deploy', [
        'limit_req zone=releasemgr_deploy burst=100 nodelay;',
        'add_header Bench-Service $http_bench_service always;'])
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def start_server(label, tmp, config=None):
    server = harness.Server(label='bench-' + label, config=config,
                            nginx_include=os.path.join(tmp, label + '.nginx.conf'))
    write_nginx_include(server.nginx_include, server.data_dir)
    return server.start()


def status_version(server, environment):
    resp = server.request('GET', '/status?environment=' + environment)
    if resp.status != 200:
        raise RuntimeError('GET /status?environment=%s: %s' % (environment, resp.describe()))
    return json.loads(resp.body)['systemVersion']


def seed(server, bodies):
    """POST every body of `bodies` to /deploy from SEED_THREADS threads, each
    on its own keep-alive connection; returns the seconds it took."""
    bodies = list(bodies)
    lock = threading.Lock()
    nxt = itertools.count()
    failures = []
    deadline = time.monotonic() + SEED_TIMEOUT

    def post(conn, body):
        for attempt in (1, 2):   # a deploy sent twice changes nothing
            try:
                conn.request('POST', '/deploy', body, {'Content-Type': 'application/json'})
                resp = conn.getresponse()
                data = resp.read()
                if resp.status == 200:
                    return
                failures.append('HTTP %d %r' % (resp.status, data[:200]))
                return
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if attempt == 2:
                    failures.append(repr(exc))

    def worker():
        conn = http.client.HTTPConnection(harness.HOST, server.port, timeout=30)
        try:
            while not failures and time.monotonic() < deadline:
                with lock:
                    index = next(nxt)
                if index >= len(bodies):
                    return
                post(conn, bodies[index])
        finally:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(SEED_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 1)
    if failures or any(t.is_alive() for t in threads):
        raise RuntimeError('seeding failed: %s' % (failures[:3] or 'timed out'))
    return time.monotonic() - started


def deploy_body(service, version, environment):
    return json.dumps({'name': service, 'version': version, 'environment': environment})


def seed_versions(server, environment, versions):
    """`versions` deploys, each a change (versions unique per service),
    round-robin over SERVICES services; checks the result; returns seconds."""
    seconds = seed(server, (deploy_body('svc-%03d' % (i % SERVICES), i // SERVICES + 1,
                                        environment) for i in range(versions)))
    got = status_version(server, environment)
    if got != versions:
        raise RuntimeError('%s has system version %d after %d changes' % (environment, got, versions))
    return seconds


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------

def run_wrk(url, script, script_args, duration):
    """One wrk run; returns the figures of tests/bench/report.lua."""
    args = ['wrk', '-t%d' % WRK_THREADS, '-c%d' % WRK_CONNECTIONS, '-d%ds' % duration,
            '--timeout', WRK_TIMEOUT, '-s', os.path.join(HERE, script), url]
    if script_args:
        args += ['--'] + [str(a) for a in script_args]
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    figures = {key: int(value) for key, value in
               re.findall(r'^BENCH (\w+) (-?\d+)$', done.stdout, re.M)}
    if done.returncode != 0 or 'p99_us' not in figures:
        raise RuntimeError('wrk failed (%d): %s %s' % (done.returncode, done.stdout, done.stderr))
    figures['rps'] = figures['requests'] / (figures['duration_us'] / 1e6)
    figures['socket_errors'] = sum(figures[k] for k in ('connect_errors', 'read_errors',
                                                        'write_errors', 'timeouts'))
    figures['bad_status'] = max(figures['status_errors'], figures['non200'])
    # deploys answered 200 whose Deploy-Outcome was not the one expected
    figures['unexpected'] = figures.get('unexpected', 0)
    return figures


class Workload:
    """One workload of wrk runs: its name and what it does, where it is
    sent, with which Lua script and arguments. probe(), when given,
    returns counters read before and after each run (their differences
    are kept in each run as delta_<counter>)."""

    def __init__(self, name, what, server, path, script='report.lua', script_args=(),
                 probe=None):
        self.name, self.what, self.server, self.path = name, what, server, path
        self.script, self.script_args, self.probe = script, script_args, probe
        self.runs = []

    def run(self, duration):
        """One wrk run; its figures are kept and returned."""
        url = 'http://%s:%d%s' % (harness.HOST, self.server.port, self.path)
        before = self.probe() if self.probe else {}
        args = self.script_args() if callable(self.script_args) else self.script_args
        figures = run_wrk(url, self.script, args, duration)
        after = self.probe() if self.probe else {}
        for key in before:
            figures['delta_' + key] = after[key] - before[key]
        self.runs.append(figures)
        return figures

    def result(self):
        """The medians and sums over the runs, as results keeps them."""
        return {
            'what': self.what, 'runs': self.runs,
            'rps': statistics.median(r['rps'] for r in self.runs),
            'p50_us': statistics.median(r['p50_us'] for r in self.runs),
            'p99_us': statistics.median(r['p99_us'] for r in self.runs),
            'bad_status': sum(r['bad_status'] for r in self.runs),
            'socket_errors': sum(r['socket_errors'] for r in self.runs),
        }


def measure_alternating(results, workloads, duration, runs, warm=False):
    """`runs` rounds, each one wrk run of every workload in turn, into
    results: workloads compared with each other meet the same machine
    and the same store, not one the later of two minutes. With warm, each
    workload first has an unmeasured run of a few seconds, and every
    other round goes through them in the reverse order, so that none is
    always the one after a seed or after a pause."""
    for workload in workloads:
        print('%-4s %s' % (workload.name, workload.what), flush=True)
    if warm:
        for workload in workloads:
            workload.run(min(duration, 3))
            workload.runs.pop()
    for index in range(runs):
        print('  round %d:' % (index + 1), end='', flush=True)
        for workload in (workloads[::-1] if warm and index % 2 else workloads):
            print(' %s %.0f/s' % (workload.name, workload.run(duration)['rps']),
                  end='', flush=True)
        print()
    for workload in workloads:
        results[workload.name] = workload.result()


def measure(results, name, what, server, path, duration, runs, script='report.lua',
            script_args=(), probe=None):
    """`runs` wrk runs of one workload into results[name] (Workload says
    what the arguments are)."""
    workload = Workload(name, what, server, path, script, script_args, probe)
    print('%-4s %s' % (name, what), end='', flush=True)
    for _ in range(runs):
        print(' %.0f/s' % workload.run(duration)['rps'], end='', flush=True)
    print()
    results[name] = workload.result()


def db_stat(data_dir):
    """Berkeley DB's counters: commits (-t), log writes and flushes (-l)."""
    home = os.path.join(data_dir, 'db')
    text = ''
    for flag in ('-t', '-l'):
        done = subprocess.run(['db5.3_stat', '-h', home, flag], capture_output=True,
                              text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError('db5.3_stat %s: %s' % (flag, done.stderr.strip()))
        text += done.stdout

    def count(label):
        match = re.search(r'^(\d+)(M?)\t%s$' % re.escape(label), text, re.M)
        if not match:
            raise RuntimeError('db5.3_stat printed no %r line:\n%s' % (label, text))
        return int(match.group(1)) * (1000000 if match.group(2) else 1)

    return {'commits': count('Number of transactions committed'),
            'log_writes': count('Total log file I/O writes'),
            'log_flushes': count('Total log file flushes')}


def audit_entries(server, environment):
    """The id of the newest entry of environment's audit log: the reports
    it answered, while none has expired."""
    resp = server.request('GET', '/events?limit=1&environment=' + environment)
    if resp.status != 200:
        raise RuntimeError('GET /events?environment=%s: %s' % (environment, resp.describe()))
    entries = json.loads(resp.body)
    return entries[0]['id'] if entries else 0


def deploy_probe(server, environment):
    def probe():
        counters = db_stat(server.data_dir)
        counters['version'] = status_version(server, environment)
        return counters
    return probe


def deploy_args(environment, mode):
    return lambda: [environment, SERVICES, mode, next(_wrk_base) * 10 ** 11, WRK_THREADS]


def cold_reads(server, environment, versions):
    """Milliseconds of single GETs, each on a new connection, for explicit
    versions nothing has read yet (timed at the client)."""
    times = []
    for n in versions:
        started = time.perf_counter()
        resp = server.services(n, environment)
        times.append((time.perf_counter() - started) * 1000)
        if resp.status != 200:
            raise RuntimeError('cold read of %d: %s' % (n, resp.describe(100)))
    return times


def history_reads(server, environment, before, count=20):
    """Milliseconds of single GET /systemversions (a page of 50), each on a
    new connection, from the newest version (before=None) or below before."""
    times = []
    path = '/systemversions' + harness.query(environment=environment, limit=50,
                                             before=before)
    for _ in range(count):
        started = time.perf_counter()
        resp = server.request('GET', path)
        times.append((time.perf_counter() - started) * 1000)
        if resp.status != 200 or len(resp.json()) != 50:
            raise RuntimeError('history page: %s' % resp.describe(100))
    return times


def worker_memory(server):
    """{pid: {VmRSS, RssAnon, RssFile, RssShmem in MiB}} of every rm-worker."""
    memory = {}
    for pid in server.worker_pids():
        with open('/proc/%d/status' % pid) as f:
            fields = dict(re.findall(r'^(VmRSS|RssAnon|RssFile|RssShmem):\s+(\d+) kB', f.read(), re.M))
        memory[pid] = {k: int(v) / 1024 for k, v in fields.items()}
    return memory


REPORT_FILES = ('audit.db', 'events.db')   # not the history's own


def db_file_bytes(data_dir):
    """{name: bytes} of every *.db file of the store."""
    home = os.path.join(data_dir, 'db')
    return {name: os.path.getsize(os.path.join(home, name))
            for name in sorted(os.listdir(home)) if name.endswith('.db')}


def run_store_bench(path, admin, quick):
    """build/store_bench's KEY VALUE UNIT lines, then the times of admin's export and
    verify on the S3 store it leaves; or (lines or None, why not)."""
    if not path or not os.access(path, os.X_OK):
        return None, '%s is missing: no store-level figures (build it, then rerun)' % path
    print('store_bench %s' % path, flush=True)
    # store_bench keeps its directory under ours, which is removed whatever happens
    tmp = tempfile.mkdtemp(prefix='releasemgr-store-bench-')
    try:
        try:
            done = subprocess.run([path, '--keep'] + (['--quick'] if quick else []),
                                  capture_output=True, text=True, timeout=STORE_BENCH_TIMEOUT,
                                  env=dict(os.environ, TMPDIR=tmp))
        except subprocess.TimeoutExpired:
            return None, '%s did not finish within %.0f s' % (path, STORE_BENCH_TIMEOUT)
        lines = re.findall(r'^(\S+) (\S+) (\S+)$', done.stdout, re.M)
        if done.returncode != 0:
            return lines or None, '%s exited with status %d: %s' % (
                path, done.returncode, done.stderr.strip()[-500:])
        kept = re.search(r'^kept (\S+)$', done.stderr, re.M)
        if not kept:
            return lines, '%s left no S3 store: no export or verify figures' % path
        return lines, admin_figures(admin, kept.group(1), lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def admin_figures(admin, root, lines):
    """Times `admin --data-dir ROOT/s3 export > file`, then `verify`, appending their
    KEY VALUE UNIT lines to lines; None, or why not."""
    if not os.access(admin, os.X_OK):
        return '%s is missing: no export or verify figures (build it, then rerun)' % admin
    for command in ('export', 'verify'):
        print('releasemgr-admin %s on the S3 store' % command, flush=True)
        with open(os.path.join(root, command + '.out'), 'w') as out:
            start = time.monotonic()
            try:
                done = subprocess.run([admin, '--data-dir', os.path.join(root, 's3'), command],
                                      stdout=out, stderr=subprocess.PIPE, text=True,
                                      timeout=ADMIN_TIMEOUT)
            except subprocess.TimeoutExpired:
                return 'releasemgr-admin %s did not finish within %.0f s' % (command,
                                                                         ADMIN_TIMEOUT)
            seconds = time.monotonic() - start
        if done.returncode != 0:
            return 'releasemgr-admin %s of the S3 store exited with status %d: %s' % (
                command, done.returncode, done.stderr.strip()[-500:])
        lines.append(('admin_%s_seconds' % command, '%.2f' % seconds, 's'))
    return None


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------

def fmt_ms(us):
    return '%.2f ms' % (us / 1000)


def fmt_pct(value):
    return '%.0f %%' % (100 * value) if value is not None else '-'


def md_table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(cell) for cell in row) + ' |' for row in rows]
    return '\n'.join(lines)


def errors_cell(result):
    if not result['bad_status'] and not result['socket_errors']:
        return '0'
    return '**%d bad status, %d socket errors**' % (result['bad_status'], result['socket_errors'])


def results_table(results):
    c0, c1 = results.get('C0'), results.get('C1')
    rows = []
    for name, r in results.items():
        rows.append(['%s %s' % (name, r['what']), '%.0f' % r['rps'], fmt_ms(r['p50_us']),
                     fmt_ms(r['p99_us']),
                     fmt_pct(r['rps'] / c0['rps']) if c0 else '-',
                     fmt_pct(r['rps'] / c1['rps']) if c1 else '-', errors_cell(r)])
    return md_table(['workload', 'req/s (median)', 'p50', 'p99', 'ratio to C0',
                     'ratio to C1', 'errors (all runs)'], rows)


def flush_rows(name, result):
    rows = []
    for index, run in enumerate(result['runs'], 1):
        flushes = run['delta_log_flushes']
        rows.append(['%s run %d' % (name, index), run['requests'], run['bad_status'],
                     run['unexpected'], run['delta_version'], run['delta_commits'], run['delta_log_writes'],
                     flushes, '%.2f' % (run['delta_commits'] / flushes) if flushes else
                     'no flush'])
    return rows


def commits_per_flush(result):
    commits = sum(r['delta_commits'] for r in result['runs'])
    flushes = sum(r['delta_log_flushes'] for r in result['runs'])
    return commits / flushes if flushes else None


def store_value(store_lines, *patterns):
    """The first store_bench value whose key matches every pattern."""
    for key, value, _unit in store_lines or ():
        if all(re.search(p, key) for p in patterns):
            return float(value)
    return None


def targets(results, extra, store_lines):
    """[(target, measured text, met?)]; met is None when not measured."""
    def rel(name, base):
        if name in results and base in results:
            return results[name]['rps'] / results[base]['rps']
        return None

    def row(target, value, text, ok):
        return (target, text if value is not None else 'not measured',
                None if value is None else ok)

    rows = []
    for name in ('W2', 'W2u'):
        value = rel(name, 'C1')
        rows.append(row('%s >= 60 %% of C1' % name, value,
                        '%s (%.0f / %.0f req/s)' % (fmt_pct(value), results[name]['rps'],
                                                    results['C1']['rps']) if value else '',
                        value is not None and value >= 0.6))
    value = rel('W1', 'C0')
    rows.append(row('W1 >= 50 % of C0', value, fmt_pct(value), value is not None and value >= 0.5))
    value = rel('W4', 'W6')
    rows.append(row('W4 >= 50 % of W6', value, fmt_pct(value), value is not None and value >= 0.5))
    for name in ('W2u', 'W4'):
        value = rel(name + '-on', name + '-off')
        rows.append(row('%s with metrics on >= 95 %% of off' % name, value,
                        '%s (%.0f / %.0f req/s)' % (fmt_pct(value), results[name + '-on']['rps'],
                                                    results[name + '-off']['rps'])
                        if value else '', value is not None and value >= 0.95))
    value = rel('W4k', 'W4')
    rows.append(row('W4k >= 85 % of W4', value,
                    '%s (%.0f / %.0f req/s)' % (fmt_pct(value), results['W4k']['rps'],
                                                results['W4']['rps']) if value else '',
                    value is not None and value >= 0.85))
    value = commits_per_flush(results['W4']) if 'W4' in results else None
    rows.append(row('W4: commits per log flush > 4', value,
                    '%.2f' % value if value else '', value is not None and value > 4))
    value = store_value(store_lines, r'^s1', 'nosync', 'ratio')
    rows.append(row('S1 deploy 10k services / 10 services <= 1.2', value,
                    '%.2f (store_bench, no log flush)' % (value or 0),
                    value is not None and value <= 1.2))
    value = store_value(store_lines, r'^s3_services_ratio_old_over_new')
    rows.append(row('S3 old / new version read <= 1.5', value, '%.2f (store_bench)' % (value or 0),
                    value is not None and value <= 1.5))
    # the same measure for versions whose keyframe no read used before: not
    # the target's old versions, but what a first read of any version costs
    value = store_value(store_lines, r'^s3_services_ratio_deep_over_new')
    rows.append(row('S3 deep version (its keyframe read for the first time) / new <= 1.5',
                    value, '%.2f (store_bench)' % (value or 0),
                    value is not None and value <= 1.5))
    value = results['S2']['rps'] if 'S2' in results else None
    rows.append(row('S2 10k services, repeats >= 1,000 req/s', value,
                    '%.0f req/s' % (value or 0), value is not None and value >= 1000))
    cold = extra.get('cold_ms')
    value = max(cold) if cold else None
    rows.append(row('S2 version never read before < 5 ms', value,
                    'max %.2f ms, median %.2f ms (client, loopback)'
                    % (value or 0, statistics.median(cold) if cold else 0),
                    value is not None and value < 5))
    for key, label in (('h1_newest_ms', 'newest page'), ('h1_deep_ms', 'page in the middle')):
        times = extra.get(key)
        value = max(times) if times else None
        rows.append(row('H1 GET /systemversions over %s versions, %s: a few ms (< 5 ms)'
                        % (format(extra.get('h1_versions', 0), ','), label), value,
                        'max %.2f ms, median %.2f ms (client, loopback)'
                        % (value or 0, statistics.median(times) if times else 0),
                        value is not None and value < 5))
    history = 'the history\'s own, without %s' % ', '.join(REPORT_FILES)
    for label, value in (
            ('every *.db file, HTTP server', extra.get('bytes_per_version')),
            (history + ', HTTP server', extra.get('history_bytes_per_version')),
            ('every *.db file, store_bench',
             store_value(store_lines, r'^s4_size_per_version$')),
            (history + ', store_bench',
             store_value(store_lines, r'^s4_history_size_per_version$'))):
        rows.append(row('S4 <= 200 bytes per system version (%s)' % label, value,
                        '%.1f bytes' % (value or 0), value is not None and value <= 200))
    versions = format(int(store_value(store_lines, r'^s3_system_versions') or 0), ',')
    value = store_value(store_lines, r'^admin_export_seconds')
    rows.append(row('export of the S3 store (%s versions) < 4 s' % versions, value,
                    '%.2f s (releasemgr-admin export > file)' % (value or 0),
                    value is not None and value < 4))
    value = store_value(store_lines, r'^admin_verify_seconds')
    rows.append(row('verify of the S3 store (%s versions) succeeds' % versions, value,
                    'in %.2f s (releasemgr-admin verify)' % (value or 0), value is not None))
    rss = [m['VmRSS'] for m in extra.get('rss_end', {}).values()]
    value = max(rss) if rss else None
    rows.append(row('S4 each worker < 16 MiB RSS (at the end)', value,
                    'largest %.1f MiB' % (value or 0), value is not None and value < 16))
    return rows


def store_disk_text(store_lines):
    """The lines of the report that sum up store_bench's S4 and S5."""
    out = []
    for prefix, sent in (('s4', 'a name and a version, no key'),
                         ('s5', 'a name, a version, an `eventId` and a `sequence`')):
        versions = store_value(store_lines, r'^%s_system_versions$' % prefix)
        if versions is None:
            continue
        text = ('%s (store_bench): %s system versions, every report a change with %s. Bytes '
                'per system version: %.1f with every `*.db` file, %.1f without `%s` (the '
                'history\'s own); per report: `audit.db` %.1f'
                % (prefix.upper(), format(int(versions), ','), sent,
                   store_value(store_lines, r'^%s_size_per_version$' % prefix),
                   store_value(store_lines, r'^%s_history_size_per_version$' % prefix),
                   '`, `'.join(REPORT_FILES),
                   store_value(store_lines, r'^%s_audit_size_per_report$' % prefix)))
        events = store_value(store_lines, r'^%s_events_size_per_report$' % prefix)
        if events is not None:
            text += ', `events.db` %.1f' % events
        out += [text + ' (st_size).', '']
    return out


def memory_rows(label, memory):
    return [[label, pid, '%.1f' % m['VmRSS'], '%.1f' % m.get('RssAnon', 0),
             '%.1f' % m.get('RssFile', 0), '%.1f' % m.get('RssShmem', 0)]
            for pid, m in sorted(memory.items())]


def render(opts, machine, results, extra, store_lines, store_error, warnings):
    out = ['# releasemgr benchmarks', '',
           'Generated by `tests/bench/bench.py` (`make bench`) on %s. How the design '
           'reaches these figures, and the profiles behind them: '
           '[performance.md](performance.md).' % extra['date'], '']
    if opts.quick:
        out += ['**QUICK MODE (smoke test): short runs and small seeds; these figures are '
                'not the benchmark.**', '']
    for warning in warnings:
        out += ['> **WARNING: %s**' % warning, '']
    out += ['## Machine', '', md_table(['', ''], machine), '',
            '## Method', '',
            '- Servers: the real launcher (`cgi-bin/releasemgr-run`: nginx and the pool) '
            'started by `tests/e2e/harness.py` on 127.0.0.1 in a temporary directory, '
            'with the default configuration (`conf/releasemgr.conf`, as `make run`); '
            'W6 on a second server with a fresh data directory and `durable_commits = no`. '
            'An nginx include adds three bench-only locations: `/bench/nginx` '
            '(`return 200`), `/bench/services-uncached` (the pool, without '
            '`fastcgi_cache`) and `/bench/deploy-keyed` (W4k\'s, below).',
            '- Load: `wrk -t%d -c%d -d%ds --timeout %s`, %d run(s) per workload, medians '
            'over the runs; latency percentiles from a Lua `done()` hook '
            '(`tests/bench/report.lua`), in microseconds. wrk, nginx and the pool share '
            'the machine\'s cores.' % (WRK_THREADS, WRK_CONNECTIONS, opts.duration,
                                       WRK_TIMEOUT, opts.runs),
            '- Errors: "bad status" is wrk\'s count of answers >= 400 (no request here '
            'can get a 3xx), and for deploys the count of answers other than 200; '
            '"socket errors" are connect/read/write errors and timeouts.',
            '- Seeds: environment `%s`, %d services and %d system versions (%d deploys, '
            'each a change, %d threads, keep-alive): %.1f s (%.0f deploys/s). W1 reads '
            'version %d; W2 and W2u a uniformly random version among all; W3 reads its '
            '`/status`. nginx\'s cache starts empty for W2: its first run fills it.'
            % (ENV_W2, SERVICES, extra['versions'], extra['versions'], SEED_THREADS,
               extra['w2_seed_s'], extra['versions'] / extra['w2_seed_s'], extra['w1_version']),
            '- W4/W6: a random one of %d services (deployed beforehand) at a version no '
            'thread or run used before, so every request is a change; W5: the same '
            'service at the same version every time. W4k, on the same server, its runs '
            'alternating with W4\'s (W4, W4k, W4, W4k, ...), in environment `%s` seeded '
            'as W4\'s: the same bodies plus an `eventId` '
            '(36 bytes, random hex in a UUID\'s shape, unique) and a `sequence` (the '
            'version, increasing for each service); each wrk thread deploys its own %d '
            'services in turn, skipping any whose report is unanswered, so that no '
            'report arrives after a later one of its service (it would be stale). It goes '
            'through `/bench/deploy-keyed`, `/deploy`\'s configuration plus an `add_header` '
            'that answers the request\'s `Bench-Service` header back, which tells the '
            'client which service was answered. Every deploy answer\'s `Deploy-Outcome` is '
            'checked (`applied` for W4, W4k, W6; `unchanged` for W5). Around each '
            'W4/W4k/W6 run, `db5.3_stat -t` (transactions committed) and `db5.3_stat -l` '
            '("Total log file flushes", i.e. fsyncs; "Total log file I/O writes") give the '
            'counts; `GET /status` the versions added.'
            % (SERVICES, ENV_W4K, SERVICES // WRK_THREADS),
            '- S2: environment `%s`, %d services (%d deploys, %.1f s). Cold reads: %d '
            'single GETs, each on a new connection, each for an explicit version nothing '
            'had read (%s), made right after seeding; timed at the client on loopback, '
            'so an upper bound of the server time (they include sending lists of up to '
            '%d services). Then, through wrk: its newest version asked for explicitly '
            '(S2, the repeats: nginx keeps the answer), its current list (S2c, '
            '`GET /services?environment=%s`, never cached), and S2u the same list through '
            '`/bench/services-uncached`, where no `fastcgi_cache` applies.'
            % (ENV_S2, extra['s2_services'], extra['s2_services'], extra['s2_seed_s'],
               len(extra['cold_versions']), ', '.join(map(str, extra['cold_versions'])),
               extra['s2_services'], ENV_S2),
            '- H1: environment `%s`, %s versions over %d services (seeded in %.1f s on the W6 '
            'server, whose commits are not flushed: history reads do not depend on it); '
            '20 single `GET /systemversions?limit=50` each from the newest version and from '
            'below version %d, each on a new connection, timed at the client on loopback.'
            % (ENV_H1, format(extra.get('h1_versions', 0), ','), SERVICES,
               extra.get('h1_seed_s', 0), extra.get('h1_versions', 0) // 2),
            '- S4: the size of `DATA_DIR/db/*.db` after seeding `%s` and stopping the server '
            '(its last checkpoint writes every page), before any other environment '
            'existed (only `default`, empty), divided by its %d system versions, with '
            'every file and without the databases of reports (`audit.db`, `events.db`), '
            'and `audit.db` by its entries (the id of the newest, from '
            '`GET /events`); then the server was started again on the same data. Worker '
            'memory from `/proc/PID/status` of every `rm-worker`, at the first start and '
            'after all workloads of the main server.' % (ENV_W2, extra['versions']),
            '', '## Results', '', results_table(results), '']
    out += ['Ratios are of the median req/s. Per-run req/s: ' + '; '.join(
        '%s %s' % (name, ', '.join('%.0f' % run['rps'] for run in r['runs']))
        for name, r in results.items()) + '.', '']
    if all(name in results for name in ('W4', 'W4k', 'W6')):
        cpf = ['%.2f' % value if value else 'no flush' for value in
               (commits_per_flush(results[name]) for name in ('W4', 'W4k', 'W6'))]
        out += ['### Deploys and log flushes (W4, W4k, W6)', '',
                md_table(['run', 'requests answered', 'bad status', 'other outcome',
                          'versions added', 'commits', 'log writes', 'log flushes (fsync)',
                          'commits per flush'],
                         flush_rows('W4', results['W4']) + flush_rows('W4k', results['W4k']) +
                         flush_rows('W6', results['W6'])),
                '',
                'Commits per log flush over all runs: W4 %s, W4k %s, W6 %s. W4 / W6 (req/s): '
                '%s; W4k / W4: %s. "other outcome" counts the deploys answered 200 with '
                'another `Deploy-Outcome` than `applied`; "versions added" may exceed '
                '"requests answered" by the requests still in flight when wrk stopped.' % (
                    cpf[0], cpf[1], cpf[2],
                    fmt_pct(results['W4']['rps'] / results['W6']['rps']),
                    fmt_pct(results['W4k']['rps'] / results['W4']['rps'])), '']
    if all(name in results for name in ('W2u-on', 'W2u-off', 'W4-on', 'W4-off')):
        out += ['### The metrics on and off (W2u-on, W2u-off, W4-on, W4-off)', '',
                'Two more servers with fresh data directories, seeded alike (`%s` as W2, '
                '%.1f and %.1f s; W4\'s 100 services): one with the default configuration '
                '(`metrics = yes`: every answer counted by route, status and duration), one '
                'with `metrics = no`. W2u-on and W2u-off alternate, then W4-on and W4-off, '
                'each after an unmeasured run of 3 s, in the reverse order every other round. '
                'The reports\' counts by outcome are kept by the store in both (they are '
                'part of the environment\'s record that every report writes).'
                % (ENV_W2, extra['metrics_seed_s_on'], extra['metrics_seed_s_off']), '',
                md_table(['ratio', 'req/s', 'value'], [
                    ['%s: metrics on / off' % name, '%.0f / %.0f' % (
                        results[name + '-on']['rps'], results[name + '-off']['rps']),
                     fmt_pct(results[name + '-on']['rps'] / results[name + '-off']['rps'])]
                    for name in ('W2u', 'W4')]), '']
    if all(name in results for name in ('W4', 'CW4m', 'CW4r', 'CW2m', 'CW2r')):
        out += ['### A group of three sites (CW4m, CW4r, CW2m, CW2r)', '',
                'Three sites on this machine, each a launcher, nginx and pool with its own '
                'data directory, joined by Berkeley DB\'s replication manager (the '
                'configuration above plus `replication_site` and `replication_peers`): '
                'every deploy is answered once a quorum of the group (two of the three '
                'sites) has its commit, and a replica hands each deploy to the master over '
                'a message channel. Seeded with `%s` as W2 (%.1f s, %.0f deploys/s, '
                'through the master). CW4m and CW4r alternate, as CW2m and CW2r do. The '
                'three sites share this machine\'s cores with each other and with wrk; '
                'on machines of their own, each would have all of them.'
                % (ENV_W2, extra['cluster_seed_s'],
                   extra['versions'] / extra['cluster_seed_s']), '',
                md_table(['ratio', 'req/s', 'value'], [
                    ['deploys to the master / single-site W4', '%.0f / %.0f' % (
                        results['CW4m']['rps'], results['W4']['rps']),
                     fmt_pct(results['CW4m']['rps'] / results['W4']['rps'])],
                    ['deploys to a replica / single-site W4', '%.0f / %.0f' % (
                        results['CW4r']['rps'], results['W4']['rps']),
                     fmt_pct(results['CW4r']['rps'] / results['W4']['rps'])],
                    ['uncached reads at a replica / at the master (W2u\'s reads)',
                     '%.0f / %.0f' % (results['CW2r']['rps'], results['CW2m']['rps']),
                     fmt_pct(results['CW2r']['rps'] / results['CW2m']['rps'])]]), '',
                md_table(['run', 'requests answered', 'bad status', 'other outcome',
                          'versions added', 'commits', 'log writes', 'log flushes (fsync)',
                          'commits per flush'],
                         flush_rows('CW4m', results['CW4m']) +
                         flush_rows('CW4r', results['CW4r'])), '',
                'The commits and flushes are the master\'s, for deploys sent to either.',
                '']
    out += ['### Memory and disk (S4)', '',
            md_table(['when', 'worker pid', 'VmRSS MiB', 'RssAnon MiB', 'RssFile MiB',
                      'RssShmem MiB'],
                     memory_rows('start', extra['rss_start']) +
                     memory_rows('after all workloads', extra.get('rss_end', {}))), '',
            'VmRSS counts the pages of Berkeley DB\'s shared regions (`cache_mb` = the '
            'buffer pool, mapped by every worker) that a worker touched; RssAnon is its '
            'private memory.', '',
            '`*.db` files: %d bytes for %d system versions (%d reports, each without a '
            'key, so `events.db` stays empty): %.1f bytes per version; '
            'without `%s`: %.1f bytes per version; `audit.db`: %.1f bytes per report. '
            'Each file: %s.'
            % (extra['db_bytes'], extra['versions'], extra['w2_reports'],
               extra['bytes_per_version'], '`, `'.join(REPORT_FILES),
               extra['history_bytes_per_version'],
               extra['db_files'].get('audit.db', 0) / max(extra['w2_reports'], 1),
               ', '.join('`%s` %d' % item for item in extra['db_files'].items())), '',
            '## Store micro-benchmark (build/store_bench)', '']
    if store_error:
        out += ['**%s**' % store_error, '']
    if store_lines:
        out += [md_table(['key', 'value', 'unit'], store_lines), '',
                '`admin_export_seconds` and `admin_verify_seconds`: wall-clock time of one '
                '`cgi-bin/releasemgr-admin --data-dir DIR export > file` and one `... verify` '
                '(Berkeley DB\'s verification and the audit) on the S3 store store_bench '
                'leaves behind (`--keep`).', '']
        out += store_disk_text(store_lines)
    out += ['## Targets', '',
            md_table(['target', 'measured', 'verdict'],
                     [(t, m, 'not measured' if ok is None else 'met' if ok else '**NOT met**')
                      for t, m, ok in targets(results, extra, store_lines)]), '']
    return '\n'.join(out)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--store-bench', default=os.path.join(REPO_ROOT, 'build', 'store_bench'),
                        help='the store micro-benchmark binary (default build/store_bench)')
    parser.add_argument('--admin', default=os.path.join(REPO_ROOT, 'cgi-bin', 'releasemgr-admin'),
                        help='releasemgr-admin, timed on the S3 store (default '
                        'cgi-bin/releasemgr-admin)')
    parser.add_argument('--out', default=os.path.join(REPO_ROOT, 'docs', 'benchmarks.md'))
    parser.add_argument('--duration', type=int, help='seconds per wrk run (default 10)')
    parser.add_argument('--runs', type=int, help='wrk runs per workload (default 3)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: 2 s, 1 run, 1,000 versions and services')
    opts = parser.parse_args()
    opts.duration = opts.duration or (2 if opts.quick else 10)
    opts.runs = opts.runs or (1 if opts.quick else 3)
    opts.versions = opts.s2_services = 1000 if opts.quick else 10000
    opts.h1_versions = 5000 if opts.quick else 100000
    return opts


def benchmark(opts, tmp, results, extra):
    """Every HTTP workload; fills results and extra."""
    d, n = opts.duration, opts.runs
    main = start_server('main', tmp)
    extra['machine'] = machine_info(main.root)
    extra['rss_start'] = worker_memory(main)

    print('seeding %s: %d versions' % (ENV_W2, opts.versions), flush=True)
    extra['versions'] = opts.versions
    extra['w2_seed_s'] = seed_versions(main, ENV_W2, opts.versions)
    extra['w2_reports'] = audit_entries(main, ENV_W2)
    main.stop()   # its last checkpoint puts every page in the *.db files
    extra['db_files'] = db_file_bytes(main.data_dir)
    extra['db_bytes'] = sum(extra['db_files'].values())
    extra['bytes_per_version'] = extra['db_bytes'] / opts.versions
    extra['history_bytes_per_version'] = sum(
        size for name, size in extra['db_files'].items()
        if name not in REPORT_FILES) / opts.versions
    main.start()

    w2_query = '?environment=%s&systemVersion=' % ENV_W2
    extra['w1_version'] = opts.versions // 2
    w1_path = '/services%s%d' % (w2_query, extra['w1_version'])
    if main.request('GET', w1_path).status != 200:
        raise RuntimeError('GET %s failed' % w1_path)
    measure(results, 'C0', 'GET /bench/nginx (nginx alone)', main, '/bench/nginx', d, n)
    measure(results, 'C1', 'GET /healthz', main, '/healthz', d, n)
    measure(results, 'W1', 'GET /services, one version (cached)', main, w1_path, d, n)
    measure(results, 'W2', 'GET /services, random version', main, '/', d, n,
            'random_path.lua', ['/services' + w2_query, opts.versions])
    measure(results, 'W2u', 'GET /services, random version, no nginx cache', main, '/', d, n,
            'random_path.lua', ['/bench/services-uncached' + w2_query, opts.versions])
    measure(results, 'W3', 'GET /status', main, '/status?environment=' + ENV_W2, d, n)

    seed(main, [deploy_body('svc-000', 1, ENV_W5)])
    measure(results, 'W5', 'POST /deploy, unchanged', main, '/deploy', d, n, 'deploy.lua',
            [ENV_W5, SERVICES, 'same', 1])
    seed(main, [deploy_body('svc-%03d' % i, 0, environment) for environment in (ENV_W4, ENV_W4K)
                for i in range(SERVICES)])
    measure_alternating(results, [
        Workload('W4', 'POST /deploy, every one a change', main, '/deploy', 'deploy.lua',
                 deploy_args(ENV_W4, 'change'), deploy_probe(main, ENV_W4)),
        Workload('W4k', 'POST /deploy, every one a change, with eventId and sequence', main,
                 '/bench/deploy-keyed', 'deploy.lua', deploy_args(ENV_W4K, 'keyed'),
                 deploy_probe(main, ENV_W4K))], d, n)

    print('seeding %s: %d services' % (ENV_S2, opts.s2_services), flush=True)
    extra['s2_services'] = opts.s2_services
    extra['s2_seed_s'] = seed(main, (deploy_body('svc-%05d' % i, 1, ENV_S2)
                                     for i in range(opts.s2_services)))
    if status_version(main, ENV_S2) != opts.s2_services:
        raise RuntimeError('%s: wrong system version after seeding' % ENV_S2)
    count = opts.s2_services
    extra['cold_versions'] = [count * k // COLD_READS for k in range(1, COLD_READS + 1)]
    extra['cold_ms'] = cold_reads(main, ENV_S2, extra['cold_versions'])
    measure(results, 'S2', 'GET /services, explicit newest version of %d services (repeats)'
            % count, main, '/services?systemVersion=%d&environment=%s' % (count, ENV_S2), d, n)
    measure(results, 'S2c', 'GET /services, current list of %d services (never cached)'
            % count, main, '/services?environment=' + ENV_S2, d, n)
    measure(results, 'S2u', 'the same, through the bench location', main,
            '/bench/services-uncached?environment=' + ENV_S2, d, n)
    extra['rss_end'] = worker_memory(main)
    main.cleanup()

    nosync = start_server('nosync', tmp, config={'durable_commits': 'no'})
    seed(nosync, [deploy_body('svc-%03d' % i, 0, ENV_W4) for i in range(SERVICES)])
    measure(results, 'W6', 'POST /deploy, every one a change, durable_commits = no', nosync,
            '/deploy', d, n, 'deploy.lua', deploy_args(ENV_W4, 'change'),
            deploy_probe(nosync, ENV_W4))
    # H1 reads history only, which durability does not change: seeded here,
    # where commits are not flushed, it takes a fraction of the time
    print('seeding %s: %d versions' % (ENV_H1, opts.h1_versions), flush=True)
    extra['h1_versions'] = opts.h1_versions
    extra['h1_seed_s'] = seed(nosync, (deploy_body('svc-%03d' % (i % SERVICES), i, ENV_H1)
                                       for i in range(opts.h1_versions)))
    if status_version(nosync, ENV_H1) != opts.h1_versions:
        raise RuntimeError('%s: wrong system version after seeding' % ENV_H1)
    extra['h1_newest_ms'] = history_reads(nosync, ENV_H1, None)
    extra['h1_deep_ms'] = history_reads(nosync, ENV_H1, opts.h1_versions // 2)
    nosync.cleanup()
    metrics_benchmark(opts, tmp, results, extra)
    cluster_benchmark(opts, tmp, results, extra)


def metrics_benchmark(opts, tmp, results, extra):
    """W2u and W4 on two fresh servers seeded alike, one with the metrics on
    (the default), one with `metrics = no`, their runs alternating."""
    d, n = opts.duration, opts.runs
    servers = {'on': start_server('metrics-on', tmp),
               'off': start_server('metrics-off', tmp, config={'metrics': 'no'})}
    try:
        for state, server in sorted(servers.items()):
            print('seeding the metrics-%s server: %d versions' % (state, opts.versions),
                  flush=True)
            extra['metrics_seed_s_' + state] = seed_versions(server, ENV_W2, opts.versions)
            seed(server, [deploy_body('svc-%03d' % i, 0, ENV_W4) for i in range(SERVICES)])
        w2_query = '?environment=%s&systemVersion=' % ENV_W2
        measure_alternating(results, [
            Workload('W2u-%s' % state, 'W2u, metrics %s' % state, servers[state], '/',
                     'random_path.lua', ['/bench/services-uncached' + w2_query, opts.versions])
            for state in ('on', 'off')], d, n, warm=True)
        measure_alternating(results, [
            Workload('W4-%s' % state, 'W4, metrics %s' % state, servers[state], '/deploy',
                     'deploy.lua', deploy_args(ENV_W4, 'change'),
                     deploy_probe(servers[state], ENV_W4))
            for state in ('on', 'off')], d, n, warm=True)
    finally:
        for server in servers.values():
            server.cleanup()


def cluster_benchmark(opts, tmp, results, extra):
    """CW4m/CW4r and CW2m/CW2r: the deploys and uncached reads of a group of
    three sites, sent to its master and to one of its replicas."""
    d, n = opts.duration, opts.runs
    cluster = Cluster('bench')
    for i, site in enumerate(cluster.sites):
        site.nginx_include = os.path.join(tmp, 'site%d.nginx.conf' % (i + 1))
        write_nginx_include(site.nginx_include, site.data_dir)
    cluster.start()
    try:
        master = cluster.master()
        replica = cluster.sites[(master + 1) % len(cluster.sites)]
        master = cluster.sites[master]
        print('seeding a group of three sites: %d versions' % opts.versions, flush=True)
        extra['cluster_seed_s'] = seed_versions(master, ENV_W2, opts.versions)
        seed(master, [deploy_body('svc-%03d' % i, 0, ENV_W4) for i in range(SERVICES)])
        cluster.converge(ENV_W4)
        w2_query = '?environment=%s&systemVersion=' % ENV_W2
        measure_alternating(results, [
            Workload('CW2m', 'GET /services, random version, no nginx cache, at the master',
                     master, '/', 'random_path.lua',
                     ['/bench/services-uncached' + w2_query, opts.versions]),
            Workload('CW2r', 'the same at a replica', replica, '/', 'random_path.lua',
                     ['/bench/services-uncached' + w2_query, opts.versions])], d, n)
        measure_alternating(results, [
            Workload('CW4m', 'POST /deploy, every one a change, to the master', master,
                     '/deploy', 'deploy.lua', deploy_args(ENV_W4, 'change'),
                     deploy_probe(master, ENV_W4)),
            Workload('CW4r', 'the same, to a replica (handed to the master)', replica,
                     '/deploy', 'deploy.lua', deploy_args(ENV_W4, 'change'),
                     deploy_probe(master, ENV_W4))], d, n)
    finally:
        cluster.cleanup()


def main():
    opts = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for tool in ('wrk', 'db5.3_stat'):
        if not shutil.which(tool):
            sys.exit('bench: %s is missing (apt-get install -y %s)'
                     % (tool, 'wrk' if tool == 'wrk' else 'db5.3-util'))
    tmp = tempfile.mkdtemp(prefix='releasemgr-bench-')
    results, extra = {}, {'date': datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}
    try:
        benchmark(opts, tmp, results, extra)
    finally:
        for server in list(harness.Server._live):
            server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    store_lines, store_error = run_store_bench(opts.store_bench, opts.admin, opts.quick)

    warnings = ['%s had %d answers with a bad status and %d socket errors'
                % (name, r['bad_status'], r['socket_errors'])
                for name, r in results.items() if r['bad_status'] or r['socket_errors']]
    for name in ('W4', 'W4k', 'W6', 'W4-on', 'W4-off', 'CW4m', 'CW4r'):
        for index, run in enumerate(results[name]['runs'], 1):
            if run['delta_version'] < run['requests'] - run['bad_status']:
                warnings.append('%s run %d: %d versions added for %d deploys answered 200'
                                % (name, index, run['delta_version'],
                                   run['requests'] - run['bad_status']))
    for name in ('W4', 'W4k', 'W5', 'W6', 'W4-on', 'W4-off'):
        unexpected = sum(run['unexpected'] for run in results[name]['runs'])
        if unexpected:
            warnings.append('%s: %d deploys answered 200 with another Deploy-Outcome '
                            'than %s' % (name, unexpected,
                                         'unchanged' if name == 'W5' else 'applied'))
    if store_error:
        warnings.append(store_error)
    report = render(opts, extra['machine'], results, extra, store_lines, store_error, warnings)
    os.makedirs(os.path.dirname(os.path.abspath(opts.out)), exist_ok=True)
    with open(opts.out, 'w') as f:
        f.write(report)
    start = report.index('## Results')
    print('\n' + '\n'.join(w for w in ('WARNING: ' + w for w in warnings)))
    print(report[start:report.index('## Store micro')])
    print(report[report.index('## Targets'):])
    print('report written to %s' % opts.out)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit('bench: interrupted; servers stopped')
