"""The content digest of a system version, in GET /systemversions/N and
GET /status: computed here with hashlib and compared with the server's;
the same contents have the same digest in two environments reached by
different histories, or in one at two moments. (The default environment
before its first deploy, whose digest is the SHA-256 of nothing, is
test_reads.EmptyDefaultTest's, on a fresh server.)"""

import hashlib

import harness
from harness import E2ETestCase, content_digest, services_pairs, unique_env

SERVER = None
SEED = [('Service A', 1, 1), ('Service B', 1, 2), ('Service A', 2, 3), ('Service B', 1, 3)]


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


class DigestTest(E2ETestCase):

    def deploy_all(self, environment, steps):
        for name, version, expected in steps:
            self.deploy_ok(SERVER, name, version, environment, expected=expected)

    def version_digest(self, environment, n):
        resp = SERVER.request('GET', '/systemversions/%d' % n
                              + harness.query(environment=environment))
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()['digest']

    def status_of(self, environment):
        resp = SERVER.request('GET', '/status' + harness.query(environment=environment))
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()

    def test_seed_example_version_3(self):
        """The seed example's deploys in an environment of its own: version
        3 holds Service A 2 and Service B 1."""
        env = unique_env('digest-seed')
        self.deploy_all(env, SEED)
        expected = 'sha256:' + hashlib.sha256(
            b'Service A\x002\nService B\x001\n').hexdigest()
        self.assertEqual(self.version_digest(env, 3), expected)
        self.assertEqual(self.status_of(env)['digest'], expected)
        self.assertEqual(self.version_digest(env, 1), 'sha256:' + hashlib.sha256(
            b'Service A\x001\n').hexdigest())

    def test_every_version_is_its_list(self):
        env = unique_env('digest-lists')
        names = ['b', 'a', 'caf\u00e9', 'svc/x y', 'a1', 'A', 'z']
        for n, name in enumerate(names + ['a', 'b'], 1):
            self.deploy_ok(SERVER, name, 10 * n, env, expected=n)
        for n in range(1, len(names) + 3):
            with self.subTest(n=n):
                listed = services_pairs(SERVER.services(n, env))
                self.assertEqual(self.version_digest(env, n), content_digest(listed))

    def test_same_contents_same_digest(self):
        """Two environments reach {A 2, B 1} by different histories, and one
        of them leaves it and comes back."""
        first, second = unique_env('digest-one'), unique_env('digest-two')
        self.deploy_all(first, SEED)
        self.deploy_all(second, [('Service B', 1, 1), ('Service A', 5, 2),
                                 ('Service A', 2, 3)])
        same = self.version_digest(first, 3)
        self.assertEqual(self.version_digest(second, 3), same)
        self.assertNotEqual(self.version_digest(second, 2), same)
        self.deploy_all(first, [('Service A', 3, 4), ('Service A', 2, 5)])
        self.assertNotEqual(self.version_digest(first, 4), same)
        self.assertEqual(self.version_digest(first, 5), same)
        self.assertEqual(self.status_of(first)['digest'], same)

    def test_status_gives_the_current_versions_digest(self):
        env = unique_env('digest-status')
        for n in range(1, 6):
            self.deploy_ok(SERVER, 'svc-%d' % (n % 3), n, env, expected=n)
            # asked twice: once computed, once as this worker kept it
            for _ in range(2):
                doc = self.status_of(env)
                self.assertEqual(doc['systemVersion'], n)
                self.assertEqual(doc['digest'], self.version_digest(env, n))
        head = SERVER.request('HEAD', '/status' + harness.query(environment=env))
        self.assertEqual((head.status, head.body), (200, b''))
