"""Crashes: kill -9 of a worker under load, kill -9 of the whole process
group (pool + nginx) followed by a restart on the same data directory, and
the pool dying while nginx stays up; rounds of group kills under 8 deploying
clients, and a worker frozen inside a transaction then killed, each checked
afterwards with releasemgr-admin verify. Each class has its own server.

RELEASEMGR_CRASH_ROUNDS sets the rounds of group kills (3; make soak: 20)."""

import collections
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import (E2ETestCase, current_version, pid_alive, proc_stat, unique_env,
                     wait_until)

RETRY_STATUSES = (502, 503)   # "not acknowledged": the client retries
KILL_ROUNDS = 6
CRASH_ROUNDS = int(os.environ.get('RELEASEMGR_CRASH_ROUNDS', '3'))
DB_FILES = ('meta.db', 'environments.db', 'current.db', 'changes.db', 'keyframes.db',
            'periods.db', 'keys.db', 'events.db', 'event-times.db', 'audit.db')


def busy_worker(workers, timeout=1.0):
    """A worker seen running or in disk wait (likely inside a request), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in workers:
            st = proc_stat(pid)
            if st is not None and st.state in ('R', 'D'):
                return pid
        time.sleep(0.0005)
    return None


def unavailable_complaint(resp):
    """What is wrong with a 502/503 answer ('' if it is a proper problem).

    A 503 must be /problems/unavailable with Retry-After; any error answer
    must be an application/problem+json object whose status matches.
    """
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    if resp.media_type != 'application/problem+json' or not isinstance(doc, dict) \
            or doc.get('status') != resp.status:
        return 'not a problem+json answer: %s' % resp.describe()
    if resp.status == 503 and (doc.get('type') != '/problems/unavailable'
                               or not resp.headers.get('retry-after')):
        return '503 without type unavailable or Retry-After: %s %r' % (resp.describe(),
                                                                        resp.headers)
    return ''


class DeployLoad:
    """Threads deploying continuously; bounded in time and request count.

    Each thread owns its services (3 each) and always deploys a higher
    version, so every deploy is a change. A 502/503 or connection error
    means "not acknowledged" and the same deploy is retried; any other
    non-200 answer is recorded in `unexpected`, a 502/503 that is not a
    proper problem in `malformed`. `acks` holds (name, version, N,
    first_attempt) for every 200.
    """

    def __init__(self, server, environment, tag, threads=8, max_requests=800,
                 duration=15.0, pause=0.08):
        self.server, self.environment, self.tag = server, environment, tag
        self.threads, self.max_requests = threads, max_requests
        self.duration, self.pause = duration, pause
        self.acks, self.unexpected, self.not_acked, self.malformed = [], [], [], []
        self.requests = 0
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._pool = []

    def start(self):
        self.deadline = time.monotonic() + self.duration
        self._pool = [threading.Thread(target=self._run, args=(t,), daemon=True)
                      for t in range(self.threads)]
        for thread in self._pool:
            thread.start()
        return self

    def stop(self, timeout=20.0):
        self.stop_event.set()
        end = time.monotonic() + timeout
        for thread in self._pool:
            thread.join(max(0.0, end - time.monotonic()))
        if any(thread.is_alive() for thread in self._pool):
            raise AssertionError('load threads did not stop within %.0fs' % timeout)

    def assert_answers(self, test):
        """Every answer was a 200, or a proper 502/503 problem."""
        test.assertEqual(self.unexpected[:5], [], 'answers other than 200/502/503')
        test.assertEqual(self.malformed[:5], [], 'malformed 502/503 answers')

    def ack_count(self):
        with self._lock:
            return len(self.acks)

    def ack_triples(self):
        with self._lock:
            return [(name, version, n) for name, version, n, _ in self.acks]

    def _take_slot(self):
        with self._lock:
            if (self.stop_event.is_set() or time.monotonic() >= self.deadline
                    or self.requests >= self.max_requests):
                return False
            self.requests += 1
            return True

    def _run(self, thread_number):
        version = 0
        while True:
            version += 1
            name = '%s-t%d-s%d' % (self.tag, thread_number, version % 3)
            attempt = 0
            while True:
                if not self._take_slot():
                    return
                attempt += 1
                try:
                    resp = self.server.deploy(name, version, self.environment, timeout=5)
                except (OSError, http.client.HTTPException) as exc:
                    outcome = repr(exc)
                else:
                    if resp.status == 200 and resp.body.isdigit():
                        with self._lock:
                            self.acks.append((name, version, int(resp.body), attempt == 1))
                        break
                    if resp.status not in RETRY_STATUSES:
                        with self._lock:
                            self.unexpected.append((name, version, resp.describe()))
                        break
                    outcome = 'HTTP %d' % resp.status
                    complaint = unavailable_complaint(resp)
                    if complaint:
                        with self._lock:
                            self.malformed.append((name, version, complaint))
                with self._lock:
                    self.not_acked.append((name, version, outcome))
                time.sleep(0.05)
            time.sleep(self.pause)


class WorkerCrashTest(E2ETestCase):
    """kill -9 of one worker, then of everything; nothing acknowledged is lost."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls)
        cls.env = unique_env('crash')
        cls.acks = []   # acknowledged (name, version, N) over both tests

    def check_history(self, acks, what):
        """Every ack is in its snapshot and the history is one change per step."""
        current = current_version(self.server, self.env)
        top = max((n for _, _, n in acks), default=0)
        self.assertGreaterEqual(current, top, '%s: current system version is below an '
                                'acknowledged answer' % what)
        snaps = self.assertHistory(self.server, self.env, current, acks, what)
        return current, snaps

    def get_status(self, n=None):
        """Status of GET /services?systemVersion=n, None on a connection error."""
        try:
            return self.server.services(n, self.env, timeout=5).status
        except (OSError, http.client.HTTPException):
            return None

    def deploy_with_retry(self, name, version, timeout=15.0):
        """Deploy until acknowledged (200) or `timeout`; returns N."""
        def attempt():
            try:
                resp = self.server.deploy(name, version, self.env, timeout=5)
            except (OSError, http.client.HTTPException):
                return None
            if resp.status in RETRY_STATUSES:
                return None
            return self.assertDeployAnswer(resp)
        return wait_until(attempt, timeout, 'an acknowledged deploy of %r' % name, 0.2)

    def kill_a_worker(self, round_number):
        """kill -9 one worker; within 15 s a new pid replaces it, the killed
        one is reaped and GET /services answers 200. Returns the new workers."""
        server = self.server
        workers = server.wait_workers(2)
        victim = busy_worker(workers) or workers[round_number % len(workers)]
        os.kill(victim, signal.SIGKILL)

        def replaced():
            now = server.worker_pids()
            return now if victim not in now and len(now) == len(workers) else None

        with self.diagnosed(server):
            now = wait_until(replaced, 15, 'a new worker replacing %d (kill %d)'
                             % (victim, round_number + 1))
            self.assertTrue(set(now) - set(workers), 'a new worker pid appears')
            wait_until(lambda: proc_stat(victim) is None, 15,
                       'the killed worker %d to be reaped' % victim)
            wait_until(lambda: self.get_status(1) == 200, 15,
                       'GET /services to answer 200 after the worker kill')
        time.sleep(0.3)
        return now

    def test_1_kill_workers_under_load(self):
        server = self.server
        load = DeployLoad(server, self.env, 'a').start()
        try:
            wait_until(lambda: load.ack_count() >= 20, 10, '20 acknowledged deploys')
            # At least two kills, at most KILL_ROUNDS: until one has hit a
            # request in flight.
            for round_number in range(KILL_ROUNDS):
                self.kill_a_worker(round_number)
                if round_number >= 1 and load.not_acked:
                    break
            n = self.deploy_with_retry('after-kill', 1)
            load_acks_at_recovery = load.ack_count()
            time.sleep(1.0)
        finally:
            load.stop()
        type(self).acks += load.ack_triples() + [('after-kill', 1, n)]
        load.assert_answers(self)
        self.assertGreater(load.ack_count(), 20)
        first = [number for _, _, number, first_attempt in load.acks if first_attempt]
        self.assertEqual(len(first), len(set(first)),
                         'two first-attempt changes were answered with the same number')
        sys.stderr.write('\n  load a: %d kills, %d requests, %d acknowledged (%d after the '
                         'last recovery), %d not acknowledged %r ... '
                         % (round_number + 1, load.requests, load.ack_count(),
                            load.ack_count() - load_acks_at_recovery, len(load.not_acked),
                            dict(collections.Counter(o for _, _, o in load.not_acked))))
        self.check_history(self.acks, 'after the worker kill')

    def test_2_kill_everything_and_restart(self):
        server = self.server
        self.assertEqual(server.services().status, 200, 'server is up before the group kill')
        nginx, supervisor = server.nginx_pid(), server.supervisor_pid()
        self.assertIsNotNone(nginx, 'nginx.pid names a live process of the launcher session')
        self.assertIsNotNone(supervisor)
        load = DeployLoad(server, self.env, 'b').start()
        try:
            wait_until(lambda: load.ack_count() >= 20, 10, '20 acknowledged deploys')
            survivors = server.kill_group()      # kill -9 mid-load
            load.stop_event.set()
        finally:
            load.stop()
        self.assertEqual(survivors, [], 'processes of the launcher session survived '
                         'kill -9 of its process group')
        self.assertFalse(pid_alive(nginx))
        self.assertFalse(pid_alive(supervisor))
        load.assert_answers(self)
        acks = self.acks + load.ack_triples()

        server.start()   # same data directory, new port
        with self.diagnosed(server):
            current, snaps = self.check_history(acks, 'after kill -9 and restart')
        n = self.deploy_ok(server, 'after-restart', 1, self.env, expected=current + 1)
        self.assertSnapshot(server, self.env, n,
                            harness.sorted_pairs(snaps[current] + [('after-restart', 1)]))
        server.wait_workers(2)


