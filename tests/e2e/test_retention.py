"""Retention: with event_retention_days and audit_retention_days set to
seconds, the maintainer removes the expired eventIds and audit entries,
cycle after cycle: a report resent within the window is a duplicate, once
past it the same report is new again and GET /events is empty; the
history, the snapshots, the periods and the keys that make a report stale
are left as they were; and the files of the eventIds and the audit log
stop growing once the first cycles have shaped their trees. At the end the
stopped store holds none of either, only the environment's mark of how
far the expiry of eventIds has walked the audit log. The class has its
own server."""

import os
import subprocess
import sys
import threading
import time
import urllib.parse

import harness
from harness import E2ETestCase, json_body, unique_env, wait_until

EVENT_RETENTION = 2.0     # seconds: event_retention_days = 2s
AUDIT_RETENTION = 3.0     # seconds: audit_retention_days = 3s
CYCLES = 5
REPORTS = 300             # per cycle
SERVICES = 20
RECENT = 8                # a batch's newest reports resent within the window
RETENTION_FILES = ('events.db', 'audit.db')
ENV_ID_SIZE = 4           # bytes of the key of an environment's mark in events.db


class SizeSampler:
    """Samples the sizes of files every `interval` seconds on a thread and
    keeps the largest seen since the last take(): a file that is extended
    and truncated again within one cycle still shows its high-water mark."""

    def __init__(self, paths, interval=0.02):
        self.paths, self.interval = paths, interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._peak = self._sizes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sizes(self):
        sizes = []
        for path in self.paths:
            try:
                sizes.append(os.path.getsize(path))
            except OSError:
                sizes.append(0)
        return sizes

    def _run(self):
        while not self._stop.wait(self.interval):
            sizes = self._sizes()
            with self._lock:
                self._peak = [max(a, b) for a, b in zip(self._peak, sizes)]

    def current(self):
        return tuple(self._sizes())

    def take(self):
        """The largest sizes since the last take(); then starts afresh."""
        sizes = self._sizes()
        with self._lock:
            peak, self._peak = [max(a, b) for a, b in zip(self._peak, sizes)], sizes
        return tuple(peak)

    def stop(self):
        self._stop.set()
        self._thread.join(5)


