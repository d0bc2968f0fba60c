"""Hostile requests, one table: each with the exact answer nginx or the pool
gives it on purpose (status, and the problem type when there is a body to
carry one), none of them a 5xx of the server's own making, none leaking a
file or nginx's version. Then the server must still be healthy.

tests/unit/test_json.c holds the parser's table of bodies, and
test_validation.py a body for each problem type, each parameter and the
body size limit over HTTP; this one is about what an attacker sends:
sizes far past the limits, nesting, duplicates, NUL bytes, broken UTF-8,
odd numbers, floods of parameters and headers, path traversal, methods,
request lines and framing that nginx must refuse.

Also: the deploy rate limit (deploy_rate, deploy_burst) answers 429 as a
problem, and only to POST /deploy; the default configuration does not
limit at all."""

import http.client
import socket
import time
import unittest

import harness
from harness import E2ETestCase, json_body, unique_env

SERVER = None
ENV = unique_env('hostile')       # every invalid deploy targets this one
OK_ENV = unique_env('hostile-ok')   # the deploys that are accepted

BAD_REQUEST = '/problems/bad-request'
INVALID_JSON = '/problems/invalid-json'
INVALID_FIELD = '/problems/invalid-field'
INVALID_PARAM = '/problems/invalid-parameter'
NOT_FOUND = '/problems/not-found'
NOT_ALLOWED = '/problems/method-not-allowed'
URI_TOO_LONG = '/problems/uri-too-long'
TOO_LARGE = '/problems/payload-too-large'
NOT_IMPLEMENTED = '/problems/not-implemented'
VERSION_NOT_SUPPORTED = '/problems/http-version-not-supported'
PRECONDITION = '/problems/precondition-failed'
NO_ANSWER = None    # nginx closes the connection without a word


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


def request(method, target, headers=(), body=b'', version=b'HTTP/1.1', length=True):
    """The bytes of one request with Host and Connection: close. headers is a
    sequence of raw header lines (bytes); a body gets its Content-Length
    unless length is False."""
    lines = [method + b' ' + target + b' ' + version, b'Host: 127.0.0.1',
             b'Connection: close']
    lines += list(headers)
    if length and (body or method == b'POST'):
        lines.append(b'Content-Length: %d' % len(body))
    return b'\r\n'.join(lines) + b'\r\n\r\n' + body


def post(body):
    return request(b'POST', b'/deploy', body=body)


def with_member(raw_members, environment=ENV):
    """A valid deploy body followed by raw members (bytes: "key":value,...)."""
    return (b'{"name":"svc","version":1,"environment":"' + environment.encode()
            + b'",' + raw_members + b'}')


def deploy_body(environment=ENV):
    return json_body(name='svc', version=1, environment=environment)


def nested(depth, environment):
    """A deploy whose extra member holds `depth` nested arrays: the object
    itself is one level more."""
    return with_member(b'"x":' + b'[' * depth + b']' * depth, environment)


def get(target, headers=()):
    return request(b'GET', target, headers)


def params(count, text=b'p%d=1'):
    return b'&'.join(text % i if b'%d' in text else text for i in range(count))


def header_lines(count, size=1):
    return [b'X-Flood-%d: %s' % (i, b'v' * size) for i in range(count)]


