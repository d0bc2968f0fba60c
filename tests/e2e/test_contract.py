"""The HTTP contract on the happy path: the seed example, environments,
unchanged deploys, names, aliases and the response formats."""

import unittest

import harness
from harness import E2ETestCase, Raw, json_body, sorted_pairs, unique_env

SERVER = None


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


class SeedExampleTest(E2ETestCase):
    """The example of the product brief, in the "default" environment.

    Runs on a private server: the default environment must be untouched.
    """

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls)

    def assertExactSnapshotBody(self, resp, expected):
        """Parsed JSON equals `expected` and no element has extra members."""
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'application/json')
        doc = resp.json()   # strict: duplicate members would raise
        self.assertEqual(doc, expected)
        for element in doc:
            self.assertEqual(sorted(element), ['name', 'version'],
                             'extra members in %r' % resp.body)

    def test_seed_example(self):
        server = self.server
        # Before any deploy the default environment exists and is empty.
        self.assertServices(server.services(), [])
        self.assertServices(server.services(environment='default'), [])
        self.assertProblem(server.services(1), 404, '/problems/not-found')

        steps = [('Service A', 1, 1), ('Service B', 1, 2), ('Service A', 2, 3),
                 ('Service B', 1, 3)]
        for name, version, expected in steps:
            body = ('{"name": "%s", "version": %d}' % (name, version)).encode()
            self.assertDeployAnswer(server.post(body), expected)

        seed_2 = [{'name': 'Service A', 'version': 1}, {'name': 'Service B', 'version': 1}]
        seed_3 = [{'name': 'Service A', 'version': 2}, {'name': 'Service B', 'version': 1}]
        self.assertExactSnapshotBody(server.services(2), seed_2)
        self.assertExactSnapshotBody(server.services(3), seed_3)
        self.assertExactSnapshotBody(server.services(1), [{'name': 'Service A', 'version': 1}])
        # Omitted systemVersion means the current one; "default" is the default.
        self.assertExactSnapshotBody(server.services(), seed_3)
        self.assertExactSnapshotBody(server.services(3, 'default'), seed_3)
        self.assertProblem(server.services(4), 404, '/problems/not-found')
        # An explicit "default" environment is the same environment.
        self.assertDeployAnswer(server.deploy('Service B', 1, 'default'), 3)
        self.assertDeployAnswer(server.deploy('Service C', 7, 'default'), 4)
        self.assertExactSnapshotBody(server.services(4), seed_3 + [{'name': 'Service C',
                                                                      'version': 7}])


