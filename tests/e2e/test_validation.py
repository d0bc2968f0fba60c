"""Table-driven validation over HTTP: one body for each problem type and for
each member a deploy can refuse (the full table of bodies is in
tests/unit/test_json.c), accepted boundary values and what they store, query
parameters, routes, methods, body size limits, and inputs that must never
produce a server error."""

import random
import unittest

import harness
from harness import E2ETestCase, json_body, unique_env

SERVER = None
ENV = unique_env('validation')   # invalid deploys target this environment


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


def body(**overrides):
    """A valid deploy body for ENV with some members replaced."""
    members = dict(name='svc', version=1, environment=ENV)
    members.update(overrides)
    return json_body(**members)


VALID = body()
JSON = '/problems/invalid-json'
FIELD = '/problems/invalid-field'
PARAM = '/problems/invalid-parameter'
NOT_FOUND = '/problems/not-found'


# The full table of bodies, refused and accepted, is in tests/unit/test_json.c:
# json_parse_deploy is a pure function. Over HTTP, one body for each problem
# type and one for each member that can be refused (the aliases' conflicts
# included), each answered 400 with its problem type and `field`.
# (label, body bytes, problem type, field)
INVALID_BODIES = [
    ('unterminated object', VALID[:-1], JSON, None),
    ('name 257 bytes: 128 x U+00E9 + "a"', body(name='\u00e9' * 128 + 'a'), FIELD, 'name'),
    ('version 9007199254740992', body(version=harness.MAX_VERSION + 1), FIELD, 'version'),
    ('environment with a slash', body(environment='a/b'), FIELD, 'environment'),
    ('deployedBy 257 ASCII bytes', body(deployedBy='m' * 257), FIELD, 'deployedBy'),
    ('reason is a number', body(reason=1), FIELD, 'reason'),
    ('releaseHash is an array', body(releaseHash=['x']), FIELD, 'releaseHash'),
    ('name and serviceName (same value)', body(serviceName='svc'), FIELD, 'serviceName'),
    ('version and serviceVersionNumber', body(serviceVersionNumber=1), FIELD,
     'serviceVersionNumber'),
]

# (label, members without environment, the (name, version) then listed)
ACCEPTED = [
    ('name 256 ASCII bytes', dict(name='a' * 256, version=1), ('a' * 256, 1)),
    ('version 9007199254740991', dict(name='svc', version=harness.MAX_VERSION),
     ('svc', harness.MAX_VERSION)),
]


class BodyValidationTest(E2ETestCase):

    def test_invalid_bodies(self):
        for label, data, ptype, field in INVALID_BODIES:
            with self.subTest(label):
                self.assertProblem(SERVER.post(data), 400, ptype, field=field)

    def test_rejected_bodies_store_nothing(self):
        for label, data, _ptype, _field in INVALID_BODIES:
            SERVER.post(data)
        resp = SERVER.services(environment=ENV)
        self.assertEqual(resp.status, 404, 'an invalid deploy created environment %s: %s'
                         % (ENV, resp.describe()))

    def test_accepted_boundary_values(self):
        for label, members, expected in ACCEPTED:
            with self.subTest(label):
                env = unique_env('ok')
                self.assertDeployAnswer(SERVER.post(json_body(environment=env, **members)), 1)
                self.assertServices(SERVER.services(environment=env), [expected])