def verify_store(test, server):
    """With the server stopped (or killed): releasemgr-admin verify
    (recovery, Berkeley DB's verification, the history's checks), then
    db5.3_verify on every database file, find nothing wrong. Returns
    verify's summary line."""
    done = harness.admin(server.data_dir, 'verify')
    test.assertEqual(done.returncode, 0, 'releasemgr-admin verify: %s%s'
                     % (done.stdout.decode(), done.stderr.decode()[-3000:]))
    home = os.path.join(server.data_dir, 'db')
    for name in DB_FILES:
        checked = subprocess.run(['db5.3_verify', '-h', home, name], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, timeout=300)
        test.assertEqual(checked.returncode, 0, 'db5.3_verify %s: %s'
                         % (name, checked.stdout.decode()[-2000:]))
    return done.stdout.decode().strip()


class CrashRoundsTest(E2ETestCase):
    """8 clients deploy continuously and log every answer; the whole pool
    (and nginx) is killed with kill -9 at random moments and restarted on
    the same data; then a worker is frozen (SIGSTOP) in the middle of its
    work and killed. Every acknowledged deploy must be at its number, the
    history gapless and one change a step, and the store sound."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls, config={'lock_timeout_ms': '1000'})
        cls.env = unique_env('rounds')
        cls.acks = []
        cls.random = random.Random(os.environ.get('RELEASEMGR_CRASH_SEED', 'crash'))

    def check_history(self, what):
        current = current_version(self.server, self.env)
        self.assertHistory(self.server, self.env, current, self.acks, what)
        return current

    def run_load(self, load):
        load.assert_answers(self)
        type(self).acks += load.ack_triples()

    def test_1_kill_the_pool_at_random_moments(self):
        server = self.server
        requests = 0
        for round_number in range(CRASH_ROUNDS):
            load = DeployLoad(server, self.env, 'r%d' % round_number, threads=8,
                              max_requests=4000, duration=20.0, pause=0.01).start()
            try:
                wait_until(lambda: load.ack_count() >= 8, 15, 'deploys acknowledged')
                time.sleep(self.random.uniform(0.0, 1.5))
                survivors = server.kill_group()
                load.stop_event.set()
            finally:
                load.stop()
            self.assertEqual(survivors, [], 'processes survived kill -9 of the group')
            self.run_load(load)
            requests += load.requests
            if round_number == CRASH_ROUNDS - 1:
                # the store as kill -9 left it: verify recovers it first
                summary = verify_store(self, server)
            server.start()
        with self.diagnosed(server):
            current = self.check_history('after %d rounds of kill -9' % CRASH_ROUNDS)
        sys.stderr.write('\n  %d rounds: %d requests, %d acknowledged, all present; %d '
                         'system versions; %s ... ' % (CRASH_ROUNDS, requests, len(self.acks),
                                                       current, summary))

    def freeze_a_worker_holding_locks(self, load, attempts=30):
        """SIGSTOPs a busy worker; when deploys keep being acknowledged
        meanwhile, it held no lock they need: it is let go and another moment
        tried. Returns (the frozen pid, whether it stalled the deploys)."""
        for _ in range(attempts):
            workers = self.server.wait_workers(2)
            victim = busy_worker(workers) or workers[0]
            os.kill(victim, signal.SIGSTOP)
            time.sleep(0.2)
            before = load.ack_count()
            time.sleep(0.5)
            if load.ack_count() == before:
                return victim, True
            os.kill(victim, signal.SIGCONT)
            time.sleep(0.1)
        os.kill(victim, signal.SIGSTOP)
        return victim, False

    def test_2_worker_frozen_in_a_transaction_then_killed(self):
        server = self.server
        # enough requests and time for every attempt at freezing, then the
        # kill and the recovery: the load is stopped explicitly
        load = DeployLoad(server, self.env, 'frozen', threads=8, max_requests=200000,
                          duration=120.0, pause=0.01).start()
        try:
            wait_until(lambda: load.ack_count() >= 8, 15, 'deploys acknowledged')
            victim, holding = self.freeze_a_worker_holding_locks(load)
            frozen_at = load.ack_count()
            time.sleep(3.0)
            while_frozen = load.ack_count() - frozen_at
            os.kill(victim, signal.SIGKILL)
            # the pool comes back: deploys are acknowledged again
            with self.diagnosed(server):
                wait_until(lambda: load.ack_count() >= frozen_at + 20, 30,
                           'deploys acknowledged again after the frozen worker was killed')
        finally:
            load.stop()
        self.run_load(load)
        with self.diagnosed(server):
            current = self.check_history('after a frozen worker was killed')
        server.stop()
        summary = verify_store(self, server)
        server.start()
        sys.stderr.write('\n  frozen worker (%s): %d requests, %d acknowledged (%d while '
                         'it was frozen), %d not, all acknowledged present; %d system '
                         'versions; %s ... '
                         % ('it stalled the deploys: it held their locks' if holding
                            else 'never caught holding a lock', load.requests,
                            load.ack_count(), while_frozen, len(load.not_acked), current,
                            summary))


class PoolDownTest(E2ETestCase):
    """The pool (supervisor and workers) dies while nginx keeps running.

    Each test has its own server: the pool does not survive it.
    """

    def setUp(self):
        self.server = harness.Server(label='pooldown')
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.env = unique_env('down')
        self.deploy_ok(self.server, 'svc', 1, self.env, expected=1)
        self.nginx = self.server.nginx_pid()
        self.assertIsNotNone(self.nginx, 'nginx.pid names no live nginx of ours')

    def kill_pool(self):
        """kill -9 of the supervisor and its workers (nginx is left alone)."""
        supervisor, workers = self.server.supervisor_pid(), self.server.wait_workers(2)
        self.assertIsNotNone(supervisor)
        for pid in [supervisor] + workers:   # the supervisor first: no respawn
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not any(pid_alive(p) for p in [supervisor] + workers), 5,
                   'the pool processes to die')
        return supervisor

    def assertLauncherStopped(self):
        """A launcher that gives up when the pool dies must stop completely."""
        try:
            self.server.proc.wait(harness.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail('the pool is dead but the launcher still runs %.0fs later'
                      % harness.STOP_TIMEOUT)
        try:
            wait_until(lambda: not harness.session_members(self.server.pgid), 5,
                       'the launcher session to be empty')
        except AssertionError:
            self.fail('processes left behind: %r' % harness.session_members(self.server.pgid))

    def assertUnavailable(self):
        """While nginx is up and the pool down, every API call is a 503 problem."""
        server = self.server
        for label, send in [('GET /services', lambda: server.services(1, self.env)),
                            ('POST /deploy', lambda: server.deploy('svc', 2, self.env)),
                            ('HEAD /services', lambda: server.services(method='HEAD'))]:
            with self.subTest(label):
                resp = send()
                self.assertProblem(resp, 503, '/problems/unavailable',
                                   head=label.startswith('HEAD'))
                self.assertRetryAfter(resp)

    def test_pool_down_stops_the_launcher(self):
        """The launcher's policy: when the pool dies, nginx is stopped too and
        the launcher exits, leaving nothing behind (a service manager restarts
        it). Requests in that window may see a 503 or a refused connection;
        the 503 itself is checked with the launcher frozen, below."""
        self.kill_pool()
        self.assertLauncherStopped()
        self.assertFalse(pid_alive(self.nginx), 'nginx outlived the launcher')
        self.assertNotEqual(self.server.proc.returncode, 0,
                            'a launcher whose pool died must not report success')

    def test_pool_down_with_the_launcher_frozen_answers_503(self):
        """SIGSTOP keeps the launcher from reacting, so nginx stays up while
        the pool is dead whatever the launcher's policy; after SIGCONT the
        launcher either stops everything or brings the pool back."""
        launcher = self.server.proc.pid
        os.kill(launcher, signal.SIGSTOP)
        self.addCleanup(lambda: self.server.running() and os.kill(launcher, signal.SIGCONT))
        self.kill_pool()
        self.assertTrue(pid_alive(self.nginx))
        self.assertUnavailable()
        os.kill(launcher, signal.SIGCONT)
        try:
            self.server.proc.wait(harness.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:   # it kept running: the pool must be back
            wait_until(lambda: self.server.services(1, self.env).status == 200, 15,
                       'the launcher to stop or to bring the pool back')
            return
        self.assertLauncherStopped()


if __name__ == '__main__':
    unittest.main()
