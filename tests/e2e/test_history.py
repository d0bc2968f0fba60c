"""The history routes: GET /systemversions (newest first, paged with Link),
GET /systemversions/N (one version with its services and digest), GET /diff
(within an environment, and between two) and GET /environments."""

import datetime
import re
import time
import urllib.parse

import harness
from harness import E2ETestCase, unique_env

SERVER = None
INSTANT = re.compile(r'\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z')
NEXT_LINK = re.compile(r'\A<([^>]+)>; rel="next"\Z')
VERSIONS = 120


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


def history(server, **params):
    return server.request('GET', '/systemversions' + harness.query(**params))


def parse_instant(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ')


class HistoryTest(E2ETestCase):
    """One environment of 120 versions over 7 services, some with metadata."""

    @classmethod
    def setUpClass(cls):
        cls.env = unique_env('history')
        cls.expected = {}       # system version -> (name, previous, version, metadata)
        current = {}
        for n in range(1, VERSIONS + 1):
            name = 'svc-%d' % (n % 7)
            version = n
            metadata = {}
            if n % 3 == 0:
                metadata['deployedBy'] = 'ci-%d' % n
            if n % 5 == 0:
                metadata['reason'] = 'because <%d> "quoted"' % n
            if n % 11 == 0:
                metadata['releaseHash'] = '%040x' % n
            resp = SERVER.deploy(name, version, cls.env, **metadata)
            assert resp.status == 200 and int(resp.body) == n, resp.describe()
            cls.expected[n] = (name, current.get(name), version, metadata)
            current[name] = version

    def assertVersionItem(self, item, n):
        name, previous, version, metadata = self.expected[n]
        self.assertEqual(sorted(item), ['change', 'createdAt', 'systemVersion'])
        self.assertEqual(item['systemVersion'], n)
        self.assertRegex(item['createdAt'], INSTANT)
        change = item['change']
        self.assertEqual(sorted(change), sorted(['name', 'previousVersion', 'version']
                                                + list(metadata)))
        self.assertEqual((change['name'], change['previousVersion'], change['version']),
                         (name, previous, version))
        for key, value in metadata.items():
            self.assertEqual(change[key], value)

    def follow(self, limit):
        """Every page from the newest, following Link; returns the items."""
        items, pages = [], 0
        path = '/systemversions' + harness.query(environment=self.env, limit=limit)
        while path is not None:
            resp = SERVER.request('GET', path)
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertEqual(resp.media_type, 'application/json')
            page = resp.json()
            self.assertLessEqual(len(page), limit or 50)
            items += page
            pages += 1
            link = resp.headers.get('link')
            if link is None:
                path = None
                continue
            match = NEXT_LINK.match(link)
            self.assertIsNotNone(match, 'Link header %r' % link)
            path = match.group(1)
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            self.assertEqual(query['before'], [str(page[-1]['systemVersion'])])
            self.assertLess(pages, 200, 'paging does not end')
        return items, pages

    def test_paging_across_all_versions(self):
        for limit, pages in [(None, 3), (7, 18), (120, 1), (500, 1)]:
            with self.subTest(limit=limit):
                items, got_pages = self.follow(limit)
                self.assertEqual([i['systemVersion'] for i in items],
                                 list(range(VERSIONS, 0, -1)))
                self.assertEqual(got_pages, pages)
        items, _ = self.follow(50)
        for item in items:
            self.assertVersionItem(item, item['systemVersion'])
        times = [parse_instant(i['createdAt']) for i in items]
        self.assertEqual(times, sorted(times, reverse=True), 'createdAt goes backwards')

    def test_before(self):
        resp = history(SERVER, environment=self.env, before=11, limit=3)
        self.assertEqual([i['systemVersion'] for i in resp.json()], [10, 9, 8])
        resp = history(SERVER, environment=self.env, before=2)
        self.assertEqual([i['systemVersion'] for i in resp.json()], [1])
        self.assertNotIn('link', resp.headers)
        self.assertEqual(history(SERVER, environment=self.env, before=1).json(), [])
        resp = history(SERVER, environment=self.env, before=10 ** 6, limit=1)
        self.assertEqual([i['systemVersion'] for i in resp.json()], [VERSIONS])

    def test_one_version_with_its_services(self):
        for n in (1, 7, 64, 65, VERSIONS):
            with self.subTest(n=n):
                resp = SERVER.request('GET', '/systemversions/%d%s'
                                      % (n, harness.query(environment=self.env)))
                self.assertEqual(resp.status, 200, resp.describe())
                doc = resp.json()
                services = doc.pop('services')
                digest = doc.pop('digest')
                self.assertVersionItem(doc, n)
                listed = SERVER.services(n, self.env)
                self.assertEqual(services, listed.json())
                self.assertEqual(digest, harness.content_digest(
                    harness.services_pairs(listed)))
                self.assertEqual(resp.headers.get('cache-control'),
                                 'public, max-age=31536000, immutable')
                self.assertTrue(resp.headers.get('etag'))

    def test_errors(self):
        env = self.env
        cases = [
            ('/systemversions/%d' % (VERSIONS + 1), {'environment': env}, 404, None),
            ('/systemversions/1', {'environment': unique_env('never')}, 404, None),
            ('/systemversions', {'environment': unique_env('never')}, 404, None),
            ('/systemversions/0', {'environment': env}, 400, 'systemVersion'),
            ('/systemversions/abc', {'environment': env}, 400, 'systemVersion'),
            ('/systemversions/1.5', {'environment': env}, 400, 'systemVersion'),
            ('/systemversions/-1', {'environment': env}, 400, 'systemVersion'),
            ('/systemversions', {'environment': env, 'limit': 0}, 400, 'limit'),
            ('/systemversions', {'environment': env, 'limit': 501}, 400, 'limit'),
            ('/systemversions', {'environment': env, 'limit': 'x'}, 400, 'limit'),
            ('/systemversions', {'environment': env, 'before': 0}, 400, 'before'),
            ('/systemversions', {'environment': env, 'before': '1e3'}, 400, 'before'),
            ('/systemversions', {'environment': 'bad/env'}, 400, 'environment'),
        ]
        for path, params, status, parameter in cases:
            with self.subTest(path=path, params=params):
                resp = SERVER.request('GET', path + harness.query(**params))
                if status == 404:
                    self.assertProblem(resp, 404, '/problems/not-found')
                else:
                    self.assertProblem(resp, 400, '/problems/invalid-parameter',
                                       parameter=parameter)
        self.assertProblem(SERVER.request('POST', '/systemversions', body=b'{}'), 405,
                           '/problems/method-not-allowed', allow='GET, HEAD')
        self.assertProblem(SERVER.request('GET', '/systemversions/1/x'), 404,
                           '/problems/not-found')


class PointInTimeTest(E2ETestCase):
    """GET /systemversions?at=T: the version in force at instant T."""

    @classmethod
    def setUpClass(cls):
        cls.env = unique_env('at')
        for n in range(1, 31):
            resp = SERVER.deploy('svc-%d' % (n % 4), n, cls.env)
            assert resp.status == 200, resp.describe()
            if n % 10 == 0:
                time.sleep(0.01)    # some versions a few ms apart
        resp = history(SERVER, environment=cls.env, limit=500)
        cls.created = {i['systemVersion']: parse_instant(i['createdAt'])
                       for i in resp.json()}

    def expected_at(self, instant):
        return max((v for v, t in self.created.items() if t <= instant), default=None)

    def at(self, text):
        return history(SERVER, environment=self.env, at=text)

    def assertAt(self, text, instant):
        resp = self.at(text)
        self.assertEqual(resp.status, 200, resp.describe())
        want = self.expected_at(instant)
        got = resp.json()
        self.assertEqual([i['systemVersion'] for i in got], [] if want is None else [want])
        if got:
            self.assertEqual(got[0], history(SERVER, environment=self.env,
                                             before=want + 1, limit=1).json()[0])

    def test_exact_instants_and_between(self):
        ms = datetime.timedelta(milliseconds=1)
        for v in (1, 10, 11, 20, 21, 30):
            t = self.created[v]
            with self.subTest(exact=v):
                self.assertAt(t.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z', t)
            with self.subTest(between=v):
                later = t + ms
                self.assertAt(later.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z', later)
                # the same instant with an offset and more digits
                shifted = later + datetime.timedelta(hours=2)
                self.assertAt(shifted.strftime('%Y-%m-%dT%H:%M:%S.%f') + '999+02:00', later)
        first = self.created[1] - ms
        self.assertAt(first.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z', first)
        self.assertAt('2999-01-01T00:00:00Z', datetime.datetime(2999, 1, 1))
        self.assertAt('1970-01-01T00:00:00Z', datetime.datetime(1970, 1, 1))

    def test_bad_instants(self):
        for text in ('yesterday', '2026-02-30T00:00:00Z', '2026-11-22T10:15:03',
                     '2026-11-22 10:15:03Z', '1969-12-31T23:59:59Z', ''):
            with self.subTest(text=text):
                self.assertProblem(self.at(text), 400, '/problems/invalid-parameter',
                                   parameter='at')
        self.assertProblem(history(SERVER, environment=unique_env('never'),
                                   at='2026-01-01T00:00:00Z'), 404, '/problems/not-found')


class DiffTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.env = unique_env('diff')
        steps = [('a', 1), ('b', 1), ('c', 1), ('a', 2), ('d', 1), ('b', 0), ('a', 1)]
        for n, (name, version) in enumerate(steps, 1):
            resp = SERVER.deploy(name, version, cls.env)
            assert resp.status == 200 and int(resp.body) == n, resp.describe()
        cls.versions = len(steps)

    def diff(self, **params):
        return SERVER.request('GET', '/diff' + harness.query(environment=self.env, **params))

    def expected(self, a, b):
        left = {i['name']: i['version'] for i in SERVER.services(a, self.env).json()}
        right = {i['name']: i['version'] for i in SERVER.services(b, self.env).json()}
        names = sorted(set(left) | set(right), key=lambda n: n.encode())
        return [{'name': n, 'from': left.get(n), 'to': right.get(n)}
                for n in names if left.get(n) != right.get(n)]

    def test_every_pair_both_ways(self):
        for a in range(1, self.versions + 1):
            for b in range(1, self.versions + 1):
                with self.subTest(a=a, b=b):
                    resp = self.diff(**{'from': a, 'to': b})
                    self.assertEqual(resp.status, 200, resp.describe())
                    self.assertEqual(resp.json(), self.expected(a, b))
        self.assertEqual(self.diff(**{'from': 3, 'to': 4}).json(),
                         [{'name': 'a', 'from': 1, 'to': 2}])
        self.assertEqual(self.diff(**{'from': 5, 'to': 3}).json(),
                         [{'name': 'a', 'from': 2, 'to': 1}, {'name': 'd', 'from': 1, 'to': None}])

    def test_a_left_out_version_is_the_current_one(self):
        for params, a, b in [({'from': 2}, 2, self.versions), ({'to': 2}, self.versions, 2),
                             ({}, self.versions, self.versions)]:
            with self.subTest(**params):
                resp = self.diff(**params)
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertEqual(resp.json(), self.expected(a, b))
                self.assertEqual(resp.headers.get('cache-control'), 'no-cache')
        resp = self.diff(**{'from': 2, 'to': 3})
        self.assertEqual(resp.headers.get('cache-control'),
                         'public, max-age=31536000, immutable')

    def test_errors(self):
        self.assertProblem(self.diff(**{'from': 0, 'to': 1}), 400,
                           '/problems/invalid-parameter', parameter='from')
        self.assertProblem(self.diff(**{'from': 1, 'to': 'x'}), 400,
                           '/problems/invalid-parameter', parameter='to')
        self.assertProblem(self.diff(**{'from': 1, 'to': self.versions + 1}), 404,
                           '/problems/not-found')
        self.assertProblem(SERVER.request('GET', '/diff' + harness.query(
            environment=unique_env('never'), **{'from': 1, 'to': 1})), 404,
            '/problems/not-found')


class DriftTest(E2ETestCase):
    """Two environments: staging runs a 2, b 1, c 1 at its version 4; prod
    runs a 1, b 1 at its version 2."""

    IMMUTABLE = 'public, max-age=31536000, immutable'

    @classmethod
    def setUpClass(cls):
        cls.staging, cls.prod = unique_env('drift-staging'), unique_env('drift-prod')
        for env, steps in [(cls.staging, [('a', 1), ('b', 1), ('c', 1), ('a', 2)]),
                           (cls.prod, [('a', 1), ('b', 1)])]:
            for n, (name, version) in enumerate(steps, 1):
                resp = SERVER.deploy(name, version, env)
                assert resp.status == 200 and int(resp.body) == n, resp.describe()

    def drift(self, **params):
        return SERVER.request('GET', '/diff' + harness.query(**params))

    def assertDrift(self, resp, from_end, to_end, cache_control):
        """The answer is the diff of the two (environment, version) ends,
        read from /services (None: the current version)."""
        def listed(env, n):
            return {i['name']: i['version'] for i in SERVER.services(n, env).json()}
        left, right = listed(*from_end), listed(*to_end)
        names = sorted(set(left) | set(right), key=harness.name_key)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json(), [{'name': n, 'from': left.get(n), 'to': right.get(n)}
                                       for n in names if left.get(n) != right.get(n)])
        self.assertEqual(resp.headers.get('cache-control'), cache_control)

    def test_current_versions(self):
        resp = self.drift(fromEnvironment=self.prod, toEnvironment=self.staging)
        self.assertEqual(resp.json(), [{'name': 'a', 'from': 1, 'to': 2},
                                       {'name': 'c', 'from': None, 'to': 1}])
        self.assertDrift(resp, (self.prod, None), (self.staging, None), 'no-cache')
        self.assertDrift(self.drift(fromEnvironment=self.staging, toEnvironment=self.prod),
                         (self.staging, None), (self.prod, None), 'no-cache')

    def test_given_versions(self):
        resp = self.drift(fromEnvironment=self.prod, toEnvironment=self.staging,
                          **{'from': 2, 'to': 2})
        self.assertEqual(resp.json(), [])
        self.assertDrift(resp, (self.prod, 2), (self.staging, 2), self.IMMUTABLE)
        for a in (1, 2):
            for b in (1, 2, 3, 4):
                with self.subTest(a=a, b=b):
                    self.assertDrift(self.drift(fromEnvironment=self.prod,
                                                toEnvironment=self.staging,
                                                **{'from': a, 'to': b}),
                                     (self.prod, a), (self.staging, b), self.IMMUTABLE)

    def test_one_side_left_out(self):
        self.assertDrift(self.drift(fromEnvironment=self.prod, toEnvironment=self.staging,
                                    **{'from': 1}),
                         (self.prod, 1), (self.staging, None), 'no-cache')
        self.assertDrift(self.drift(fromEnvironment=self.prod, toEnvironment=self.staging,
                                    to=3),
                         (self.prod, None), (self.staging, 3), 'no-cache')
        # an end without its own environment is environment's
        self.assertDrift(self.drift(environment=self.staging, fromEnvironment=self.prod),
                         (self.prod, None), (self.staging, None), 'no-cache')
        self.assertDrift(self.drift(environment=self.prod, toEnvironment=self.staging,
                                    **{'from': 1, 'to': 4}),
                         (self.prod, 1), (self.staging, 4), self.IMMUTABLE)

    def test_environment_alone_as_before(self):
        resp = self.drift(environment=self.staging, **{'from': 1, 'to': 4})
        self.assertEqual(resp.json(), [{'name': 'a', 'from': 1, 'to': 2},
                                       {'name': 'b', 'from': None, 'to': 1},
                                       {'name': 'c', 'from': None, 'to': 1}])
        self.assertDrift(resp, (self.staging, 1), (self.staging, 4), self.IMMUTABLE)
        self.assertDrift(self.drift(environment=self.staging, **{'from': 2}),
                         (self.staging, 2), (self.staging, None), 'no-cache')

    def test_follows_the_next_deploy(self):
        staging, prod = unique_env('drift-next-staging'), unique_env('drift-next-prod')
        self.deploy_ok(SERVER, 'a', 2, staging, expected=1)
        self.deploy_ok(SERVER, 'a', 1, prod, expected=1)
        params = {'fromEnvironment': prod, 'toEnvironment': staging}
        self.assertEqual(self.drift(**params).json(), [{'name': 'a', 'from': 1, 'to': 2}])
        self.deploy_ok(SERVER, 'a', 2, prod, expected=2)
        self.assertEqual(self.drift(**params).json(), [])

    def test_errors(self):
        never = unique_env('never')
        for params in [{'fromEnvironment': never, 'toEnvironment': self.prod},
                       {'fromEnvironment': self.prod, 'toEnvironment': never, 'to': 1},
                       {'environment': never},
                       {'fromEnvironment': self.prod, 'toEnvironment': self.staging,
                        'to': 5},
                       {'fromEnvironment': self.prod, 'from': 3}]:
            with self.subTest(**params):
                resp = self.drift(**params)
                self.assertProblem(resp, 404, '/problems/not-found')
                self.assertNotIn('etag', resp.headers)
        for params, parameter in [({'fromEnvironment': 'a b'}, 'fromEnvironment'),
                                  ({'toEnvironment': ''}, 'toEnvironment'),
                                  ({'toEnvironment': 'x' * 65}, 'toEnvironment'),
                                  ({'fromEnvironment': self.prod, 'from': 0}, 'from')]:
            with self.subTest(**params):
                self.assertProblem(self.drift(**params), 400,
                                   '/problems/invalid-parameter', parameter=parameter)


class EnvironmentsTest(E2ETestCase):

    def test_lists_every_environment_in_name_order(self):
        envs = sorted([unique_env('envs-b'), unique_env('envs-a')])
        for i, env in enumerate(envs):
            for k in range(i + 1):
                self.deploy_ok(SERVER, 'svc-%d' % k, 1, env, expected=k + 1)
        resp = SERVER.request('GET', '/environments')
        self.assertEqual(resp.status, 200, resp.describe())
        doc = resp.json()
        names = [e['name'] for e in doc]
        self.assertEqual(names, sorted(names, key=lambda n: n.encode()))
        by_name = {e['name']: e for e in doc}
        for i, env in enumerate(envs):
            self.assertEqual(sorted(by_name[env]), ['name', 'systemVersion', 'updatedAt'])
            self.assertEqual(by_name[env]['systemVersion'], i + 1)
            self.assertRegex(by_name[env]['updatedAt'], INSTANT)
            status = SERVER.request('GET', '/status' + harness.query(environment=env)).json()
            self.assertEqual(by_name[env]['updatedAt'], status['updatedAt'])


if __name__ == '__main__':
    import unittest
    unittest.main()