# (label, method, query string, status, problem type, parameter); {env} is
# an environment whose current system version is 2.
QUERY_CASES = [
    (label, 'GET', 'systemVersion=%s&environment={env}' % value, 400, PARAM, 'systemVersion')
    for label, value in [
        ('systemVersion 0', '0'), ('systemVersion -1', '-1'), ('systemVersion abc', 'abc'),
        ('systemVersion 1.5', '1.5'), ('systemVersion 1e1', '1e1'), ('systemVersion 0x1', '0x1'),
        ('systemVersion empty', ''), ('systemVersion +1', '+1'),
        ('systemVersion %2B1 (encoded plus)', '%2B1'),
        ('systemVersion leading space', '%201'), ('systemVersion trailing space', '1%20'),
        ('systemVersion 99999999999999999999999', '99999999999999999999999'),
        ('systemVersion 1abc', '1abc'), ('systemVersion %zz', '%zz'),
        ('systemVersion NUL', '1%00'), ('systemVersion 6000 digits', '1' * 6000),
    ]
] + [
    ('repeated systemVersion', 'GET', 'systemVersion=1&systemVersion=2&environment={env}',
     400, PARAM, 'systemVersion'),
    ('repeated identical systemVersion', 'GET',
     'systemVersion=1&environment={env}&systemVersion=1', 400, PARAM, 'systemVersion'),
] + [
    (label, 'GET', 'systemVersion=1&environment=%s' % value, 400, PARAM, 'environment')
    for label, value in [
        ('environment empty', ''), ('environment with a space', 'a%20b'),
        ('environment 65 chars', 'e' * 65), ('environment non-ASCII', '%C3%A4'),
        ('environment with a slash', 'a/b'), ('environment NUL', 'a%00'),
        ('environment lone percent', '%'),
    ]
] + [
    ('environment empty, no systemVersion', 'GET', 'environment=', 400, PARAM, 'environment'),
    ('repeated environment', 'GET', 'environment={env}&environment={env}', 400, PARAM,
     'environment'),
    ('systemVersion above current', 'GET', 'systemVersion=3&environment={env}', 404,
     NOT_FOUND, None),
    ('systemVersion far above current', 'GET', 'systemVersion=1000&environment={env}', 404,
     NOT_FOUND, None),
    ('systemVersion 9007199254740991', 'GET',
     'systemVersion=9007199254740991&environment={env}', 404, NOT_FOUND, None),
    ('unknown environment', 'GET', 'environment=never-seen-env', 404, NOT_FOUND, None),
    ('unknown environment with systemVersion', 'GET', 'systemVersion=1&environment=never-seen',
     404, NOT_FOUND, None),
    ('HEAD systemVersion 0', 'HEAD', 'systemVersion=0&environment={env}', 400, PARAM, None),
    ('HEAD above current', 'HEAD', 'systemVersion=3&environment={env}', 404, NOT_FOUND, None),
]


class QueryValidationTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.env = unique_env('query')
        for name in ('a', 'b'):
            resp = SERVER.deploy(name, 1, cls.env)
            assert resp.status == 200, resp.describe()

    def test_query_cases(self):
        for label, method, query_string, status, ptype, parameter in QUERY_CASES:
            with self.subTest(label):
                path = '/services?' + query_string.format(env=self.env)
                self.assertProblem(SERVER.request(method, path), status, ptype,
                                   parameter=parameter, head=(method == 'HEAD'))

    def test_valid_queries_still_answer(self):
        self.assertSnapshot(SERVER, self.env, 1, [('a', 1)])
        self.assertSnapshot(SERVER, self.env, 2, [('a', 1), ('b', 1)])


DEPLOY_ALLOW = 'POST'
SERVICES_ALLOW = 'GET, HEAD'
METHOD_CASES = [
    ('GET', '/deploy', DEPLOY_ALLOW), ('HEAD', '/deploy', DEPLOY_ALLOW),
    ('PUT', '/deploy', DEPLOY_ALLOW), ('DELETE', '/deploy', DEPLOY_ALLOW),
    ('PATCH', '/deploy', DEPLOY_ALLOW), ('OPTIONS', '/deploy', DEPLOY_ALLOW),
    ('POST', '/services', SERVICES_ALLOW), ('PUT', '/services', SERVICES_ALLOW),
    ('DELETE', '/services', SERVICES_ALLOW), ('PATCH', '/services', SERVICES_ALLOW),
    ('POST', '/services?systemVersion=1', SERVICES_ALLOW),
]
UNKNOWN_ROUTES = [
    ('GET', '/nope'), ('POST', '/nope'), ('HEAD', '/nope'), ('GET', '/api/services'),
    ('GET', '/services/extra/x'), ('POST', '/deploy/extra'), ('GET', '/deployx'),
    ('GET', '/servicesx?systemVersion=1'), ('DELETE', '/nope'),
]


