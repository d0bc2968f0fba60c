"""The history routes: GET /systemversions (newest first, paged with Link),
GET /systemversions/N (one version with its services) and GET /environments."""

import datetime
import re
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
                self.assertVersionItem(doc, n)
                listed = SERVER.services(n, self.env).json()
                self.assertEqual(services, listed)
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


class EmptyDefaultHistoryTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls)

    def test_default_has_an_empty_history(self):
        resp = history(self.server)
        self.assertEqual((resp.status, resp.json()), (200, []))
        self.assertEqual(self.server.request('GET', '/environments').json(), [])
        self.assertProblem(self.server.request('GET', '/systemversions/1'), 404,
                           '/problems/not-found')


if __name__ == '__main__':
    import unittest
    unittest.main()
