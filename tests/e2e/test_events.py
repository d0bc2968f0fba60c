"""Deploy reports as they really arrive: the Deploy-Outcome header, an
eventId redelivered (duplicate) or reused (409), reports older than what
their service recorded (stale, by sequence or deployedAt), removals by a
percent-encoded name, a service's periods, and the audit log (GET
/events), each in an environment of its own on the shared server."""

import re
import urllib.parse

import harness
from harness import E2ETestCase, OMIT, json_body, unique_env

SERVER = None
INSTANT = re.compile(r'\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z')
OUTCOMES = {'applied', 'unchanged', 'duplicate', 'stale', 'removed'}


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


def report(env, name, version, event_id=None, sequence=None, deployed_at=None,
           **metadata):
    """POST /deploy of name and version, with the key members given."""
    def given(value):
        return OMIT if value is None else value
    return SERVER.post(json_body(name=name, version=version, environment=env,
                                 eventId=given(event_id), sequence=given(sequence),
                                 deployedAt=given(deployed_at), **metadata))


def service_path(name, suffix=''):
    """/services/{name}[suffix], the name percent-encoded (RFC 3986)."""
    return '/services/' + urllib.parse.quote(name, safe='') + suffix


def remove(env, name, event_id=None, sequence=None, deployed_at=None, path=None):
    """DELETE /services/{name} in env, with the key parameters given."""
    return SERVER.request('DELETE', (path or service_path(name)) + harness.query(
        environment=env, eventId=event_id, sequence=sequence, deployedAt=deployed_at))


def periods(env, name):
    return SERVER.request('GET', service_path(name, '/history') +
                          harness.query(environment=env))


def events(env, **params):
    return SERVER.request('GET', '/events' + harness.query(environment=env, **params))