# (label, request bytes, status or NO_ANSWER, problem type or None when the
# answer is not a problem, extra checks: a dict that may name 'allow', the
# exact Allow header; 'body', bytes the body must contain; 'stored', an
# (environment, name, version) the deploy must have recorded)
CASES = [
    # ---- overlong names and environments, far past the limits
    ('name of 60,000 bytes', post(json_body(name='n' * 60000, version=1, environment=ENV)),
     400, INVALID_FIELD, {'field': 'name'}),
    ('name of 10,000 \\u0061 escapes (60 KB of JSON)',
     post(b'{"name":"' + b'\\u0061' * 10000 + b'","version":1}'), 400, INVALID_FIELD,
     {'field': 'name'}),
    ('serviceName of 65,000 bytes', post(json_body(serviceName='s' * 65000, version=1)),
     400, INVALID_FIELD, {'field': 'serviceName'}),
    ('environment of 1,000 characters', post(json_body(name='a', version=1, environment='e' * 1000)),
     400, INVALID_FIELD, {'field': 'environment'}),
    ('environment of 60,000 characters',
     post(json_body(name='a', version=1, environment='e' * 60000)), 400, INVALID_FIELD,
     {'field': 'environment'}),
    ('reason of 60,000 bytes', post(json_body(name='a', version=1, environment=ENV,
                                              reason='r' * 60000)),
     400, INVALID_FIELD, {'field': 'reason'}),
    ('environment query parameter of 300 characters', get(b'/status?environment=' + b'e' * 300),
     400, INVALID_PARAM, {'parameter': 'environment'}),

    # ---- nesting: 32 levels are accepted, one more is not, nor 30,000
    ('31 nested arrays in a member (32 levels)', post(nested(31, OK_ENV)), 200, None,
     {'stored': (OK_ENV, 'svc', 1)}),
    ('32 nested arrays in a member (33 levels)', post(nested(32, ENV)), 400, INVALID_JSON, {}),
    ('30,000 nested arrays, closed', post(nested(30000, ENV)), 400, INVALID_JSON, {}),
    ('10,000 nested objects, closed',
     post(with_member(b'"x":' + b'{"a":' * 10000 + b'1' + b'}' * 10000)), 400, INVALID_JSON, {}),
    ('60,000 open brackets', post(b'[' * 60000), 400, INVALID_JSON, {}),

    # ---- duplicate members
    ('name twice', post(b'{"name":"a","name":"b","version":1,"environment":"' + ENV.encode() + b'"}'),
     400, INVALID_FIELD, {'field': 'name'}),
    ('version twice', post(with_member(b'"version":2')), 400, INVALID_FIELD, {'field': 'version'}),
    ('environment twice', post(with_member(b'"environment":"other"')), 400, INVALID_FIELD,
     {'field': 'environment'}),
    ('name twice, once spelled "n\\u0061me"', post(with_member(b'"n\\u0061me":"b"')),
     400, INVALID_FIELD, {'field': 'name'}),
    ('deployedBy twice', post(with_member(b'"deployedBy":"a","deployedBy" :"b"')),
     400, INVALID_FIELD, {'field': 'deployedBy'}),
    ('an unknown member 10,000 times (ignored)',
     post(b'{"name":"dup","version":1,"environment":"' + OK_ENV.encode() + b'",'
          + b','.join([b'"k":0'] * 10000) + b'}'), 200, None, {'stored': (OK_ENV, 'dup', 1)}),

    # ---- NUL bytes
    ('NUL byte before the object', post(b'\x00' + deploy_body()), 400, INVALID_JSON, {}),
    ('NUL byte between members', post(b'{"name":"a",\x00"version":1}'), 400, INVALID_JSON, {}),
    ('raw NUL byte inside the name', post(b'{"name":"a\x00b","version":1}'), 400, INVALID_JSON, {}),
    ('raw NUL byte inside a member name', post(b'{"na\x00me":"a","version":1}'), 400,
     INVALID_JSON, {}),
    ('escaped NUL in deployedBy', post(with_member(b'"deployedBy":"a\\u0000b"')), 400,
     INVALID_FIELD, {'field': 'deployedBy'}),
    ('%00 in a query parameter', get(b'/status?environment=prod%00'), 400, INVALID_PARAM,
     {'parameter': 'environment'}),
    ('raw NUL byte in the query string', get(b'/services?environment=a\x00b'), 400, BAD_REQUEST, {}),
    ('%00 in the path', get(b'/systemversions/1%00'), 400, BAD_REQUEST, {}),

    # ---- overlong UTF-8 and surrogates
    ('overlong NUL C0 80 in the name', post(b'{"name":"a\xc0\x80b","version":1}'), 400,
     INVALID_FIELD, {'field': 'name'}),
    ('overlong "/" E0 80 AF in the environment',
     post(b'{"name":"a","version":1,"environment":"\xe0\x80\xaf"}'), 400, INVALID_FIELD,
     {'field': 'environment'}),
    ('overlong C0 AF in deployedBy', post(with_member(b'"deployedBy":"\xc0\xaf"')), 400,
     INVALID_FIELD, {'field': 'deployedBy'}),
    ('overlong C0 AF in an unknown member', post(with_member(b'"x":"\xc0\xaf"')), 400,
     INVALID_JSON, {}),
    ('overlong C0 AF as a member name', post(with_member(b'"\xc0\xaf":1')), 400, INVALID_JSON, {}),
    ('raw surrogate ED A0 80 in reason', post(with_member(b'"reason":"\xed\xa0\x80"')), 400,
     INVALID_FIELD, {'field': 'reason'}),
    ('raw surrogate ED BF BF in an unknown member', post(with_member(b'"x":"\xed\xbf\xbf"')),
     400, INVALID_JSON, {}),
    ('\\ud800 escape in releaseHash', post(with_member(b'"releaseHash":"\\ud800"')), 400,
     INVALID_FIELD, {'field': 'releaseHash'}),
    ('\\udfff escape in an unknown member', post(with_member(b'"x":"\\udfff"')), 400,
     INVALID_JSON, {}),
    ('\\ud800 escape as a member name', post(with_member(b'"\\ud800":1')), 400, INVALID_JSON, {}),
    ('overlong %C0%AF in a query parameter', get(b'/badge.svg?environment=%C0%AF'), 400,
     INVALID_PARAM, {'parameter': 'environment'}),
    ('surrogate %ED%A0%80 in a query parameter', get(b'/status?environment=%ED%A0%80'), 400,
     INVALID_PARAM, {'parameter': 'environment'}),
    ('UTF-8 byte order mark before the object', post(b'\xef\xbb\xbf' + deploy_body()), 400,
     INVALID_JSON, {}),
    ('UTF-16 body', post(deploy_body().decode().encode('utf-16')), 400, INVALID_JSON, {}),

    # ---- numbers
    ('serviceVersionNumber 2^53', post(json_body(name='a', serviceVersionNumber=2 ** 53)), 400,
     INVALID_FIELD, {'field': 'serviceVersionNumber'}),
    ('version 2^64', post(b'{"name":"a","version":18446744073709551616}'), 400, INVALID_FIELD,
     {'field': 'version'}),
    ('version 1e400', post(b'{"name":"a","version":1e400}'), 400, INVALID_FIELD,
     {'field': 'version'}),
    ('version -1e400', post(b'{"name":"a","version":-1e400}'), 400, INVALID_FIELD,
     {'field': 'version'}),
    ('version 1.0e0', post(b'{"name":"a","version":1.0e0}'), 400, INVALID_FIELD,
     {'field': 'version'}),
    ('version -0.0', post(b'{"name":"a","version":-0.0}'), 400, INVALID_FIELD,
     {'field': 'version'}),
    ('version -0 (the JSON integer zero)',
     post(b'{"name":"negzero","version":-0,"environment":"' + OK_ENV.encode() + b'"}'), 200,
     None, {'stored': (OK_ENV, 'negzero', 0)}),
    ('1e400 and a 5,000-digit integer in unknown members (ignored)',
     post(b'{"name":"bignum","version":1,"environment":"' + OK_ENV.encode()
          + b'","x":1e400,"y":-1e400,"z":' + b'9' * 5000 + b'}'), 200, None,
     {'stored': (OK_ENV, 'bignum', 1)}),
    ('systemVersion 2^64 in the path', get(b'/systemversions/18446744073709551616'), 400,
     INVALID_PARAM, {}),
    ('diff from -0', get(b'/diff?from=-0&to=1'), 400, INVALID_PARAM, {'parameter': 'from'}),
    ('at 1e400', get(b'/systemversions?at=1e400'), 400, INVALID_PARAM, {'parameter': 'at'}),

    # ---- floods of query parameters
    ('10,000 query parameters (over the 8 KiB request line)', get(b'/services?' + params(10000)),
     414, URI_TOO_LONG, {}),
    ('a query string of 100 KB', get(b'/services?x=' + b'a' * 100000), 414, URI_TOO_LONG, {}),
    ('4,000 empty query parameters (within 8 KiB)', get(b'/services?' + b'&' * 4000 + b'x'), 200,
     None, {}),
    ('500 empty environment= parameters',
     get(b'/services?' + params(500, b'environment=')), 400, INVALID_PARAM,
     {'parameter': 'environment'}),

    # ---- header floods
    ('500 small headers (within the 32 KiB of headers)', get(b'/healthz', header_lines(500)),
     200, None, {}),
    ('5,000 headers (150 KB)', get(b'/healthz', header_lines(5000, 20)), 400, BAD_REQUEST, {}),
    ('one header of 64 KB', get(b'/healthz', [b'X-Big: ' + b'a' * 65536]), 400, BAD_REQUEST, {}),
    ('a header line of 8,190 bytes (the largest accepted)',
     get(b'/healthz', [b'X: ' + b'a' * 8187]), 200, None, {}),
    ('a header line of 8,191 bytes', get(b'/healthz', [b'X: ' + b'a' * 8188]), 400,
     BAD_REQUEST, {}),
    ('a Cookie of 64 KB', get(b'/healthz', [b'Cookie: ' + b'c=1; ' * 13000]), 400,
     BAD_REQUEST, {}),
    ('an Authorization of 10 KB on a deploy',
     request(b'POST', b'/deploy', [b'Authorization: Bearer ' + b'a' * 10000], deploy_body()),
     400, BAD_REQUEST, {}),
    ('NUL byte in a header value', get(b'/healthz', [b'X-A: a\x00b']), 400, BAD_REQUEST, {}),
    ('space in a header name', get(b'/healthz', [b'X A: 1']), 400, BAD_REQUEST, {}),
    ('obsolete line folding', get(b'/healthz', [b'X-A: a', b' b']), 400, BAD_REQUEST, {}),
    ('Host twice', get(b'/healthz', [b'Host: other']), 400, BAD_REQUEST, {}),
    ('HTTP/1.1 without Host', b'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', 400,
     BAD_REQUEST, {}),

    # ---- path traversal and odd paths among the pages
    ('/../../etc/passwd', get(b'/../../etc/passwd'), 400, BAD_REQUEST, {}),
    ('/%2e%2e%2f%2e%2e%2fetc/passwd', get(b'/%2e%2e%2f%2e%2e%2fetc/passwd'), 400, BAD_REQUEST, {}),
    ('/%2e%2e/%2e%2e/etc/passwd', get(b'/%2e%2e/%2e%2e/etc/passwd'), 400, BAD_REQUEST, {}),
    ('//etc/passwd', get(b'//etc/passwd'), 404, NOT_FOUND, {}),
    ('/static/..%2f..%2fetc/passwd', get(b'/static/..%2f..%2fetc/passwd'), 400, BAD_REQUEST, {}),
    ('/index.html/..%2f..%2f..%2fetc%2fpasswd', get(b'/index.html/..%2f..%2f..%2fetc%2fpasswd'),
     400, BAD_REQUEST, {}),
    ('/../conf/releasemgr.conf', get(b'/../conf/releasemgr.conf'), 400, BAD_REQUEST, {}),
    ('/index.html%00.txt (encoded NUL)', get(b'/index.html%00.txt'), 400, BAD_REQUEST, {}),
    ('/%252e%252e%252fetc%252fpasswd (encoded twice)', get(b'/%252e%252e%252fetc%252fpasswd'),
     404, NOT_FOUND, {}),
    ('/..%5c..%5cetc%5cpasswd (backslashes)', get(b'/..%5c..%5cetc%5cpasswd'), 404, NOT_FOUND, {}),
    ('/./././etc/passwd', get(b'/./././etc/passwd'), 404, NOT_FOUND, {}),
    ('/systemversions/..%2f..%2fetc%2fpasswd', get(b'/systemversions/..%2f..%2fetc%2fpasswd'),
     400, BAD_REQUEST, {}),
    ('a missing .js page (problem, not JavaScript)', get(b'/missing.js'), 404, NOT_FOUND, {}),
    ('a missing .html page (problem, not HTML)', get(b'/missing.html'), 404, NOT_FOUND, {}),
    ('an internal problem location asked for', get(b'/problems/bad-request'), 404, NOT_FOUND, {}),

    # ---- methods
    ('TRACE /deploy', request(b'TRACE', b'/deploy'), 405, NOT_ALLOWED, {'allow': 'POST'}),
    ('TRACE /', request(b'TRACE', b'/'), 405, NOT_ALLOWED, {'allow': 'GET, HEAD'}),
    ('PROPFIND /deploy', request(b'PROPFIND', b'/deploy'), 405, NOT_ALLOWED, {'allow': 'POST'}),
    ('FOO /healthz', request(b'FOO', b'/healthz'), 405, NOT_ALLOWED, {'allow': 'GET, HEAD'}),
    ('DELETE /index.html', request(b'DELETE', b'/index.html'), 405, NOT_ALLOWED,
     {'allow': 'GET, HEAD'}),
    ('POST /index.html', request(b'POST', b'/index.html', body=b'{}'), 405, NOT_ALLOWED,
     {'allow': 'GET, HEAD'}),
    ('lower-case get', request(b'get', b'/healthz'), 400, BAD_REQUEST, {}),
    ('CONNECT', request(b'CONNECT', b'127.0.0.1:22'), 400, BAD_REQUEST, {}),
    ('OPTIONS *', request(b'OPTIONS', b'*'), 400, BAD_REQUEST, {}),

    # ---- request lines
    ('HTTP/0.9 GET /', b'GET /\r\n', NO_ANSWER, None, {}),
    ('HTTP/0.9 GET /healthz', b'GET /healthz\r\n', NO_ANSWER, None, {}),
    ('a TLS ClientHello', b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + b'\x00' * 40 +
     b'\r\n\r\n', 400, BAD_REQUEST, {}),
    ('a request line of one word', b'GARBAGE\r\n\r\n', 400, BAD_REQUEST, {}),
    ('HTTP/2.0 in an HTTP/1 request line', get(b'/healthz').replace(b'HTTP/1.1', b'HTTP/2.0', 1),
     505, VERSION_NOT_SUPPORTED, {}),
    ('HTTP/9.9', get(b'/healthz').replace(b'HTTP/1.1', b'HTTP/9.9', 1), 505,
     VERSION_NOT_SUPPORTED, {}),
    ('HTTX/1.1', get(b'/healthz').replace(b'HTTP/1.1', b'HTTX/1.1', 1), 400, BAD_REQUEST, {}),
    ('a relative target', get(b'healthz'), 400, BAD_REQUEST, {}),
    ('a space in the target', get(b'/services?environment=a b'), 400, BAD_REQUEST, {}),
    ('a request line of 100 KB', get(b'/' + b'a' * 100000), 414, URI_TOO_LONG, {}),

    # ---- framing of the body
    ('Content-Length: abc', request(b'POST', b'/deploy', [b'Content-Length: abc'], b'{}',
                                    length=False), 400, BAD_REQUEST, {}),
    ('Content-Length: -1', request(b'POST', b'/deploy', [b'Content-Length: -1'], b'{}',
                                   length=False), 400, BAD_REQUEST, {}),
    ('Content-Length: +2', request(b'POST', b'/deploy', [b'Content-Length: +2'], b'{}',
                                   length=False), 400, BAD_REQUEST, {}),
    ('Content-Length of 2^70', request(b'POST', b'/deploy',
                                       [b'Content-Length: 1180591620717411303424'], b'{}',
                                       length=False), 400, BAD_REQUEST, {}),
    ('Content-Length twice, different', request(
        b'POST', b'/deploy', [b'Content-Length: 2', b'Content-Length: 3'], b'{}', length=False),
     400, BAD_REQUEST, {}),
    ('Content-Length twice, the same', request(
        b'POST', b'/deploy', [b'Content-Length: 2', b'Content-Length: 2'], b'{}', length=False),
     400, BAD_REQUEST, {}),
    ('Content-Length of 1,000,000 (refused before the body)', request(
        b'POST', b'/deploy', [b'Content-Length: 1000000'], b'{}', length=False),
     413, TOO_LARGE, {}),
    ('Content-Length and Transfer-Encoding: chunked', request(
        b'POST', b'/deploy', [b'Content-Length: 5', b'Transfer-Encoding: chunked'],
        b'2\r\n{}\r\n0\r\n\r\n', length=False), 400, BAD_REQUEST, {}),
    ('Transfer-Encoding: gzip', request(b'POST', b'/deploy', [b'Transfer-Encoding: gzip'],
                                        b'{}', length=False), 501, NOT_IMPLEMENTED, {}),
    ('Transfer-Encoding: chunked, chunked', request(
        b'POST', b'/deploy', [b'Transfer-Encoding: chunked, chunked'], b'2\r\n{}\r\n0\r\n\r\n',
        length=False), 501, NOT_IMPLEMENTED, {}),
    ('a chunk size that is not hexadecimal', request(
        b'POST', b'/deploy', [b'Transfer-Encoding: chunked'], b'zz\r\n{}\r\n0\r\n\r\n',
        length=False), 400, BAD_REQUEST, {}),
    ('a chunk size of 2^80', request(
        b'POST', b'/deploy', [b'Transfer-Encoding: chunked'],
        b'ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n', length=False), 400, BAD_REQUEST, {}),
    ('chunked in HTTP/1.0', request(b'POST', b'/deploy', [b'Transfer-Encoding: chunked'],
                                    b'2\r\n{}\r\n0\r\n\r\n', version=b'HTTP/1.0', length=False),
     400, BAD_REQUEST, {}),

    # ---- conditions and ranges on the pages
    ('If-Match that matches nothing', get(b'/index.html', [b'If-Match: "nope"']), 412,
     PRECONDITION, {}),
    ('a Range past the end (ranges are not served)', get(b'/index.html',
                                                         [b'Range: bytes=999999-']), 200, None,
     {'body': b'<!doctype html>'}),
    ('800 ranges (no multipart amplification)',
     get(b'/index.html', [b'Range: bytes=' + b','.join(b'%d-%d' % (i, i) for i in range(800))]),
     200, None, {'body': b'<!doctype html>'}),
]


