"""Table-driven validation: every error of the contract, the accepted
boundary values next to them, routes, methods, body size limits, and inputs
that must never produce a server error."""

import random
import unittest

import harness
from harness import E2ETestCase, OMIT, Raw, json_body, unique_env

SERVER = None
ENV = unique_env('validation')   # invalid deploys target this environment


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


def body(**overrides):
    """A valid deploy body for ENV with some members replaced (OMIT drops)."""
    members = dict(name='svc', version=1, environment=ENV)
    members.update(overrides)
    return json_body(**members)


VALID = body()
JSON = '/problems/invalid-json'
FIELD = '/problems/invalid-field'
PARAM = '/problems/invalid-parameter'
NOT_FOUND = '/problems/not-found'


def raw_name(data):
    """Body whose name member is the given raw bytes between quotes."""
    return body(name=Raw(b'"' + data + b'"'))


# (label, body bytes, problem type, field) -- all answered 400.
INVALID_JSON_BODIES = [
    ('empty body', b''),
    ('whitespace only', b' \r\n\t '),
    ('array', b'[]'),
    ('array holding the object', b'[' + VALID + b']'),
    ('string', b'"svc"'),
    ('number', b'1'),
    ('null', b'null'),
    ('true', b'true'),
    ('lone brace', b'{'),
    ('unterminated object', VALID[:-1]),
    ('unterminated string', b'{"name":"svc'),
    ('trailing comma in object', VALID[:-1] + b',}'),
    ('missing comma', b'{"name":"svc" "version":1}'),
    ('missing colon', b'{"name" "svc","version":1}'),
    ('single quotes', b"{'name':'svc','version':1}"),
    ('unquoted member names', b'{name:"svc",version:1}'),
    ('trailing garbage', VALID + b' x'),
    ('two objects', VALID + VALID),
    ('two objects separated by a newline', VALID + b'\n' + VALID),
    ('trailing number', VALID + b' 1'),
    ('trailing comma', VALID + b','),
    ('trailing NUL byte', VALID + b'\x00'),
    ('trailing comment', VALID + b' // comment'),
    ('leading garbage', b'x' + VALID),
    ('version with leading zero', body(version=Raw('01'))),
    ('version lone minus', body(version=Raw('-'))),
    ('version 1. without fraction digits', body(version=Raw('1.'))),
    ('version NaN', body(version=Raw('NaN'))),
    ('version Infinity', body(version=Raw('Infinity'))),
    ('invalid escape \\x', body(name=Raw(r'"a\x41"'))),
    ('truncated \\u escape', body(name=Raw(r'"\u12"'))),
    ('deep unterminated nesting', b'{"x":' + b'[' * 20000),
]

NAME_CASES = [
    ('name missing', body(name=OMIT)),
    ('name empty', body(name='')),
    ('name 257 ASCII bytes', body(name='a' * 257)),
    ('name 257 bytes: 128 x U+00E9 + "a"', body(name='\u00e9' * 128 + 'a')),
    ('name 258 bytes in 86 chars (U+20AC)', body(name='\u20ac' * 86)),
    ('name 260 bytes in 65 chars (U+1F600)', body(name='\U0001f600' * 65)),
    ('name 258 bytes as escapes (129 x \\u00e9)', body(name=Raw('"' + r'\u00e9' * 129 + '"'))),
    ('name is a number', body(name=1)),
    ('name is null', body(name=None)),
    ('name is true', body(name=True)),
    ('name is an array', body(name=['svc'])),
    ('name is an object', body(name={'n': 'svc'})),
    ('name escaped U+0000', body(name=Raw(r'"a\u0000b"'))),
    ('name escaped U+001F', body(name=Raw(r'"a\u001fb"'))),
    ('name escaped U+001F upper-case hex', body(name=Raw(r'"a\u001Fb"'))),
    ('name escaped U+007F', body(name=Raw(r'"a\u007fb"'))),
    ('name escaped tab', body(name=Raw(r'"a\tb"'))),
    ('name escaped newline', body(name=Raw(r'"a\nb"'))),
    ('name raw DEL byte 7F', raw_name(b'a\x7fb')),
    ('name lone high surrogate escape \\ud800', body(name=Raw(r'"\ud800"'))),
    ('name lone low surrogate escape \\udc00', body(name=Raw(r'"\udc00"'))),
    ('name high surrogate then \\u0041', body(name=Raw(r'"\ud800\u0041"'))),
    ('name high surrogate then a character', body(name=Raw(r'"\ud83dx"'))),
    ('name surrogate pair reversed', body(name=Raw(r'"\ude00\ud83d"'))),
    ('name high surrogate at the end', body(name=Raw(r'"a\udbff"'))),
    ('name raw overlong C0 AF', raw_name(b'\xc0\xaf')),
    ('name raw overlong C1 81', raw_name(b'\xc1\x81')),
    ('name raw overlong E0 80 AF', raw_name(b'\xe0\x80\xaf')),
    ('name raw overlong F0 80 80 AF', raw_name(b'\xf0\x80\x80\xaf')),
    ('name raw CESU surrogate ED A0 80', raw_name(b'\xed\xa0\x80')),
    ('name raw CESU surrogate pair', raw_name(b'\xed\xa0\xbd\xed\xb8\x80')),
    ('name raw F4 90 80 80 above U+10FFFF', raw_name(b'\xf4\x90\x80\x80')),
    ('name raw F5 lead byte', raw_name(b'\xf5\x80\x80\x80')),
    ('name raw lone continuation byte 80', raw_name(b'a\x80b')),
    ('name raw truncated C3 at the end', raw_name(b'a\xc3')),
    ('name raw truncated E2 82', raw_name(b'\xe2\x82')),
    ('name raw 5-byte form F8 88 80 80 80', raw_name(b'\xf8\x88\x80\x80\x80')),
    ('name raw FE byte', raw_name(b'\xfe')),
    ('name raw FF byte', raw_name(b'\xff')),
]