class ContractTest(E2ETestCase):
    """Formats, aliases, names and query handling (shared server)."""

    def test_deploy_answer_is_bare_json_integer(self):
        env = unique_env('answer')
        resp = SERVER.deploy('svc', 1, env)
        self.assertDeployAnswer(resp, 1)
        self.assertEqual(resp.body, b'1')

    def test_aliases_are_the_same_members(self):
        env = unique_env('alias')
        bodies = [
            ('aliases only', json_body(serviceName='svc', serviceVersionNumber=1,
                                       environment=env), 1),
            ('plain members, same service and version', json_body(
                name='svc', version=1, environment=env), 1),
            ('name + serviceVersionNumber', json_body(
                name='svc', serviceVersionNumber=2, environment=env), 2),
            ('serviceName + version', json_body(
                serviceName='svc', version=2, environment=env), 2),
        ]
        for label, body, expected in bodies:
            with self.subTest(label):
                self.assertDeployAnswer(SERVER.post(body), expected)
        self.assertServices(SERVER.services(environment=env), [('svc', 2)])

    def test_unknown_members_are_ignored(self):
        env = unique_env('unknown')
        body = json_body(name='svc', extra={'nested': [1, 2.5, None, {'x': 'y'}]},
                         version=3, environment=env, foo=None, bar=True, baz='x' * 1000)
        self.assertDeployAnswer(SERVER.post(body), 1)
        self.assertServices(SERVER.services(environment=env), [('svc', 3)])

    def test_content_type_is_not_enforced(self):
        env = unique_env('ctype')
        content_types = [None, 'application/x-www-form-urlencoded', 'text/plain',
                         'application/json', 'application/json; charset=utf-8',
                         'application/octet-stream']
        for number, content_type in enumerate(content_types, 1):
            with self.subTest(content_type=content_type):
                headers = {'Content-Type': content_type} if content_type else {}
                body = json_body(name='svc-%d' % number, version=1, environment=env)
                self.assertDeployAnswer(SERVER.post(body, headers), number)

    def test_whitespace_around_the_object(self):
        env = unique_env('space')
        body = b' \t\r\n' + json_body(name='svc', version=1, environment=env).replace(
            b',', b' ,\n ') + b' \r\n\t '
        self.assertDeployAnswer(SERVER.post(body), 1)

    def test_names_are_stored_exactly_and_sorted_bytewise(self):
        env = unique_env('names')
        names = ['b', 'B', 'a', 'A', 'aa', 'a a', 'Z', '_', '~', 'é', 'e\u0301',
                 '\uff5e', '\U0001f600', 'ß', 'quote " backslash \\ slash /',
                 '名前', '\u0080', 'x' * 256, ' lead', 'trail ']
        for number, name in enumerate(names, 1):
            with self.subTest(name=name[:20]):
                self.deploy_ok(SERVER, name, number, env, expected=number)
        # U+FF5E sorts before U+1F600 bytewise (EF.. < F0..) but not in UTF-16.
        expected = sorted_pairs((name, number) for number, name in enumerate(names, 1))
        self.assertServices(SERVER.services(environment=env), expected)

    def test_escaped_and_raw_spellings_are_one_service(self):
        env = unique_env('escape')
        self.assertDeployAnswer(SERVER.post(json_body(name='caf\u00e9', version=1,
                                                      environment=env)), 1)
        spellings = [Raw(r'"caf\u00e9"'), Raw(r'"caf\u00E9"'), Raw('"caf\u00e9"')]
        for spelling in spellings:
            with self.subTest(spelling=bytes(spelling)):
                self.assertDeployAnswer(SERVER.post(json_body(
                    name=spelling, version=1, environment=env)), 1)
        # No Unicode normalisation: e + U+0301 is a different service.
        self.assertDeployAnswer(SERVER.deploy('cafe\u0301', 1, env), 2)
        # A surrogate pair escape is the supplementary character itself.
        self.assertDeployAnswer(SERVER.post(json_body(name=Raw(r'"\ud83d\ude00"'),
                                                      version=1, environment=env)), 3)
        self.assertDeployAnswer(SERVER.deploy('\U0001f600', 1, env), 3)
        self.assertServices(SERVER.services(environment=env), sorted_pairs(
            [('caf\u00e9', 1), ('cafe\u0301', 1), ('\U0001f600', 1)]))

    def test_names_are_case_sensitive(self):
        env = unique_env('case')
        for number, name in enumerate(['Service', 'service', 'SERVICE'], 1):
            self.deploy_ok(SERVER, name, 1, env, expected=number)
        self.assertServices(SERVER.services(environment=env),
                            [('SERVICE', 1), ('Service', 1), ('service', 1)])

    def test_omitted_system_version_is_the_current_one(self):
        env = unique_env('current')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        self.deploy_ok(SERVER, 'b', 1, env, expected=2)
        self.deploy_ok(SERVER, 'a', 5, env, expected=3)
        self.assertServices(SERVER.services(environment=env), [('a', 5), ('b', 1)])
        self.assertSnapshot(SERVER, env, 2, [('a', 1), ('b', 1)])

    def test_unknown_query_parameters_are_ignored(self):
        env = unique_env('params')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        for path in ['/services?environment=%s&foo=bar' % env,
                     '/services?foo=&systemVersion=1&environment=%s' % env,
                     '/services?environment=%s&systemversion=abc&SystemVersion=0' % env,
                     '/services?environment=%s&x' % env]:
            with self.subTest(path=path):
                self.assertServices(SERVER.request('GET', path), [('a', 1)])

    def test_parameters_of_other_routes_are_ignored(self):
        """Each route reads only the parameters it declares (README lists
        them); another route's parameter, even one that would be invalid
        there, changes nothing."""
        env = unique_env('others')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        for path in ['/status?limit=0&environment=%s' % env,
                     '/badge.svg?at=nope&environment=%s' % env,
                     '/services?limit=0&systemVersion=1&environment=%s' % env,
                     '/services?environment=%s&before=0&from=x&to=-1' % env,
                     '/systemversions/1?environment=%s&systemVersion=0&limit=0' % env,
                     '/environments?limit=abc&environment=a%20b',
                     '/healthz?systemVersion=0',
                     '/diff?from=1&to=1&systemVersion=0&at=nope&environment=%s' % env,
                     '/systemversions?environment=%s&systemVersion=0&from=0' % env]:
            with self.subTest(path=path):
                resp = SERVER.request('GET', path)
                self.assertEqual(resp.status, 200, resp.describe())
        self.assertServices(
            SERVER.request('GET', '/services?limit=0&systemVersion=1&environment=%s' % env),
            [('a', 1)])
        # and each still refuses its own bad parameters
        for path, parameter in [('/status?environment=a%20b', 'environment'),
                                ('/badge.svg?environment=', 'environment'),
                                ('/services?systemVersion=0', 'systemVersion'),
                                ('/systemversions?limit=0', 'limit'),
                                ('/systemversions?at=nope', 'at'),
                                ('/systemversions/0', 'systemVersion'),
                                ('/diff?fromEnvironment=a%20b', 'fromEnvironment'),
                                ('/diff?from=0&to=1', 'from')]:
            with self.subTest(path=path):
                self.assertProblem(SERVER.request('GET', path), 400,
                                   '/problems/invalid-parameter', parameter=parameter)

    def test_head_is_like_get(self):
        env = unique_env('head')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        for n in (None, 1):
            with self.subTest(systemVersion=n):
                get = SERVER.services(n, env)
                head = SERVER.services(n, env, method='HEAD')
                self.assertEqual(head.status, 200)
                self.assertEqual(head.media_type, 'application/json')
                self.assertEqual(head.body, b'')
                self.assertEqual(get.media_type, head.media_type)
        # Nothing at all may follow the header block on the wire.
        raw = harness.raw_exchange(SERVER.port, harness.build_request(
            SERVER.port, 'HEAD', '/services?environment=%s' % env))
        self.assertIn(b'\r\n\r\n', raw)
        self.assertEqual(raw.split(b'\r\n\r\n', 1)[1], b'', 'bytes after a HEAD answer')

    def test_root_serves_an_html_placeholder(self):
        resp = SERVER.request('GET', '/')
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'text/html')
        self.assertIn(b'<', resp.body)

    def test_metadata_is_accepted_and_not_listed(self):
        env = unique_env('meta')
        self.deploy_ok(SERVER, 'svc', 1, env, expected=1, deployedBy='ci-bot',
                       reason='weekly release', releaseHash='0123abcd' * 5)
        self.assertServices(SERVER.services(environment=env), [('svc', 1)])