def exchange(data, timeout=harness.HTTP_TIMEOUT):
    """Send data; the parsed answer as a harness.Response, or None when the
    server closed the connection without a byte."""
    sock = socket.create_connection((harness.HOST, SERVER.port), timeout=timeout)
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except ConnectionResetError:
            first = b''
        if not first:
            return None
        method = data.split(b' ', 1)[0].decode('latin-1')
        resp = http.client.HTTPResponse(sock, method=method if method == 'HEAD' else 'GET')
        resp.begin()
        body = resp.read()
        return harness.Response(resp.status, harness._header_dict(resp.getheaders()), body)
    finally:
        sock.close()


class HostileTableTest(E2ETestCase):

    def test_table(self):
        self.assertGreaterEqual(len(CASES), 50)
        self.assertEqual(len({case[0] for case in CASES}), len(CASES), 'labels are unique')
        workers = SERVER.wait_workers(SERVER.workers or 2)
        for label, data, status, ptype, extra in CASES:
            with self.subTest(label):
                resp = exchange(data)
                if status is NO_ANSWER:
                    self.assertIsNone(resp, 'expected no answer; got %s'
                                      % (resp and resp.describe()))
                    continue
                self.assertIsNotNone(resp, 'no answer')
                self.assertEqual(resp.status, status, resp.describe())
                self.assertNotLeaking(resp)
                if ptype is not None:
                    self.assertProblem(resp, status, ptype, field=extra.get('field'),
                                       parameter=extra.get('parameter'),
                                       allow=extra.get('allow'))
                else:
                    self.assertNotEqual(resp.media_type, 'application/problem+json',
                                        resp.describe())
                if 'body' in extra:
                    self.assertIn(extra['body'], resp.body)
                if 'stored' in extra:
                    environment, name, version = extra['stored']
                    self.assertDeployAnswer(resp)
                    pairs = harness.services_pairs(SERVER.services(environment=environment))
                    self.assertIn((name, version), pairs)
        # nothing refused was stored, and no worker died on the way
        self.assertProblem(SERVER.services(environment=ENV), 404, NOT_FOUND)
        self.assertEqual(SERVER.worker_pids(), workers, 'a worker was replaced')
        self.assertHealthy()

    def assertNotLeaking(self, resp):
        """No version of nginx, and nothing of /etc/passwd."""
        self.assertEqual(resp.headers.get('server'), 'nginx', 'Server header')
        self.assertNotRegex(resp.body, rb'nginx/[0-9]', 'nginx version in the body')
        self.assertNotIn(b'root:x:0:0', resp.body, 'a file leaked')

    def assertHealthy(self):
        resp = SERVER.request('GET', '/healthz')
        self.assertEqual(resp.status, 200, resp.describe())
        env = unique_env('hostile-after')
        self.deploy_ok(SERVER, 'after', 1, env, expected=1)
        self.deploy_ok(SERVER, 'after', 2, env, expected=2)
        self.assertSnapshot(SERVER, env, 2, [('after', 2)])

    def test_pipelined_after_an_error(self):
        """After a 400 nginx closes the connection: a request smuggled
        behind a malformed one is never served."""
        smuggled = (request(b'POST', b'/deploy', [b'Content-Length: 5',
                                                  b'Transfer-Encoding: chunked'],
                            b'0\r\n\r\n', length=False).replace(b'Connection: close\r\n', b'')
                    + request(b'POST', b'/deploy', body=json_body(name='smuggled', version=1,
                                                                   environment=ENV)))
        raw = harness.raw_exchange(SERVER.port, smuggled)
        self.assertEqual(raw.count(b'HTTP/1.1 '), 1, raw[:500])
        self.assertTrue(raw.startswith(b'HTTP/1.1 400 '), raw[:200])
        self.assertProblem(SERVER.services(environment=ENV), 404, NOT_FOUND)