VERSION_CASES = [
    ('version missing', body(version=OMIT)),
    ('version 1.5', body(version=1.5)),
    ('version "1"', body(version='1')),
    ('version true', body(version=True)),
    ('version false', body(version=False)),
    ('version null', body(version=None)),
    ('version -1', body(version=-1)),
    ('version 1e3', body(version=Raw('1e3'))),
    ('version 1E3', body(version=Raw('1E3'))),
    ('version 1e0', body(version=Raw('1e0'))),
    ('version 1.0', body(version=Raw('1.0'))),
    ('version 9007199254740992', body(version=harness.MAX_VERSION + 1)),
    ('version 99999999999999999999999', body(version=Raw('99999999999999999999999'))),
    ('version -9007199254740991', body(version=-harness.MAX_VERSION)),
    ('version array', body(version=[1])),
    ('version object', body(version={'v': 1})),
]

ENVIRONMENT_CASES = [
    ('environment empty', body(environment='')),
    ('environment space', body(environment=' ')),
    ('environment with a space', body(environment='a b')),
    ('environment trailing space', body(environment='prod ')),
    ('environment with a slash', body(environment='a/b')),
    ('environment with a backslash', body(environment='a\\b')),
    ('environment with a colon', body(environment='a:b')),
    ('environment non-ASCII', body(environment='\u00e4')),
    ('environment escaped NUL', body(environment=Raw(r'"a\u0000"'))),
    ('environment 65 chars', body(environment='e' * 65)),
    ('environment is a number', body(environment=1)),
    ('environment is true', body(environment=True)),
    ('environment is an array', body(environment=['prod'])),
    ('environment is an object', body(environment={})),
]

# (label, body, member) for each metadata member and each bad value.
METADATA_CASES = [
    ('%s %s' % (member, what), body(**{member: value}), member)
    for member in ('deployedBy', 'reason', 'releaseHash')
    for what, value in [
        ('257 ASCII bytes', 'm' * 257),
        ('257 bytes: 128 x U+00E9 + "m"', '\u00e9' * 128 + 'm'),
        ('is a number', 1),
        ('is true', True),
        ('is an array', ['x']),
        ('is an object', {'x': 'y'}),
    ]
]

ALIAS_CASES = [
    ('name and serviceName (same value)', body(serviceName='svc'), 'serviceName'),
    ('name and serviceName (different values)', body(serviceName='other'), 'serviceName'),
    ('serviceName before name', json_body(serviceName='svc', name='svc', version=1,
                                          environment=ENV), 'serviceName'),
    ('version and serviceVersionNumber', body(serviceVersionNumber=1), 'serviceVersionNumber'),
    ('serviceVersionNumber before version', json_body(
        name='svc', serviceVersionNumber=2, version=1, environment=ENV), 'serviceVersionNumber'),
    ('serviceName empty', body(name=OMIT, serviceName=''), 'serviceName'),
    ('serviceName is a number', body(name=OMIT, serviceName=5), 'serviceName'),
    ('serviceName 257 bytes', body(name=OMIT, serviceName='s' * 257), 'serviceName'),
    ('serviceVersionNumber "1"', body(version=OMIT, serviceVersionNumber='1'),
     'serviceVersionNumber'),
    ('serviceVersionNumber -1', body(version=OMIT, serviceVersionNumber=-1),
     'serviceVersionNumber'),
    ('serviceVersionNumber 1.5', body(version=OMIT, serviceVersionNumber=1.5),
     'serviceVersionNumber'),
]

