"""GET /status, GET /healthz, the reads of an empty default environment, and
how read answers may be cached: ETags, Cache-Control, 304 on If-None-Match,
and nginx's cache of explicit system versions (which must never keep a 404
or the current list)."""

import datetime
import hashlib
import http.client
import os
import re
import signal
import time
import xml.etree.ElementTree as ElementTree

import harness
from harness import E2ETestCase, unique_env

SERVER = None
IMMUTABLE = 'public, max-age=31536000, immutable'
SVG = '{http://www.w3.org/2000/svg}'
INSTANT = re.compile(r'\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z')


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


def status(server, environment=None, headers=None, method='GET'):
    path = '/status' + (harness.query(environment=environment) if environment else '')
    return server.request(method, path, headers=headers)


def parse_instant(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc)


class StatusTest(E2ETestCase):

    def assertStatusBody(self, resp, environment, version):
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'application/json')
        doc = resp.json()
        self.assertEqual(sorted(doc), ['digest', 'environment', 'systemVersion',
                                       'updatedAt'])
        self.assertEqual(doc['environment'], environment)
        self.assertEqual(doc['systemVersion'], version)
        return doc

    def test_current_version_and_time(self):
        env = unique_env('status')
        before = datetime.datetime.now(datetime.timezone.utc)
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        self.deploy_ok(SERVER, 'b', 1, env, expected=2)
        after = datetime.datetime.now(datetime.timezone.utc)
        doc = self.assertStatusBody(status(SERVER, env), env, 2)
        self.assertRegex(doc['updatedAt'], INSTANT)
        at = parse_instant(doc['updatedAt'])
        self.assertLessEqual(before - datetime.timedelta(milliseconds=1), at)
        self.assertLessEqual(at, after + datetime.timedelta(milliseconds=1))
        # an unchanged deploy does not move the time
        self.deploy_ok(SERVER, 'b', 1, env, expected=2)
        self.assertEqual(self.assertStatusBody(status(SERVER, env), env, 2)['updatedAt'],
                         doc['updatedAt'])

    def test_etag_and_304(self):
        env = unique_env('etag')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        first = status(SERVER, env)
        self.assertStatusBody(first, env, 1)
        etag = first.headers.get('etag')
        self.assertRegex(etag or '', r'\A"[!#-~]+"\Z', 'a strong ETag')
        self.assertEqual(first.headers.get('cache-control'), 'public, max-age=5')
        for label, value in [('same', etag), ('weak', 'W/' + etag),
                             ('in a list', '"nope", W/%s' % etag), ('star', '*')]:
            with self.subTest(label):
                resp = status(SERVER, env, headers={'If-None-Match': value})
                self.assertEqual(resp.status, 304, resp.describe())
                self.assertEqual(resp.body, b'')
                self.assertEqual(resp.headers.get('etag'), etag)
                self.assertEqual(resp.headers.get('cache-control'), 'public, max-age=5')
        for label, value in [('other', '"nope"'), ('malformed', etag[1:]),
                             ('prefix', etag[:-2] + '"')]:
            with self.subTest(label):
                self.assertStatusBody(status(SERVER, env, {'If-None-Match': value}), env, 1)
        # a new version: the old tag no longer matches
        self.deploy_ok(SERVER, 'a', 2, env, expected=2)
        resp = status(SERVER, env, headers={'If-None-Match': etag})
        self.assertStatusBody(resp, env, 2)
        self.assertNotEqual(resp.headers.get('etag'), etag)

    def test_environments_and_errors(self):
        self.assertProblem(status(SERVER, unique_env('never')), 404, '/problems/not-found')
        self.assertProblem(status(SERVER, 'bad/name'), 400, '/problems/invalid-parameter',
                           parameter='environment')
        self.assertProblem(SERVER.request('POST', '/status', body=b'{}'), 405,
                           '/problems/method-not-allowed', allow='GET, HEAD')
        head = status(SERVER, method='HEAD')
        self.assertEqual((head.status, head.body), (200, b''))