class EnvironmentTest(E2ETestCase):
    """Every environment has its own gapless sequence (shared server)."""

    def test_separate_gapless_sequences(self):
        red, blue = unique_env('red'), unique_env('blue')
        steps = [(red, 'a', 1, 1), (blue, 'a', 1, 1), (red, 'b', 1, 2), (blue, 'a', 2, 2),
                 (red, 'a', 1, 2), (blue, 'b', 9, 3), (red, 'a', 3, 3)]
        for env, name, version, expected in steps:
            with self.subTest(env=env, name=name, version=version):
                self.deploy_ok(SERVER, name, version, env, expected=expected)
        history = {red: [[('a', 1)], [('a', 1), ('b', 1)], [('a', 3), ('b', 1)]],
                   blue: [[('a', 1)], [('a', 2)], [('a', 2), ('b', 9)]]}
        for env, snapshots in history.items():
            for n, expected in enumerate(snapshots, 1):
                with self.subTest(env=env, systemVersion=n):
                    self.assertSnapshot(SERVER, env, n, expected)
            self.assertProblem(SERVER.services(len(snapshots) + 1, env), 404,
                               '/problems/not-found')

    def test_unusual_valid_names(self):
        for env in ['.', '..', '-', '_', 'A.b-C_9', '0']:
            with self.subTest(environment=env):
                self.deploy_ok(SERVER, 'svc', 1, env, expected=1)
                self.assertServices(SERVER.services(environment=env), [('svc', 1)])
                self.assertSnapshot(SERVER, env, 1, [('svc', 1)])

    def test_length_limit(self):
        env64 = (unique_env('len') + 'x' * 64)[:64]
        self.deploy_ok(SERVER, 'svc', 1, env64, expected=1)
        self.assertServices(SERVER.services(1, env64), [('svc', 1)])
        env65 = env64 + 'y'
        self.assertProblem(SERVER.deploy('svc', 1, env65), 400, '/problems/invalid-field',
                           field='environment')
        self.assertProblem(SERVER.services(1, env65), 400, '/problems/invalid-parameter',
                           parameter='environment')

    def test_unknown_environment_is_404(self):
        env = unique_env('never-seen')
        for n in (None, 1, 2):
            with self.subTest(systemVersion=n):
                self.assertProblem(SERVER.services(n, env), 404, '/problems/not-found')

    def test_rejected_deploy_does_not_create_the_environment(self):
        env = unique_env('rejected')
        self.assertProblem(SERVER.deploy('svc', -1, env), 400, '/problems/invalid-field',
                           field='version')
        self.assertProblem(SERVER.services(environment=env), 404, '/problems/not-found')


