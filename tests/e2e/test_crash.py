"""Crashes: kill -9 of a worker under load, kill -9 of the whole process
group (pool + nginx) followed by a restart on the same data directory, and
the pool dying while nginx stays up; rounds of group kills under 8 deploying
clients, a worker frozen inside a transaction then killed, and a group kill
during a stream of reports with eventIds whose unanswered reports are then
sent again, each checked afterwards with releasemgr-admin verify. Each class
has its own server.

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
            'periods.db', 'keys.db', 'events.db', 'audit.db')


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


class ReportStream:
    """Threads sending deploy reports with eventIds, each report once.

    The reports are drawn from one generator: a unique eventId, a service
    among `services`, the next of that service's sequence numbers and a
    version from 1 to 4 (so some reports are unchanged), as a watcher of
    several clusters would send them. The threads deliver them in whatever
    order they get through, so some arrive after a later report of their
    service (stale). Nothing is retried: a report answered 200 is in
    `answered`, {eventId: (N, outcome)}; a connection error, a timeout or a
    502/503 leaves it in `unanswered`; any other answer is `unexpected`.
    """

    def __init__(self, server, environment, rand, threads=8, max_reports=2000,
                 services=24, pause=0.0):
        self.server, self.environment, self.random = server, environment, rand
        self.threads, self.max_reports, self.pause = threads, max_reports, pause
        self.names = ['svc-%02d' % number for number in range(services)]
        self.sequences = collections.Counter()
        self.reports = []            # every report taken, in the order taken
        self.answered, self.unanswered, self.unexpected = {}, {}, []
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._pool = []

    def start(self):
        self._pool = [threading.Thread(target=self._run, daemon=True)
                      for _ in range(self.threads)]
        for thread in self._pool:
            thread.start()
        return self

    def stop(self, timeout=30.0):
        self.stop_event.set()
        end = time.monotonic() + timeout
        for thread in self._pool:
            thread.join(max(0.0, end - time.monotonic()))
        if any(thread.is_alive() for thread in self._pool):
            raise AssertionError('report threads did not stop within %.0fs' % timeout)

    def counts(self):
        with self._lock:
            return len(self.reports), len(self.answered)

    def _take(self):
        with self._lock:
            if self.stop_event.is_set() or len(self.reports) >= self.max_reports:
                return None
            name = self.random.choice(self.names)
            self.sequences[name] += 1
            report = {'eventId': '%s-e%05d' % (self.environment, len(self.reports)),
                      'name': name, 'version': self.random.randint(1, 4),
                      'sequence': self.sequences[name]}
            self.reports.append(report)
            return report

    def _run(self):
        while True:
            report = self._take()
            if report is None:
                return
            try:
                resp = send_report(self.server, self.environment, report)
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
            else:
                if resp.status == 200 and resp.body.isdigit():
                    with self._lock:
                        self.answered[report['eventId']] = (
                            int(resp.body), resp.headers.get('deploy-outcome'))
                    time.sleep(self.pause)
                    continue
                if resp.status not in RETRY_STATUSES:
                    with self._lock:
                        self.unexpected.append((report, resp.describe()))
                    continue
                outcome = 'HTTP %d' % resp.status
            with self._lock:
                self.unanswered[report['eventId']] = outcome


def send_report(server, environment, report, timeout=harness.HTTP_TIMEOUT):
    """POST /deploy of a report {eventId, name, version, sequence}."""
    return server.post(harness.json_body(
        name=report['name'], version=report['version'], environment=environment,
        eventId=report['eventId'], sequence=report['sequence']), timeout=timeout)


class ReportStreamCrashTest(E2ETestCase):
    """8 clients send a stream of reports with eventIds and sequences; the
    whole pool (and nginx) is killed with kill -9 at a random moment and
    restarted on the same data. Then every report that got no answer is
    sent again, with a sample of those that did: each is answered, the
    ones the store had committed before the kill (their answer lost) and
    the answered ones as duplicates with their first answer, and the audit
    log, the history and the final snapshot show every report counted
    exactly once."""

    RESENT_ANSWERED = 100    # answered reports sent again, at most

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls)
        cls.env = unique_env('stream')
        cls.random = random.Random(os.environ.get('RELEASEMGR_CRASH_SEED', 'stream'))

    def audit_log(self):
        """{eventId: [audit entries, oldest first]}, and every entry oldest first."""
        entries = list(reversed(harness.paged(self.server, '/events', self.env)))
        by_event = collections.defaultdict(list)
        for entry in entries:
            by_event[entry.get('eventId')].append(entry)
        return by_event, entries

    def kill_mid_stream(self, stream):
        """kill -9 of the group 0.3 to 1.5 s after the first answers, and
        before the stream has run out; returns the seconds it ran."""
        started = time.monotonic()
        wait_until(lambda: stream.counts()[1] >= 8, 15, 'reports answered')
        kill_at = time.monotonic() + self.random.uniform(0.3, 1.5)
        while time.monotonic() < kill_at and stream.counts()[0] < stream.max_reports * 3 // 4:
            time.sleep(0.005)
        # the reports in flight meet the kill; then no new report is sent
        survivors = self.server.kill_group(after_signal=stream.stop_event.set)
        self.assertEqual(survivors, [], 'processes survived kill -9 of the group')
        return time.monotonic() - started

    def resend(self, reports):
        """Sends each report again (4 at a time); {eventId: (N, outcome)}."""
        def again(report):
            resp = send_report(self.server, self.env, report)
            self.assertDeployAnswer(resp)
            return report['eventId'], (int(resp.body), resp.headers.get('deploy-outcome'))
        return dict(harness.run_parallel(again, reports, 4))

    def test_kill_during_a_stream_of_reports_then_resend(self):
        server, env = self.server, self.env
        stream = ReportStream(server, env, self.random).start()
        try:
            ran = self.kill_mid_stream(stream)
        finally:
            stream.stop()
        self.assertEqual(stream.unexpected[:5], [], 'answers other than 200/502/503')
        reports = {r['eventId']: r for r in stream.reports}
        answered, unanswered = stream.answered, stream.unanswered
        self.assertEqual(len(answered) + len(unanswered), len(reports))
        self.assertLess(len(reports), stream.max_reports, 'the kill came mid-stream')
        self.assertGreater(len(unanswered), 0, 'reports were in flight at the kill')
        for event_id, (_, outcome) in answered.items():
            self.assertIn(outcome, ('applied', 'unchanged', 'stale'), event_id)

        began = time.monotonic()
        server.start()                   # same data directory, new port
        restart = time.monotonic() - began

        # what the store kept: every answered report, and those of the
        # unanswered ones that had committed before the kill
        with self.diagnosed(server):
            by_event, _ = self.audit_log()
        self.assertLessEqual(set(by_event), set(reports), 'audit entries of unknown reports')
        for event_id, entries in by_event.items():
            self.assertEqual(len(entries), 1, 'one entry per report before the resend: %r'
                             % entries)
        for event_id, (n, outcome) in answered.items():
            entry = by_event.get(event_id, [None])[0]
            self.assertIsNotNone(entry, 'answered report %s lost in the crash' % event_id)
            self.assertEqual((entry['systemVersion'], entry['outcome']), (n, outcome),
                             'the audit entry of %s says what it was answered' % event_id)
        committed = {e for e in unanswered if e in by_event}

        sample = self.random.sample(sorted(answered),
                                    min(self.RESENT_ANSWERED, len(answered)))
        resent_ids = sorted(unanswered) + sample
        self.random.shuffle(resent_ids)
        with self.diagnosed(server):
            resent = self.resend([reports[e] for e in resent_ids])
        wrong = []
        for event_id, (n, outcome) in resent.items():
            if event_id in answered:
                expected = 'a duplicate of its answer %d' % answered[event_id][0]
                right = (n, outcome) == (answered[event_id][0], 'duplicate')
            elif event_id in committed:
                expected = 'a duplicate of its lost answer %d' % (
                    by_event[event_id][0]['systemVersion'])
                right = (n, outcome) == (by_event[event_id][0]['systemVersion'],
                                         'duplicate')
            else:
                expected = 'new: applied, unchanged or stale'
                right = outcome in ('applied', 'unchanged', 'stale')
            if not right:
                wrong.append('%s resent: %s %d, expected %s' % (event_id, outcome, n, expected))
        self.assertEqual(wrong[:10], [], 'answers to the reports sent again')
        # each report's one answer that is not a duplicate
        first = dict(answered)
        first.update({e: (by_event[e][0]['systemVersion'], by_event[e][0]['outcome'])
                      for e in committed})
        first.update({e: resent[e] for e in unanswered if e not in committed})
        self.assertEqual(set(first), set(reports))

        with self.diagnosed(server):
            current = self.check_store(reports, first, resent)
        server.stop()
        summary = verify_store(self, server)
        outcomes = collections.Counter(outcome for _, outcome in first.values())
        sys.stderr.write(
            '\n  %d reports in %.2fs to the kill: %d answered, %d unanswered (%s), %d of '
            'them committed before it (duplicates on resend); restart %.2fs; %d resent, '
            'all answered; %s; %d system versions; %s ... '
            % (len(reports), ran, len(answered), len(unanswered),
               dict(collections.Counter(unanswered.values())), len(committed), restart,
               len(resent), dict(outcomes), current, summary))

    def check_store(self, reports, first, resent):
        """The audit log, history and snapshot hold each report once, as it
        was answered; returns the current system version."""
        server, env = self.server, self.env
        by_event, entries = self.audit_log()
        duplicates = sum(1 for _, outcome in resent.values() if outcome == 'duplicate')
        self.assertEqual([e['id'] for e in entries], list(range(1, len(entries) + 1)),
                         'audit ids are gapless from 1')
        self.assertEqual(len(entries), len(reports) + duplicates,
                         'one entry per report and one per duplicate resent')
        for event_id, report in reports.items():
            kept = [e for e in by_event[event_id] if e['outcome'] != 'duplicate']
            self.assertEqual(len(kept), 1, 'report %s counted once: %r'
                             % (event_id, by_event[event_id]))
            entry = kept[0]
            self.assertEqual((entry['name'], entry['version'], entry['sequence']),
                             (report['name'], report['version'], report['sequence']))
            self.assertEqual((entry['systemVersion'], entry['outcome']), first[event_id])
            for dup in by_event[event_id]:
                self.assertEqual(dup['systemVersion'], entry['systemVersion'])

        # one system version per applied report, gapless, and each the
        # change that report made
        status = server.request('GET', '/status' + harness.query(environment=env))
        self.assertEqual(status.status, 200, status.describe())
        current = status.json()['systemVersion']
        applied = sorted((n, event_id) for event_id, (n, outcome) in first.items()
                         if outcome == 'applied')
        self.assertEqual([n for n, _ in applied], list(range(1, current + 1)),
                         'each system version made by exactly one applied report')
        changes = {item['systemVersion']: item['change']
                   for item in harness.paged(server, '/systemversions', env)}
        self.assertEqual(sorted(changes), list(range(1, current + 1)))
        for n, event_id in applied:
            change = changes[n]
            self.assertEqual((change['name'], change['version']),
                             (reports[event_id]['name'], reports[event_id]['version']),
                             'the change of system version %d' % n)
        acks = [(reports[e]['name'], reports[e]['version'], n)
                for e, (n, outcome) in first.items() if outcome in ('applied', 'unchanged')]
        self.assertHistory(server, env, current, acks, 'after the crash and the resend')
        for event_id, (n, _) in first.items():
            self.assertTrue(1 <= n <= current, '%s answered %d of %d' % (event_id, n, current))

        # per service, the reports that were not stale in the order the
        # store took them have rising sequences: none went backwards
        taken = collections.defaultdict(list)
        for entry in entries:
            if entry['outcome'] in ('applied', 'unchanged'):
                taken[entry['name']].append(entry['sequence'])
        for name, sequences in taken.items():
            self.assertEqual(sequences, sorted(set(sequences)), 'the order of %s' % name)

        # the final snapshot: every service at its highest sequence's version
        latest = {}
        for report in reports.values():
            if report['sequence'] > latest.get(report['name'], (0, 0))[0]:
                latest[report['name']] = (report['sequence'], report['version'])
        self.assertServices(server.services(environment=env), harness.sorted_pairs(
            [(name, version) for name, (_, version) in latest.items()]))
        return current


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