INVALID_BODIES = (
    [(label, data, JSON, None) for label, data in INVALID_JSON_BODIES]
    + [(label, data, FIELD, 'name') for label, data in NAME_CASES]
    + [(label, data, FIELD, 'version') for label, data in VERSION_CASES]
    + [(label, data, FIELD, 'environment') for label, data in ENVIRONMENT_CASES]
    + [(label, data, FIELD, member) for label, data, member in METADATA_CASES]
    + [(label, data, FIELD, field) for label, data, field in ALIAS_CASES]
)

# (label, members without environment, the (name, version) then listed)
ACCEPTED = [
    ('name 1 byte', dict(name='x', version=1), ('x', 1)),
    ('name a single space', dict(name=' ', version=1), (' ', 1)),
    ('name 256 ASCII bytes', dict(name='a' * 256, version=1), ('a' * 256, 1)),
    ('name 256 bytes: 128 x U+00E9', dict(name='\u00e9' * 128, version=1),
     ('\u00e9' * 128, 1)),
    ('name 256 bytes: 85 x U+20AC + "a"', dict(name='\u20ac' * 85 + 'a', version=1),
     ('\u20ac' * 85 + 'a', 1)),
    ('name 256 bytes: 64 x U+1F600 raw', dict(name='\U0001f600' * 64, version=1),
     ('\U0001f600' * 64, 1)),
    ('name 256 bytes: 64 escaped surrogate pairs',
     dict(name=Raw('"' + r'\ud83d\ude00' * 64 + '"'), version=1), ('\U0001f600' * 64, 1)),
    ('name 256 bytes: 128 x \\u00e9 escapes', dict(name=Raw('"' + r'\u00e9' * 128 + '"'),
                                                   version=1), ('\u00e9' * 128, 1)),
    ('name U+10FFFF raw', dict(name='\U0010ffff', version=1), ('\U0010ffff', 1)),
    ('name U+FFFF', dict(name='\uffff', version=1), ('\uffff', 1)),
    ('name U+0080 (outside the forbidden controls)', dict(name='a\u0080', version=1),
     ('a\u0080', 1)),
    ('name with escaped quote, backslash and slash', dict(name=Raw(r'"a\"b\\c\/d"'),
                                                          version=1), ('a"b\\c/d', 1)),
    # A member name spelled with an escape is still that member (JSON semantics).
    ('member name "name" written as "na\\u006de"',
     Raw(b'{"na\\u006de":"svc","version":1'), ('svc', 1)),
    ('version 0', dict(name='svc', version=0), ('svc', 0)),
    ('version 9007199254740991', dict(name='svc', version=harness.MAX_VERSION),
     ('svc', harness.MAX_VERSION)),
    ('aliases only', dict(serviceName='svc', serviceVersionNumber=3), ('svc', 3)),
    ('metadata at 256 bytes', dict(name='svc', version=1, deployedBy='d' * 256,
                                   reason='\u00e9' * 128, releaseHash='\u20ac' * 85 + 'h'),
     ('svc', 1)),
    ('metadata empty strings', dict(name='svc', version=1, deployedBy='', reason='',
                                    releaseHash=''), ('svc', 1)),
]


def accepted_body(members, environment):
    if isinstance(members, Raw):   # verbatim prefix of an object
        return bytes(members) + b',"environment":"' + environment.encode() + b'"}'
    return json_body(environment=environment, **members)


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
                self.assertDeployAnswer(SERVER.post(accepted_body(members, env)), 1)
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
    ('GET', '/services/extra'), ('POST', '/deploy/extra'), ('GET', '/deployx'),
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
        resp = SERVER.post(closed)
        if resp.status == 200:
            self.assertDeployAnswer(resp, 1)
        else:   # a nesting limit is acceptable, a crash is not
            self.assertProblem(resp, 400, JSON)
        objects = (b'{"name":"deep","version":1,"environment":"' + env.encode()
                   + b'","x":' + b'{"a":' * 10000 + b'1' + b'}' * 10001)
        resp = SERVER.post(objects)
        self.assertIn(resp.status, (200, 400), resp.describe())
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
