"""GET /metrics: Prometheus's text format, checked by promtool, after a mixed
load sent from several threads, with every count checked against what was
sent: the reports by environment and outcome (the store's, kept across a
restart of the pool), the requests by route and code and their duration
histograms (the whole pool's, kept across a worker's restart); Berkeley
DB's statistics; nginx refusing the addresses not allowed (403), and
metrics = no (404)."""

import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.parse

import harness
from harness import E2ETestCase, unique_env

SAMPLE = re.compile(r'\A([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)\Z')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|\Z)')
OUTCOMES = ('applied', 'unchanged', 'duplicate', 'stale', 'removed')


def parse_metrics(text):
    """{(name, frozenset of (label, value))): value} of every sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        match = SAMPLE.match(line)
        assert match, 'not a sample line: %r' % line
        name, labels, value = match.groups()
        pairs = frozenset(LABEL.findall(labels or ''))
        key = (name, pairs)
        assert key not in samples, 'a sample twice: %r' % line
        samples[key] = float(value)
    return samples


def select(samples, name, **labels):
    """{labels dict as a sorted tuple: value} of name's samples that have labels."""
    out = {}
    for (sample, pairs), value in samples.items():
        if sample == name and set(labels.items()) <= pairs:
            out[tuple(sorted(pairs))] = value
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def promtool_check(text):
    """promtool check metrics's exit status and output on text."""
    proc = subprocess.run(['promtool', 'check', 'metrics'], input=text.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return proc.returncode, proc.stdout.decode(errors='replace')


class MetricsTest(E2ETestCase):
    """One private server: its counts are the test's alone."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls, workers=2)

    def scrape(self):
        resp = self.server.request('GET', '/metrics')
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.headers.get('content-type'),
                         'text/plain; version=0.0.4; charset=utf-8')
        self.assertEqual(resp.headers.get('cache-control'), 'no-store')
        return resp.body.decode()

    def mixed_load(self, env_a, env_b):
        """Sends reports and reads from 8 threads; returns (the reports'
        outcomes by environment, the answers by (route, code))."""
        sent = collections.Counter()      # (route, code)
        outcomes = collections.Counter()  # (environment, outcome)
        lock = harness.threading.Lock()

        def record(route, resp, env=None):
            with lock:
                sent[(route, str(resp.status))] += 1
                outcome = resp.headers.get('deploy-outcome')
                if resp.status == 200 and outcome:
                    outcomes[(env, outcome)] += 1

        def one_service(task):
            env, i = task
            name = 'svc-%d' % i
            s = self.server
            # applied, unchanged, a duplicate, a conflict, stale, removed
            record('/deploy', s.deploy(name, 1, env, eventId='%s-%d-a' % (env, i),
                                       sequence=10), env)
            record('/deploy', s.deploy(name, 1, env, sequence=11), env)
            record('/deploy', s.deploy(name, 1, env, eventId='%s-%d-a' % (env, i),
                                       sequence=10), env)
            record('/deploy', s.deploy(name, 2, env, eventId='%s-%d-a' % (env, i),
                                       sequence=10), env)
            record('/deploy', s.deploy(name, 0, env, sequence=5), env)
            if i % 3 == 0:
                path = '/services/%s?environment=%s' % (urllib.parse.quote(name), env)
                record('/services/{name}', s.request('DELETE', path), env)
            record('/services', s.services(environment=env))
            record('/status', s.request('GET', '/status?environment=%s' % env))
            record('/systemversions/{systemVersion}',
                   s.request('GET', '/systemversions/1?environment=%s' % env))
            record('/systemversions/{systemVersion}',
                   s.request('GET', '/systemversions/999999?environment=%s' % env))
            record('/systemversions', s.request('GET', '/systemversions?limit=0'))
            record('/status', s.request('POST', '/status'))
            record('/healthz', s.request('GET', '/healthz'))

        tasks = [(env, i) for env in (env_a, env_b) for i in range(30)]
        harness.run_parallel(one_service, tasks, threads=8)
        return outcomes, sent

    def test_counts_match_the_load_and_promtool_is_clean(self):
        if shutil.which('promtool') is None:
            self.fail('promtool is missing: make test installs Debian\'s prometheus')
        env_a, env_b = unique_env('metrics-a'), unique_env('metrics-b')
        before = parse_metrics(self.scrape())
        outcomes, sent = self.mixed_load(env_a, env_b)
        text = self.scrape()
        code, output = promtool_check(text)
        self.assertEqual((code, output), (0, ''), 'promtool check metrics')
        after = parse_metrics(text)

        # the reports, by environment and outcome: exactly those answered 200
        for env in (env_a, env_b):
            for outcome in OUTCOMES:
                self.assertEqual(
                    value(after, 'releasemgr_deploy_reports_total',
                          environment=env, outcome=outcome),
                    outcomes[(env, outcome)], '%s %s' % (env, outcome))
            self.assertEqual(outcomes[(env, 'applied')], 30)
            self.assertEqual(outcomes[(env, 'removed')], 10)
            self.assertEqual(value(after, 'releasemgr_system_version', environment=env), 40)

        # the requests, by route and code: what was sent, and the first scrape
        sent[('/metrics', '200')] += 1
        routes = {route for route, _ in sent}
        for route, code_ in sorted(sent):
            delta = (value(after, 'releasemgr_http_requests_total', route=route, code=code_) -
                     value(before, 'releasemgr_http_requests_total', route=route, code=code_))
            self.assertEqual(delta, sent[(route, code_)], '%s %s' % (route, code_))
        for key, count in select(after, 'releasemgr_http_requests_total').items():
            labels = dict(key)
            if labels['route'] not in routes:
                continue
            self.assertIn((labels['route'], labels['code']), sent,
                          'a count of nothing sent: %r %s' % (labels, count))

        # each route's histogram: cumulative, and counting its every request
        for route in routes:
            buckets = sorted(((float(dict(k)['le']), v) for k, v in select(
                after, 'releasemgr_http_request_duration_seconds_bucket', route=route).items()))
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), route)
            total = sum(v for k, v in select(after, 'releasemgr_http_requests_total',
                                             route=route).items())
            self.assertEqual(buckets[-1], (float('inf'), total), route)
            self.assertEqual(value(after, 'releasemgr_http_request_duration_seconds_count',
                                   route=route), total, route)
            self.assertGreater(value(after, 'releasemgr_http_request_duration_seconds_sum',
                                     route=route), 0, route)

        sys.stderr.write('\n  metrics: promtool clean; %d requests on %d routes, %d (route, '
                         'code) counts equal; reports %s\n' % (
                             sum(sent.values()), len(routes), len(sent),
                             ', '.join('%s %d' % (o, sum(v for (_, k), v in outcomes.items()
                                                         if k == o)) for o in OUTCOMES)))

        # Berkeley DB's own: commits at least one per report that wrote
        reports = sum(outcomes.values())
        self.assertGreaterEqual(value(after, 'releasemgr_db_transactions_committed_total'),
                                reports)
        self.assertGreater(value(after, 'releasemgr_db_log_flushes_total'), 0)
        self.assertGreater(value(after, 'releasemgr_db_log_written_bytes_total'), 0)
        self.assertGreater(value(after, 'releasemgr_db_cache_hits_total'), 0)
        self.assertGreaterEqual(value(after, 'releasemgr_db_commits_per_flush'), 1)
        self.assertGreater(value(after, 'releasemgr_storage_free_bytes'), 0)
        for name in ('releasemgr_db_transactions_aborted_total', 'releasemgr_db_deadlocks_total',
                     'releasemgr_db_lock_waits_total', 'releasemgr_db_cache_misses_total',
                     'releasemgr_worker_restarts_total'):
            self.assertIn((name, frozenset()), after, name)

    def test_a_worker_restart_keeps_the_counts(self):
        env = unique_env('metrics-restart')
        for i in range(5):
            self.deploy_ok(self.server, 'svc-%d' % i, 1, env)
        before = parse_metrics(self.scrape())
        restarts = value(before, 'releasemgr_worker_restarts_total')
        workers = self.server.worker_pids()
        os.kill(workers[0], signal.SIGKILL)
        # every worker restarts with recovery: new pids for both
        harness.wait_until(lambda: len(self.server.worker_pids()) == 2 and not
                           set(self.server.worker_pids()) & set(workers), 20,
                           'the workers replaced')
        after = parse_metrics(self.scrape())
        self.assertEqual(value(after, 'releasemgr_worker_restarts_total'), restarts + 2)
        self.assertEqual(value(after, 'releasemgr_deploy_reports_total', environment=env,
                               outcome='applied'), 5)
        self.assertEqual(value(after, 'releasemgr_http_requests_total', route='/metrics',
                               code='200'),
                         value(before, 'releasemgr_http_requests_total', route='/metrics',
                               code='200') + 1)
        self.assertGreaterEqual(value(after, 'releasemgr_http_requests_total', route='/deploy',
                                      code='200'), 5)

    def test_the_reports_counts_outlive_the_pool(self):
        env = unique_env('metrics-kept')
        self.deploy_ok(self.server, 'a', 1, env)
        self.server.deploy('a', 1, env)
        self.server.stop()
        self.server.start()
        after = parse_metrics(self.scrape())
        self.assertEqual(value(after, 'releasemgr_deploy_reports_total', environment=env,
                               outcome='applied'), 1)
        self.assertEqual(value(after, 'releasemgr_deploy_reports_total', environment=env,
                               outcome='unchanged'), 1)
        # the requests' counts start again with the pool
        self.assertEqual(value(after, 'releasemgr_http_requests_total', route='/deploy',
                               code='200'), 0)


class MetricsAccessTest(E2ETestCase):
    """metrics_allow that leaves loopback out, and metrics = no."""

    def test_an_address_not_allowed_gets_403(self):
        server = harness.private_server(type(self), config={'metrics_allow': '192.0.2.0/24'})
        self.assertProblem(server.request('GET', '/metrics'), 403, '/problems/forbidden')
        self.assertEqual(server.request('GET', '/healthz').status, 200)

    def test_metrics_off(self):
        server = harness.Server(label='metrics-off', config={'metrics': 'no'})
        self.addCleanup(server.cleanup)
        server.start()
        self.assertProblem(server.request('GET', '/metrics'), 404, '/problems/not-found')
        self.assertEqual(server.deploy('a', 1).status, 200)

    def test_a_bad_allow_list_stops_the_start(self):
        server = harness.Server(label='metrics-bad', config={'metrics_allow': '127.0.0.1 nope'})
        self.addCleanup(server.cleanup)
        with self.assertRaises(Exception):
            server.start(timeout=15)
        self.assertIn('metrics_allow: "nope"', server.log_tail())