class RetentionTest(E2ETestCase):
    """Cycles of reports whose eventIds and audit entries expire in seconds."""

    @classmethod
    def setUpClass(cls):
        # A checkpoint a second puts the pages on disk soon after they
        # change, so that a file's size tells how many pages its tree has
        # taken. No log flush for each deploy (a flush can take 10 ms on a
        # busy disk), so that a cycle's reports are all in the store well
        # before the first of them expires: each cycle's trees then reach
        # the same size, and a larger one would be growth.
        cls.server = harness.private_server(cls, config={
            'event_retention_days': '%ds' % EVENT_RETENTION,
            'audit_retention_days': '%ds' % AUDIT_RETENTION,
            'checkpoint_seconds': 1, 'durable_commits': 'no'})
        cls.env = unique_env('retention')
        cls.names = ['svc-%02d' % number for number in range(SERVICES)]
        cls.sequences = {name: 0 for name in cls.names}

    # -- requests ----------------------------------------------------------
    def send(self, report):
        """POST /deploy of a report; (N, outcome) of its 200 answer."""
        resp = self.server.post(json_body(
            name=report['name'], version=report['version'], environment=self.env,
            eventId=report['eventId'], sequence=report['sequence']))
        n = self.assertDeployAnswer(resp)
        return n, resp.headers.get('deploy-outcome')

    def get_json(self, path, **params):
        resp = self.server.request('GET', path + harness.query(environment=self.env,
                                                               **params))
        self.assertEqual(resp.status, 200, '%s: %s' % (path, resp.describe()))
        return resp.json()

    def state(self):
        """Everything but the audit log and the eventIds: history,
        snapshot, status, environments and each service's periods."""
        return {
            'systemversions': harness.paged(self.server, '/systemversions', self.env),
            'services': self.get_json('/services'),
            'status': self.get_json('/status'),
            'environments': [e for e in self.get_json('/environments')
                             if e['name'] == self.env],
            'periods': {name: self.get_json('/services/%s/history'
                                             % urllib.parse.quote(name, safe=''))
                        for name in self.names},
        }

    # -- a cycle -----------------------------------------------------------
    def batch(self, cycle):
        """REPORTS reports over SERVICES services, one after the other so
        that their keys come in order and each cycle shapes the trees
        alike; the reports, each with its answer and the monotonic time its
        request was begun."""
        reports = []
        for number in range(REPORTS):
            name = self.names[number % SERVICES]
            self.sequences[name] += 1
            reports.append({'eventId': 'c%d-r%03d' % (cycle, number), 'name': name,
                            'version': (number // SERVICES + cycle) % 3 + 1,
                            'sequence': self.sequences[name]})

        for report in reports:
            report['sent'] = time.monotonic()
            report['answer'] = self.send(report)
        return reports

    def assert_duplicates_within_the_window(self, reports):
        """The newest reports, resent at once, are duplicates answered as
        the first time. Only a resend that ended well within the window,
        by the client's clock, is judged (a slow machine could take longer);
        at least one must be. Returns how many were."""
        judged = 0
        for report in sorted(reports, key=lambda r: r['sent'])[-RECENT:]:
            answer = self.send(report)
            if time.monotonic() - report['sent'] < EVENT_RETENTION - 0.5:
                self.assertEqual(answer, (report['answer'][0], 'duplicate'),
                                 'a resend of %s within the window' % report['eventId'])
                judged += 1
        self.assertGreater(judged, 0, 'no resend came within the window')
        return judged

    def wait_expired(self):
        """Until GET /events is empty: the audit entries past their
        retention and (shorter) the eventIds are gone."""
        begun = time.monotonic()
        with self.diagnosed(self.server):
            wait_until(lambda: self.get_json('/events') == [], AUDIT_RETENTION + 20,
                       'the audit log to expire', interval=0.25)
        return time.monotonic() - begun

    def test_expiry_cycles(self):
        home = os.path.join(self.server.data_dir, 'db')
        sampler = SizeSampler([os.path.join(home, name) for name in RETENTION_FILES])
        self.addCleanup(sampler.stop)
        sizes, peaks, waits, batches, judged = [], [], [], [], 0
        for cycle in range(1, CYCLES + 1):
            begun = time.monotonic()
            reports = self.batch(cycle)
            batches.append(time.monotonic() - begun)
            for report in reports:
                self.assertIn(report['answer'][1], ('applied', 'unchanged'), report)
            judged += self.assert_duplicates_within_the_window(reports)
            self.assertIn('duplicate', [e['outcome'] for e in self.get_json('/events')],
                          'the audit log holds the duplicates before it expires')
            before = self.state()

            waits.append(self.wait_expired())
            self.assertEqual(self.state(), before, 'the expiry changed nothing else')

            # the same reports are new again: the newest of a service is
            # unchanged, an older one stale, since its keys are kept
            last = {}
            for report in reports:
                last[report['name']] = report
            newest, older = last[self.names[0]], reports[0]
            self.assertLess(older['sequence'], newest['sequence'])
            current = before['status']['systemVersion']
            self.assertEqual(self.send(newest), (current, 'unchanged'),
                             'an expired eventId resent is a new report')
            self.assertEqual(self.send(older), (current, 'stale'),
                             'an expired eventId resent is a new report, judged by its key')
            self.assertEqual([(e['eventId'], e['outcome']) for e in self.get_json('/events')],
                             [(older['eventId'], 'stale'), (newest['eventId'], 'unchanged')])
            self.assertEqual(self.state(), before, 'the new reports changed nothing')

            # those two expire too, so that every cycle starts from nothing
            waits.append(self.wait_expired())
            time.sleep(1.5)   # a checkpoint: the pages on disk
            peaks.append(sampler.take())
            sizes.append(sampler.current())

        self.server.stop()
        keys = {name: records(self.server.data_dir, name) for name in RETENTION_FILES}
        left = {name: len([key for key in keys[name] if not is_mark(name, key)])
                for name in RETENTION_FILES}
        marks = len([key for key in keys['events.db'] if is_mark('events.db', key)])
        def show(table):
            return ', '.join('/'.join(str(size) for size in row) for row in table)
        sys.stderr.write('\n  %d cycles of %d reports (sent in %s s; %d resent within '
                         'the window, duplicates); audit log empty %s s after the window '
                         'check and after the expired reports resent; '
                         'bytes of %s, largest in each cycle: %s; at its end: %s; '
                         'records left: %s, and %d mark ... '
                         % (CYCLES, REPORTS, ', '.join('%.1f' % b for b in batches), judged,
                            ', '.join('%.1f' % w for w in waits),
                            '/'.join(RETENTION_FILES), show(peaks), show(sizes), left,
                            marks))
        self.assertEqual(left, {name: 0 for name in RETENTION_FILES},
                         'expired eventIds or audit entries left in the store')
        self.assertEqual(marks, 1, "the environment's mark in events.db")
        for index, name in enumerate(RETENTION_FILES):
            shaped = max(peaks[0][index], peaks[1][index])
            self.assertEqual([p[index] for p in peaks[2:] if p[index] > shaped], [],
                             '%s grew after the first two cycles: %r'
                             % (name, [p[index] for p in peaks]))


def records(data_dir, name):
    """The keys of the records in database file `name` of a stopped store
    (db5.3_dump), as bytes."""
    done = subprocess.run(['db5.3_dump', os.path.join(data_dir, 'db', name)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if done.returncode != 0:
        raise AssertionError('db5.3_dump %s: %s' % (name, done.stderr.decode()[-2000:]))
    lines = done.stdout.decode('ascii').splitlines()
    body = lines[lines.index('HEADER=END') + 1:lines.index('DATA=END')]
    return [bytes.fromhex(line.strip()) for line in body[0::2]]   # a key line, a value line


def is_mark(name, key):
    """True for an environment's mark in events.db: under its id alone, it
    says how far the expiry of its eventIds has walked its audit log."""
    return name == 'events.db' and len(key) == ENV_ID_SIZE