class RouteTest(E2ETestCase):

    def test_method_not_allowed(self):
        for method, path, allow in METHOD_CASES:
            with self.subTest(method=method, path=path):
                data = VALID if method in ('POST', 'PUT', 'PATCH') else None
                self.assertProblem(SERVER.request(method, path, data), 405,
                                   '/problems/method-not-allowed', allow=allow,
                                   head=(method == 'HEAD'))

    def test_unknown_routes(self):
        for method, path in UNKNOWN_ROUTES:
            with self.subTest(method=method, path=path):
                data = VALID if method == 'POST' else None
                self.assertProblem(SERVER.request(method, path, data), 404, NOT_FOUND,
                                   head=(method == 'HEAD'))


def padded(size, environment, before=False):
    """A valid deploy body padded with JSON whitespace to exactly `size` bytes."""
    data = json_body(name='padded', version=1, environment=environment)
    pad = b' \n\t\r' * (size // 4 + 1)
    pad = pad[:size - len(data)]
    return pad + data if before else data + pad


# (label, total body size, chunk size or None, whitespace before, accepted)
SIZE_CASES = [
    ('Content-Length 65536', 65536, None, False, True),
    ('Content-Length 65536, padding first', 65536, None, True, True),
    ('Content-Length 65537', 65537, None, False, False),
    ('Content-Length 1 MiB', 1 << 20, None, False, False),
    ('chunked 65536 (4096-byte chunks)', 65536, 4096, False, True),
    ('chunked 65536 (1000-byte chunks)', 65536, 1000, False, True),
    ('chunked 65537', 65537, 4096, False, False),
    ('chunked 65537 in one chunk', 65537, 65537, False, False),
    ('chunked 200000', 200000, 8192, False, False),
]


class PayloadSizeTest(E2ETestCase):

    def test_body_size_limit(self):
        for label, size, chunk, before, accepted in SIZE_CASES:
            with self.subTest(label):
                env = unique_env('size')
                data = padded(size, env, before)
                self.assertEqual(len(data), size)
                request = harness.build_request(SERVER.port, 'POST', '/deploy', data,
                                                chunk_size=chunk)
                resp = harness.raw_request(SERVER.port, request, method='POST')
                if accepted:
                    self.assertDeployAnswer(resp, 1)
                    self.assertServices(SERVER.services(environment=env), [('padded', 1)])
                else:
                    self.assertProblem(resp, 413, '/problems/payload-too-large')
                    self.assertProblem(SERVER.services(environment=env), 404, NOT_FOUND)


class NoServerErrorTest(E2ETestCase):
    """Hostile inputs: never a 5xx, always a well-formed answer."""

    def assertWellFormed(self, resp, allowed, label):
        """Status in `allowed`; an error is a problem+json with matching status."""
        problems = []
        if resp.status not in allowed:
            problems.append('%s: status %d not in %r: %s'
                            % (label, resp.status, sorted(allowed), resp.describe()))
        elif resp.status >= 400:
            try:
                doc = resp.json()
                ok = (resp.media_type == 'application/problem+json'
                      and isinstance(doc, dict) and doc.get('status') == resp.status
                      and isinstance(doc.get('type'), str) and 'detail' in doc)
            except ValueError:
                ok = False
            if not ok:
                problems.append('%s: malformed problem: %s' % (label, resp.describe()))
        return problems

    def test_deep_nesting(self):
        env = unique_env('deep')
        closed = (b'{"name":"deep","version":1,"environment":"' + env.encode()
                  + b'","x":' + b'[' * 30000 + b']' * 30000 + b'}')
        # past the nesting limit (32 levels), however deep: invalid JSON,
        # and nothing stored
        self.assertProblem(SERVER.post(closed), 400, JSON)
        objects = (b'{"name":"deep","version":1,"environment":"' + env.encode()
                   + b'","x":' + b'{"a":' * 10000 + b'1' + b'}' * 10001)
        self.assertProblem(SERVER.post(objects), 400, JSON)
        self.assertEqual(SERVER.services(environment=env).status, 404,
                         'a refused body created environment %s' % env)
        self.assertProblem(SERVER.post(b'{"x":' + b'[' * 60000), 400, JSON)
        self.assertEqual(SERVER.services().status, 200, 'server still answers')

    def test_mutated_bodies(self):
        rng = random.Random(20240601)
        env = unique_env('fuzz')
        base = json_body(name='fuzz', version=1, environment=env, deployedBy='me',
                         reason='r\u00e9ason')
        alphabet = b'{}[]",:0123456789.eE+-\\u tnrfalse\x00\x1f\x7f\xc3\xa9\xed\xa0\xff'
        problems = []
        for number in range(300):
            data = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                op, pos = rng.randrange(4), rng.randrange(len(data) + 1)
                if op == 0 and pos < len(data):
                    del data[pos]
                elif op == 1:
                    data.insert(pos, rng.choice(alphabet))
                elif op == 2 and pos < len(data):
                    data[pos] = rng.randrange(256)
                elif op == 3:
                    data = data[:pos]
            resp = SERVER.post(bytes(data))
            problems += self.assertWellFormed(resp, {200, 400}, '#%d %r' % (number, bytes(data)))
            if resp.status == 400 and resp.media_type == 'application/problem+json':
                doc = resp.json()
                if doc.get('type') not in (JSON, FIELD):
                    problems.append('#%d: unexpected type %r' % (number, doc.get('type')))
        self.assertEqual(problems[:10], [], '%d bad answers' % len(problems))

    def test_mutated_queries(self):
        rng = random.Random(4242)
        env = unique_env('qfuzz')
        self.deploy_ok(SERVER, 'a', 1, env, expected=1)
        names = ['systemVersion', 'environment', 'x', 'systemVersion', '']
        values = ['1', '0', '-1', '2', 'abc', '%00', '%zz', '%', '', '1' * 30, '.', '..', env,
                  '%C3%A4', '1%20', '+', '%2B']
        problems = []
        for number in range(150):
            parts = []
            for _ in range(rng.randint(0, 3)):
                name, value = rng.choice(names), rng.choice(values)
                parts.append(rng.choice([name + '=' + value, name, '=' + value, name + '==']))
            path = '/services?' + rng.choice(['&', '&&', ';']).join(parts)
            method = rng.choice(['GET', 'HEAD'])
            resp = SERVER.request(method, path)
            if method == 'HEAD':
                if resp.status not in (200, 400, 404):
                    problems.append('HEAD %s: %s' % (path, resp.describe()))
                continue
            problems += self.assertWellFormed(resp, {200, 400, 404}, path)
        self.assertEqual(problems[:10], [], '%d bad answers' % len(problems))

    def test_odd_requests(self):
        port = SERVER.port
        cases = [
            ('POST without Content-Length or body',
             b'POST /deploy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
             400, JSON),
            ('POST with Content-Length 0', harness.build_request(port, 'POST', '/deploy', b''),
             400, JSON),
            ('chunked empty body', harness.build_request(port, 'POST', '/deploy', b'',
                                                         chunk_size=16), 400, JSON),
            ('HTTP/1.0 POST', b'POST /deploy HTTP/1.0\r\nContent-Length: 2\r\n\r\n[]', 400, JSON),
            ('1000 unknown parameters', harness.build_request(
                port, 'GET', '/services?' + '&'.join('p%d=1' % i for i in range(1000))),
             200, None),
        ]
        for label, data, status, ptype in cases:
            with self.subTest(label):
                method = data.split(b' ', 1)[0].decode()
                resp = harness.raw_request(port, data, method=method)
                if ptype is None:
                    self.assertEqual(resp.status, status, resp.describe())
                else:
                    self.assertProblem(resp, status, ptype)


if __name__ == '__main__':
    unittest.main()