class DeployRateLimitTest(E2ETestCase):
    """deploy_rate = 5 a second per address, deploy_burst = 3."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls, config={'deploy_rate': 5, 'deploy_burst': 3})

    def test_burst_of_deploys(self):
        env = unique_env('rate')
        answers = [self.server.deploy('svc', version, env) for version in range(1, 21)]
        accepted = [resp for resp in answers if resp.status == 200]
        limited = [resp for resp in answers if resp.status == 429]
        self.assertEqual(len(accepted) + len(limited), len(answers),
                         [resp.describe() for resp in answers if resp.status not in (200, 429)])
        # the first and the burst pass at once; the rest of a burst this fast
        # (20 deploys well within a second) are refused, a few may have
        # refilled meanwhile
        self.assertGreaterEqual(len(accepted), 4, [r.status for r in answers])
        self.assertGreaterEqual(len(limited), 5, [r.status for r in answers])
        self.assertEqual([r.status for r in answers[:4]], [200] * 4)
        for resp in limited:
            self.assertProblem(resp, 429, '/problems/too-many-requests')
            self.assertRetryAfter(resp)
        # what was accepted was numbered without gaps; what was refused, not stored
        versions = [self.assertDeployAnswer(resp) for resp in accepted]
        self.assertEqual(versions, list(range(1, len(accepted) + 1)))
        # reads are never limited, nor other methods on /deploy
        for _ in range(30):
            self.assertEqual(self.server.request('GET', '/status?environment=' + env).status, 200)
        self.assertProblem(self.server.request('GET', '/deploy'), 405, NOT_ALLOWED, allow='POST')
        # a second later the bucket has room again
        time.sleep(1.2)
        self.assertDeployAnswer(self.server.deploy('svc', 100, env), len(accepted) + 1)

    def test_launcher_refuses_an_invalid_rate(self):
        for settings, word in (({'deploy_rate': 100001}, 'deploy_rate'),
                               ({'deploy_burst': 'many'}, 'deploy_burst')):
            with self.subTest(**settings):
                server = harness.Server(label='bad-rate', config=settings)
                try:
                    with self.assertRaises(RuntimeError) as caught:
                        server.start(timeout=10)
                    self.assertIn(word, str(caught.exception))
                finally:
                    server.cleanup()


class DefaultNotLimitedTest(E2ETestCase):
    """The default configuration (deploy_rate = 0) limits nothing: 400
    deploys from one address as fast as 16 connections send them."""

    def test_no_limit_by_default(self):
        env = unique_env('unlimited')
        answers = harness.run_parallel(
            lambda version: SERVER.deploy('svc', version, env).status, range(1, 401), 16)
        self.assertEqual(set(answers), {200})


if __name__ == '__main__':
    unittest.main()