class ReportsTest(E2ETestCase):
    """The rules of a report, and what each is answered."""

    def assertReport(self, resp, version, outcome):
        """The bare system version, and the outcome in Deploy-Outcome."""
        self.assertDeployAnswer(resp, version)
        self.assertEqual(resp.headers.get('deploy-outcome'), outcome, resp.describe())

    def current(self, env):
        resp = SERVER.request('GET', '/status' + harness.query(environment=env))
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()['systemVersion']

    def test_keyless_reports_are_as_before(self):
        env = unique_env('keyless')
        steps = [('Service A', 1, 1, 'applied'), ('Service B', 1, 2, 'applied'),
                 ('Service A', 2, 3, 'applied'), ('Service B', 1, 3, 'unchanged'),
                 ('Service A', 1, 4, 'applied')]
        for name, version, expected, outcome in steps:
            with self.subTest(name=name, version=version):
                self.assertReport(report(env, name, version), expected, outcome)
        self.assertSnapshot(SERVER, env, 3, [('Service A', 2), ('Service B', 1)])
        self.assertSnapshot(SERVER, env, 4, [('Service A', 1), ('Service B', 1)])

    def test_a_duplicate_is_answered_as_the_first_time(self):
        env = unique_env('dup')
        self.assertReport(report(env, 'a', 1, event_id='evt-1'), 1, 'applied')
        self.assertReport(report(env, 'b', 1, event_id='evt-2'), 2, 'applied')
        self.assertReport(report(env, 'a', 2, event_id='evt-3'), 3, 'applied')
        # the redelivery after other deploys: the first answer, nothing new
        self.assertReport(report(env, 'a', 1, event_id='evt-1'), 1, 'duplicate')
        # other members are not compared: the first report wins
        self.assertReport(report(env, 'a', 1, event_id='evt-1', sequence=99,
                                 reason='again'), 1, 'duplicate')
        self.assertEqual(self.current(env), 3)
        self.assertServices(SERVER.services(environment=env), [('a', 2), ('b', 1)])
        history = SERVER.request('GET', '/systemversions' + harness.query(environment=env))
        self.assertEqual([item['change']['name'] for item in history.json()],
                         ['a', 'b', 'a'], 'a is in history once per change')
        listed = events(env).json()
        self.assertEqual([(e['eventId'], e['outcome'], e['systemVersion'])
                          for e in listed],
                         [('evt-1', 'duplicate', 1), ('evt-1', 'duplicate', 1),
                          ('evt-3', 'applied', 3), ('evt-2', 'applied', 2),
                          ('evt-1', 'applied', 1)])

    def test_an_event_id_of_another_report_is_a_conflict(self):
        env = unique_env('conflict')
        self.assertReport(report(env, 'a', 1, event_id='evt-1'), 1, 'applied')
        for label, resp in [
                ('another version', report(env, 'a', 2, event_id='evt-1')),
                ('another name', report(env, 'b', 1, event_id='evt-1')),
                ('a removal', remove(env, 'a', event_id='evt-1'))]:
            with self.subTest(label):
                self.assertProblem(resp, 409, '/problems/event-conflict', field='eventId')
                self.assertNotIn('deploy-outcome', resp.headers)
        self.assertEqual(self.current(env), 1)
        self.assertServices(SERVER.services(environment=env), [('a', 1)])
        self.assertEqual(len(events(env).json()), 1, 'a problem is no audit entry')

    def test_a_report_older_by_sequence_is_stale(self):
        env = unique_env('seq')
        self.assertReport(report(env, 'A', 2, sequence=2), 1, 'applied')
        self.assertReport(report(env, 'A', 3, sequence=3), 2, 'applied')
        self.assertReport(report(env, 'other', 1), 3, 'applied')
        # A 2 redelivered after A 3: no rollback, the current version answered
        self.assertReport(report(env, 'A', 2, sequence=2), 3, 'stale')
        self.assertEqual(self.current(env), 3)
        self.assertServices(SERVER.services(environment=env), [('A', 3), ('other', 1)])
        # the sequence is compared before deployedAt, which it outranks
        self.assertReport(report(env, 'A', 2, sequence=1,
                                 deployed_at='2099-01-01T00:00:00Z'), 3, 'stale')
        self.assertReport(report(env, 'A', 4, sequence=4), 4, 'applied')

    def test_a_report_older_by_deployed_at_is_stale(self):
        env = unique_env('at')
        self.assertReport(report(env, 'A', 2, deployed_at='2026-12-06T10:00:00Z'), 1,
                          'applied')
        self.assertReport(report(env, 'A', 3, deployed_at='2026-12-06T10:30:00Z'), 2,
                          'applied')
        self.assertReport(report(env, 'A', 2, deployed_at='2026-12-06T10:00:00Z'), 2,
                          'stale')
        # the same instant with another offset is the same key
        self.assertReport(report(env, 'A', 2, deployed_at='2026-12-06T11:30:00+01:00'), 2,
                          'stale')
        self.assertServices(SERVER.services(environment=env), [('A', 3)])
        # a report without a key is never stale
        self.assertReport(report(env, 'A', 2), 3, 'applied')

    def test_an_equal_key_with_another_version_is_stale(self):
        env = unique_env('equal')
        self.assertReport(report(env, 'A', 1, sequence=5), 1, 'applied')
        self.assertReport(report(env, 'A', 2, sequence=5), 1, 'stale')
        self.assertReport(report(env, 'A', 1, sequence=5), 1, 'unchanged')
        self.assertServices(SERVER.services(environment=env), [('A', 1)])

    def test_removal(self):
        env = unique_env('remove')
        self.assertReport(report(env, 'A', 1), 1, 'applied')
        self.assertReport(report(env, 'B', 1), 2, 'applied')
        self.assertReport(remove(env, 'A'), 3, 'removed')
        self.assertServices(SERVER.services(environment=env), [('B', 1)])
        self.assertSnapshot(SERVER, env, 2, [('A', 1), ('B', 1)])
        version = SERVER.request('GET', '/systemversions/3' + harness.query(environment=env))
        self.assertEqual(version.status, 200, version.describe())
        self.assertEqual(version.json()['change'],
                         {'name': 'A', 'previousVersion': 1, 'version': None})
        # removed once: a second removal finds nothing, and is no audit entry
        self.assertProblem(remove(env, 'A'), 404, '/problems/not-found')
        self.assertProblem(remove(env, 'never'), 404, '/problems/not-found')
        self.assertEqual(len(events(env).json()), 3)
        # deployed again: a new service, without a previous version
        self.assertReport(report(env, 'A', 2), 4, 'applied')
        version = SERVER.request('GET', '/systemversions/4' + harness.query(environment=env))
        self.assertEqual(version.json()['change']['previousVersion'], None)
        self.assertServices(SERVER.services(environment=env), [('A', 2), ('B', 1)])

    def test_removal_without_environment_is_of_default(self):
        # the default environment is shared: a name of this test's own
        name = unique_env('default-removal')
        self.assertProblem(SERVER.request('DELETE', service_path(name)), 404,
                           '/problems/not-found')

    def test_removal_by_an_encoded_name(self):
        env = unique_env('encoded')
        names = ['team/api \u00e9', 'a/../b', '100% sure?#yes', 'plus+sign',
                 '\U0001f600 /x/', '..']
        for number, name in enumerate(names, 1):
            self.assertReport(report(env, name, 1), number, 'applied')
        for number, name in enumerate(names, len(names) + 1):
            with self.subTest(name=name):
                self.assertReport(remove(env, name), number, 'removed')
        self.assertServices(SERVER.services(environment=env), [])

    def test_the_key_of_a_removal(self):
        env = unique_env('tombstone')
        self.assertReport(report(env, 'A', 1, sequence=1), 1, 'applied')
        self.assertReport(remove(env, 'A', sequence=2, event_id='rm-1'), 2, 'removed')
        # the deploy it outdates, arriving late, is stale
        self.assertReport(report(env, 'A', 1, sequence=1), 2, 'stale')
        self.assertReport(remove(env, 'A', sequence=2, event_id='rm-1'), 2, 'duplicate')
        # a removal of a service not there records its key all the same
        self.assertProblem(remove(env, 'ghost', sequence=5), 404, '/problems/not-found')
        self.assertReport(report(env, 'ghost', 1, sequence=4), 2, 'stale')
        self.assertReport(report(env, 'ghost', 1, sequence=6), 3, 'applied')

    def test_refused_removals(self):
        env = unique_env('refused')
        cases = [
            ('a bad sequence', remove(env, 'a', sequence=-1), 'sequence'),
            ('sequence past 2^53 - 1', remove(env, 'a', sequence=2 ** 53), 'sequence'),
            ('an empty eventId', remove(env, 'a', event_id=''), 'eventId'),
            ('an eventId of 129 bytes', remove(env, 'a', event_id='e' * 129), 'eventId'),
            ('a bad deployedAt', remove(env, 'a', deployed_at='yesterday'), 'deployedAt'),
            ('a bad environment', SERVER.request('DELETE', '/services/a?environment=a%20b'),
             'environment'),
            ('a name not UTF-8', SERVER.request('DELETE', '/services/caf%C3'), 'name'),
            ('a name with a control', SERVER.request('DELETE', '/services/a%0Ab'), 'name'),
            ('a name of 257 bytes', SERVER.request('DELETE', '/services/' + 'n' * 257),
             'name'),
        ]
        for label, resp, parameter in cases:
            with self.subTest(label):
                self.assertProblem(resp, 400, '/problems/invalid-parameter',
                                   parameter=parameter)
        # an escape nginx cannot decode is its own 400
        self.assertProblem(SERVER.request('DELETE', '/services/a%zz'), 400,
                           '/problems/bad-request')
        self.assertProblem(SERVER.request('GET', '/services/a'), 405,
                           '/problems/method-not-allowed', allow='DELETE')
        self.assertProblem(SERVER.request('POST', '/services/a%2Fb'), 405,
                           '/problems/method-not-allowed', allow='DELETE')
        self.assertProblem(SERVER.request('DELETE', '/services/a/history'), 405,
                           '/problems/method-not-allowed', allow='GET, HEAD')
        self.assertProblem(SERVER.request('DELETE', '/services/a/b'), 404,
                           '/problems/not-found')

    def test_refused_keys_of_a_deploy(self):
        env = unique_env('badkey')
        cases = [('eventId', {'event_id': ''}), ('eventId', {'event_id': 'x' * 129}),
                 ('eventId', {'event_id': 'a\tb'}), ('sequence', {'sequence': -1}),
                 ('sequence', {'sequence': 2 ** 53}), ('sequence', {'sequence': 1.5}),
                 ('deployedAt', {'deployed_at': '2026-02-30T00:00:00Z'})]
        for field, key in cases:
            with self.subTest(field=field, key=key):
                resp = report(env, 'a', 1, **key)
                self.assertProblem(resp, 400, '/problems/invalid-field', field=field)
                self.assertNotIn('deploy-outcome', resp.headers)