class UnchangedDeployTest(E2ETestCase):
    """Only a changed (or new) service version creates a system version."""

    def test_same_version_does_not_bump(self):
        env = unique_env('same')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        self.deploy_ok(SERVER, 'b', 1, env, expected=2)
        for _ in range(3):
            self.deploy_ok(SERVER, 'a', 1, env, expected=2)
            self.deploy_ok(SERVER, 'b', 1, env, expected=2)
        self.assertProblem(SERVER.services(3, env), 404, '/problems/not-found')
        self.deploy_ok(SERVER, 'c', 1, env, expected=3)

    def test_new_metadata_alone_is_no_change(self):
        env = unique_env('metadata')
        self.deploy_ok(SERVER, 'a', 4, env, expected=1, deployedBy='alice', reason='r1',
                       releaseHash='aaaa')
        self.deploy_ok(SERVER, 'a', 4, env, expected=1, deployedBy='bob', reason='r2',
                       releaseHash='bbbb')
        self.deploy_ok(SERVER, 'a', 4, env, expected=1)
        self.assertProblem(SERVER.services(2, env), 404, '/problems/not-found')

    def test_rollback_is_a_change(self):
        env = unique_env('rollback')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        self.deploy_ok(SERVER, 'a', 2, env, expected=2)
        self.deploy_ok(SERVER, 'a', 1, env, expected=3)
        self.deploy_ok(SERVER, 'a', 1, env, expected=3)
        self.deploy_ok(SERVER, 'a', 0, env, expected=4)
        for n, version in enumerate([1, 2, 1, 0], 1):
            with self.subTest(systemVersion=n):
                self.assertSnapshot(SERVER, env, n, [('a', version)])

    def test_extreme_versions(self):
        env = unique_env('extreme')
        self.deploy_ok(SERVER, 'a', 0, env, expected=1)
        self.deploy_ok(SERVER, 'a', harness.MAX_VERSION, env, expected=2)
        self.deploy_ok(SERVER, 'a', harness.MAX_VERSION, env, expected=2)
        self.deploy_ok(SERVER, 'a', harness.MAX_VERSION - 1, env, expected=3)
        self.assertSnapshot(SERVER, env, 1, [('a', 0)])
        self.assertSnapshot(SERVER, env, 2, [('a', harness.MAX_VERSION)])
        self.assertIn(b'9007199254740991', SERVER.services(2, env).body)


if __name__ == '__main__':
    unittest.main()