class EmptyDefaultTest(E2ETestCase):
    """The default environment exists before its first deploy: every read
    of it answers, empty. One private server, on which nothing is deployed,
    serves the three."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls)

    def test_status_before_any_deploy(self):
        resp = status(self.server)
        self.assertEqual(resp.status, 200, resp.describe())
        # its digest is that of no service: the SHA-256 of nothing
        self.assertEqual(resp.json(), {
            'environment': 'default', 'systemVersion': 0, 'updatedAt': None,
            'digest': 'sha256:' + hashlib.sha256(b'').hexdigest()})

    def test_history_is_empty(self):
        resp = self.server.request('GET', '/systemversions')
        self.assertEqual((resp.status, resp.json()), (200, []))
        self.assertEqual(self.server.request('GET', '/environments').json(), [])
        self.assertProblem(self.server.request('GET', '/systemversions/1'), 404,
                           '/problems/not-found')

    def test_badge_says_none(self):
        resp = self.server.request('GET', '/badge.svg')
        self.assertEqual(resp.status, 200, resp.describe())
        root = ElementTree.fromstring(resp.body)
        self.assertEqual([t.text for t in root.iter(SVG + 'text')], ['system version', 'none'])


class HealthTest(E2ETestCase):

    def test_healthz(self):
        resp = SERVER.request('GET', '/healthz')
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'application/json')
        self.assertEqual(resp.json(), {'status': 'ok'})
        self.assertEqual(resp.headers.get('cache-control'), 'no-store')
        self.assertProblem(SERVER.request('DELETE', '/healthz'), 405,
                           '/problems/method-not-allowed', allow='GET, HEAD')

    def test_readyz(self):
        resp = SERVER.request('GET', '/readyz')
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'application/json')
        self.assertEqual(resp.json(), {'status': 'ready'})
        self.assertEqual(resp.headers.get('cache-control'), 'no-store')
        self.assertProblem(SERVER.request('POST', '/readyz', b'{}'), 405,
                           '/problems/method-not-allowed', allow='GET, HEAD')

    def test_readyz_below_the_disk_reserve(self):
        # a reserve larger than any disk: alive, reads answered, not ready
        server = harness.Server(label='reserve', config={'reserve_mb': '1048576'})
        self.addCleanup(server.cleanup)
        server.start()
        self.assertEqual(server.request('GET', '/healthz').status, 200)
        self.assertEqual(server.request('GET', '/status').status, 200)
        resp = server.request('GET', '/readyz')
        self.assertProblem(resp, 503, '/problems/storage-full')
        self.assertRetryAfter(resp)
        self.assertEqual(resp.headers.get('cache-control'), 'no-store')


class ServicesCachingTest(E2ETestCase):

    def test_explicit_versions_are_immutable(self):
        env = unique_env('immutable')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        resp = SERVER.services(1, env)
        self.assertServices(resp, [('a', 1)])
        self.assertEqual(resp.headers.get('cache-control'), IMMUTABLE)
        etag = resp.headers.get('etag')
        self.assertRegex(etag or '', r'\A"[!#-~]+"\Z')
        again = SERVER.request('GET', '/services' + harness.query(
            systemVersion=1, environment=env), headers={'If-None-Match': etag})
        self.assertEqual(again.status, 304, again.describe())
        self.assertEqual(again.headers.get('etag'), etag)
        # another environment's version 1 has another tag
        other = unique_env('immutable')
        self.deploy_ok(SERVER, 'a', 1, other, expected=1)
        self.assertNotEqual(SERVER.services(1, other).headers.get('etag'), etag)

    def test_current_list_and_404_are_not_cached(self):
        env = unique_env('nocache')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        current = SERVER.services(environment=env)
        self.assertServices(current, [('a', 1)])
        self.assertEqual(current.headers.get('cache-control'), 'no-cache')
        self.assertNotIn('etag', current.headers)
        missing = SERVER.services(2, env)
        self.assertProblem(missing, 404, '/problems/not-found')
        self.assertNotIn('immutable', missing.headers.get('cache-control', ''))
        # version 2 comes to exist: neither answer may have been kept
        self.deploy_ok(SERVER, 'b', 1, env, expected=2)
        self.assertServices(SERVER.services(2, env), [('a', 1), ('b', 1)])
        self.assertServices(SERVER.services(environment=env), [('a', 1), ('b', 1)])


class NginxCacheTest(E2ETestCase):
    """With every worker frozen, nginx still answers what it has cached, and
    only that: the proof that repeats of an explicit version never reach a
    worker, and that the current list is not kept."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls)

    def test_cached_answers_survive_frozen_workers(self):
        server = self.server
        env = unique_env('frozen')
        self.deploy_ok(server, 'a', 1, env, expected=1)
        self.deploy_ok(server, 'a', 2, env, expected=2)
        expected = server.services(1, env)
        self.assertServices(expected, [('a', 1)])
        workers = server.wait_workers(2)
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            cached = server.services(1, env, timeout=5)
            self.assertServices(cached, [('a', 1)])
            self.assertEqual(cached.body, expected.body)
            self.assertLess(time.monotonic() - started, 2.0)
            for label, send in [('current list', lambda: server.services(environment=env,
                                                                         timeout=1.5)),
                                ('version never asked', lambda: server.services(2, env,
                                                                                timeout=1.5))]:
                with self.subTest(label):
                    try:
                        resp = send()
                    except (OSError, http.client.HTTPException):
                        continue    # it waited for a frozen worker: not cached
                    self.fail('answered %s with every worker frozen' % resp.describe())
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
        self.assertServices(server.services(2, env), [('a', 2)])


if __name__ == '__main__':
    import unittest
    unittest.main()