class PeriodsTest(E2ETestCase):
    """GET /services/{name}/history: the periods a service ran."""

    def created_at(self, env, n):
        resp = SERVER.request('GET', '/systemversions/%d' % n + harness.query(environment=env))
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()['createdAt']

    def test_periods_across_a_removal(self):
        env = unique_env('periods')
        name = 'team/api \u00e9'
        self.deploy_ok(SERVER, name, 1, env, expected=1)
        self.deploy_ok(SERVER, 'other', 1, env, expected=2)
        self.deploy_ok(SERVER, name, 2, env, expected=3)
        self.assertDeployAnswer(remove(env, name), 4)
        self.deploy_ok(SERVER, 'other', 2, env, expected=5)
        self.deploy_ok(SERVER, name, 3, env, expected=6)
        resp = periods(env, name)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'application/json')
        self.assertEqual(resp.headers.get('cache-control'), 'no-cache')
        at = {n: self.created_at(env, n) for n in (1, 3, 4, 6)}
        self.assertEqual(resp.json(), [
            {'version': 3, 'fromSystemVersion': 6, 'toSystemVersion': None,
             'from': at[6], 'to': None},
            {'version': 2, 'fromSystemVersion': 3, 'toSystemVersion': 4,
             'from': at[3], 'to': at[4]},
            {'version': 1, 'fromSystemVersion': 1, 'toSystemVersion': 3,
             'from': at[1], 'to': at[3]},
        ])
        head = SERVER.request('HEAD', service_path(name, '/history') +
                              harness.query(environment=env))
        self.assertEqual((head.status, head.body), (200, b''))

    def test_a_name_never_deployed(self):
        env = unique_env('noperiods')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        self.assertProblem(periods(env, 'b'), 404, '/problems/not-found')
        self.assertProblem(periods(unique_env('unknown'), 'a'), 404, '/problems/not-found')
        self.assertProblem(SERVER.request('GET', '/services/%FF/history'), 400,
                           '/problems/invalid-parameter', parameter='name')


class EventsTest(E2ETestCase):
    """GET /events: the audit log, newest first, paged."""

    def test_members(self):
        env = unique_env('events')
        report(env, 'Service A', 2, event_id='evt-1', sequence=17,
               deployed_at='2026-12-06T10:15:03.042Z', deployedBy='ci',
               reason='fix', releaseHash='0f3a')
        report(env, 'Service A', 2)
        remove(env, 'Service A')
        resp = events(env)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'application/json')
        self.assertEqual(resp.headers.get('cache-control'), 'no-cache')
        listed = resp.json()
        self.assertEqual([e['id'] for e in listed], [3, 2, 1])
        for entry in listed:
            self.assertRegex(entry['receivedAt'], INSTANT)
            self.assertIn(entry['outcome'], OUTCOMES)
        removal, unchanged, first = listed
        self.assertEqual({k: v for k, v in first.items() if k != 'receivedAt'}, {
            'id': 1, 'outcome': 'applied', 'name': 'Service A', 'version': 2,
            'systemVersion': 1, 'eventId': 'evt-1', 'sequence': 17,
            'deployedAt': '2026-12-06T10:15:03.042Z', 'deployedBy': 'ci',
            'reason': 'fix', 'releaseHash': '0f3a'})
        self.assertEqual({k: v for k, v in unchanged.items() if k != 'receivedAt'}, {
            'id': 2, 'outcome': 'unchanged', 'name': 'Service A', 'version': 2,
            'systemVersion': 1})
        self.assertEqual({k: v for k, v in removal.items() if k != 'receivedAt'}, {
            'id': 3, 'outcome': 'removed', 'name': 'Service A', 'version': None,
            'systemVersion': 2})
        self.assertLessEqual(first['receivedAt'], removal['receivedAt'])

    def test_paging(self):
        env = unique_env('evpages')
        for number in range(1, 8):
            self.assertDeployAnswer(report(env, 's%d' % number, 1), number)
        seen, path, pages = [], '/events' + harness.query(environment=env, limit=3), 0
        while path:
            resp = SERVER.request('GET', path)
            self.assertEqual(resp.status, 200, resp.describe())
            seen += [e['id'] for e in resp.json()]
            pages += 1
            link = resp.headers.get('link')
            match = re.fullmatch(r'<([^>]+)>; rel="next"', link) if link else None
            self.assertEqual(bool(link), bool(match), 'Link: %r' % link)
            path = match.group(1) if match else None
            self.assertLessEqual(pages, 3)
        self.assertEqual(seen, [7, 6, 5, 4, 3, 2, 1])
        self.assertEqual(pages, 3)
        self.assertEqual([e['id'] for e in events(env, before=3).json()], [2, 1])
        self.assertEqual(len(events(env, limit=500).json()), 7)
        for params, parameter in [({'limit': 0}, 'limit'), ({'limit': 501}, 'limit'),
                                  ({'before': 0}, 'before')]:
            with self.subTest(params):
                self.assertProblem(events(env, **params), 400,
                                   '/problems/invalid-parameter', parameter=parameter)

    def test_environments(self):
        self.assertProblem(events(unique_env('noevents')), 404, '/problems/not-found')
        resp = SERVER.request('GET', '/events')
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertIsInstance(resp.json(), list)
