"""The OpenAPI document of the API, static/openapi.json.

nginx serves it as a static file, /openapi.json: application/json,
revalidated by its ETag like the pages. Its operations are exactly the
route table's (src/router.c, read when the test runs): each path with its
methods (HEAD, which every GET route takes, is left implicit), the deploy
token where the route asks for it, and the parameters the route reads
(their names from src/query.c). And every example it gives is the shape of
a live answer: the same status and media type, the same JSON member names
and types all the way down (for a problem, the same type and status too),
and every header the document says is always there.

EXAMPLES maps each example of the document, by operation, status and
name, to the request that answers it; an example without a row fails, and
so does a row without an example. Each request body example of the
document is one that a row sends, and is answered 200.

The rows are sent in their order, phase by phase:
  main       a server with a deploy token, the seed example in default, and
             reports to prod and staging (MAIN_SETUP), then the rows
  limits     deploy_rate 1 (burst 1), and reserve_mb above any disk:
             every report is refused as the disk's, and nothing is deployed
  pool-down  the same server with its pool killed and nginx left up
  group      two sites of a replication group, the first one the master
  cut-off    the replica stopped: the master alone, then the replica removed
  no-master  the replica started again (it joins again), the master stopped
"""

import collections
import http.client
import json
import os
import re
import shutil
import signal
import tempfile
import time
import unittest
import xml.etree.ElementTree as ElementTree

import harness
from harness import HOST, E2ETestCase, Server, free_port, pid_alive, wait_until

DOCUMENT = os.path.join(harness.REPO_ROOT, 'static', 'openapi.json')
ROUTER = os.path.join(harness.REPO_ROOT, 'src', 'router.c')
QUERY = os.path.join(harness.REPO_ROOT, 'src', 'query.c')

TOKEN = 'openapi-' + os.urandom(16).hex()
METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')
PHASE_TIMEOUT = 20.0      # a group forming, a site noticing another gone
RESERVE_MB = 1048576      # reserve_mb's largest value: 1 TiB


# --------------------------------------------------------------------------
# The route table and the query parameters, read from the C sources
# --------------------------------------------------------------------------

Route = collections.namedtuple('Route', 'path methods token segment params')


def c_source(path):
    """The text of a C file without its comments."""
    with open(path) as f:
        return re.sub(r'/\*.*?\*/', ' ', f.read(), flags=re.S)


def query_names():
    """{'SYSTEM_VERSION': 'systemVersion', ...}: query.c's query_fields."""
    return dict(re.findall(r'\[QUERY_(\w+)\]\s*=\s*\{\s*"(\w+)"', c_source(QUERY)))


def route_table():
    """Every entry of routes[] in src/router.c, its macros expanded."""
    text = c_source(ROUTER)
    macros = dict(re.findall(r'^#define[ \t]+(\w+)[ \t]+(.+)$', text, flags=re.M))
    table = re.search(r'\broutes\s*\[\s*ROUTE_COUNT\s*\]\s*=\s*\{(.*?)\n\};', text, re.S)
    if table is None:
        raise AssertionError('no routes[ROUTE_COUNT] table in %s' % ROUTER)
    names = query_names()

    def expand(expr):
        for _ in range(5):
            expr = re.sub(r'\b[A-Z_]+\b', lambda m: macros.get(m.group(0), m.group(0)), expr)
        return expr

    def params(expr):
        return {names[p] for p in re.findall(r'\bP\((\w+)\)', expand(expr))}

    routes = []
    for entry in re.findall(r'\[ROUTE_\w+\]\s*=\s*\{(.*?)\}\s*,', table.group(1), re.S):
        fields = dict(re.findall(r'\.(\w+)\s*=\s*(.*?)\s*(?=,\s*\.\w+\s*=|,?\s*$)',
                                 entry.strip(), re.S))
        path = re.fullmatch(r'"([^"]*)"', fields.get('path', ''))
        methods = re.findall(r'METHOD\(HTTP_(\w+)\)', expand(fields.get('methods', '')))
        if path is None or not methods:
            raise AssertionError('cannot read the route %r of %s' % (entry, ROUTER))
        segment = params(fields.get('segment', ''))
        routes.append(Route(path.group(1), frozenset(methods),
                            fields.get('token') == 'true',
                            next(iter(segment)) if segment else None,
                            frozenset(params(fields.get('params', '')))))
    if len(routes) < 10:
        raise AssertionError('only %d routes read from %s' % (len(routes), ROUTER))
    return routes


# --------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------

def load_document():
    with open(DOCUMENT, 'rb') as f:
        return harness.strict_json(f.read())


def resolve(doc, node):
    """node, or what its "$ref" (a local JSON pointer) names."""
    while isinstance(node, dict) and '$ref' in node:
        pointer = node['$ref']
        if not pointer.startswith('#/'):
            raise AssertionError('a $ref outside the document: %r' % pointer)
        node = doc
        for part in pointer[2:].split('/'):
            node = node[part.replace('~1', '/').replace('~0', '~')]
    return node


def operations(doc):
    """(METHOD, path, operation) of every operation of the document."""
    for path, item in doc['paths'].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def documented_examples(doc):
    """{(METHOD, path, status, example): (media type, value, response)}."""
    found = {}
    for method, path, op in operations(doc):
        for status, response in op['responses'].items():
            response = resolve(doc, response)
            for media_type, media in response.get('content', {}).items():
                for name, example in media.get('examples', {}).items():
                    key = (method, path, int(status), name)
                    if key in found:
                        raise AssertionError('example %r twice' % (key,))
                    found[key] = (media_type, resolve(doc, example)['value'], response)
    return found


# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------

def json_type(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'number'
    if isinstance(value, str):
        return 'string'
    raise AssertionError('not a JSON value: %r' % (value,))


def shape(value):
    """The member names and JSON types of a value, all the way down: an
    object's members by name, an array's elements in order."""
    if isinstance(value, dict):
        return {name: shape(member) for name, member in value.items()}
    if isinstance(value, list):
        return [shape(element) for element in value]
    return json_type(value)


def xml_shape(text):
    """The element names of an XML document, nested as they are."""
    def tree(element):
        return (element.tag, [tree(child) for child in element])
    return tree(ElementTree.fromstring(text))


def metric_families(text):
    """{name: type} of a Prometheus text exposition; every line checked."""
    families = {}
    # a label's value may hold any character, a '"' and a '\\' escaped
    sample = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*'
                        r'(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? \S+( -?\d+)?')
    for line in text.splitlines():
        if not line.strip():
            continue
        typed = re.fullmatch(r'# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) '
                             r'(counter|gauge|histogram|summary|untyped)', line)
        if typed:
            families[typed.group(1)] = typed.group(2)
        elif not line.startswith('#') and not sample.fullmatch(line):
            raise AssertionError('not a line of the text exposition format: %r' % line)
    return families


def media_parameters(content_type):
    """(type, {parameter: value}) of a Content-Type, lower-cased."""
    parts = [part.strip() for part in content_type.split(';')]
    return parts[0].lower(), dict(tuple(p.lower().split('=', 1)) for p in parts[1:] if p)


# --------------------------------------------------------------------------
# The requests that answer the document's examples
# --------------------------------------------------------------------------

class Ask:
    """A request of the table, sent in its phase, in table order.

    site: in the group's phases, 'master' or 'replica'. token: with the
    deploy token. source: 'elsewhere' sends it from a local address
    outside 127.0.0.0/8. until: resend it (0.2 s apart, PHASE_TIMEOUT at
    most) until that status comes. outcome: the Deploy-Outcome expected.
    The target may name '{replica}', the replica's replication address.
    """

    def __init__(self, phase, method, target, body=None, token=False, site=None,
                 source=None, until=None, outcome=None):
        self.phase, self.method, self.target = phase, method, target
        self.body, self.token, self.site = body, token, site
        self.source, self.until, self.outcome = source, until, outcome

    def payload(self):
        if self.body is None or isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()

    def __repr__(self):
        return '%s %s %s' % (self.phase, self.method, self.target)


def deploy(phase, body, **kwargs):
    return Ask(phase, 'POST', '/deploy', body, token=True, **kwargs)


def get(phase, target, **kwargs):
    return Ask(phase, 'GET', target, **kwargs)


def delete(phase, target, **kwargs):
    return Ask(phase, 'DELETE', target, token=True, **kwargs)


# The reports of a careful watcher (README's example), and their redelivery.
WATCHER = {'name': 'Service A', 'version': 3, 'environment': 'prod', 'eventId': 'k8s-7f2c',
           'sequence': 18, 'deployedAt': '2026-12-06T10:14:58Z', 'deployedBy': 'ci',
           'reason': 'hotfix', 'releaseHash': '9f2c1e7'}
LATE = {'name': 'Service A', 'version': 2, 'environment': 'prod', 'eventId': 'k8s-6e1a',
        'sequence': 17}

# What MAIN holds before the rows: the seed example in default (1, 2, 3),
# two reports to prod and two deploys to staging.
MAIN_SETUP = [
    deploy('main', {'name': 'Service A', 'version': 1}),
    deploy('main', {'name': 'Service B', 'version': 1}),
    deploy('main', {'name': 'Service A', 'version': 2}),
    deploy('main', {'name': 'Service A', 'version': 1, 'environment': 'prod',
                    'eventId': 'k8s-5d0b', 'sequence': 16, 'deployedBy': 'ci'}),
    deploy('main', {'name': 'Service B', 'version': 5, 'environment': 'prod'}),
    deploy('main', {'name': 'Service A', 'version': 3, 'environment': 'staging'}),
    deploy('main', {'name': 'Service C', 'version': 1, 'environment': 'staging'}),
]

TOO_LARGE = b'{"name": "Service A", "version": 1, "reason": "' + b'x' * 65536 + b'"}'

# (method, path of the document, status, example): the request answering it.
EXAMPLES = collections.OrderedDict([
    # reports first, in the order that gives their outcomes
    (('POST', '/deploy', 200, 'applied'), deploy('main', WATCHER, outcome='applied')),
    (('POST', '/deploy', 200, 'duplicate'), deploy('main', WATCHER, outcome='duplicate')),
    (('POST', '/deploy', 200, 'stale'), deploy('main', LATE, outcome='stale')),
    (('POST', '/deploy', 200, 'unchanged'),
     deploy('main', {'name': 'Service B', 'version': 1}, outcome='unchanged')),
    (('DELETE', '/services/{name}', 200, 'removed'),
     delete('main', '/services/Service%20B?environment=prod&eventId=k8s-8a9b',
            outcome='removed')),
    (('POST', '/deploy', 400, 'invalid-json'),
     deploy('main', b'{"name": "Service A", "version": 1} {}')),
    (('POST', '/deploy', 400, 'invalid-field'),
     deploy('main', {'name': 'Service A', 'version': -1})),
    (('POST', '/deploy', 401, 'unauthorized'),
     Ask('main', 'POST', '/deploy', {'name': 'Service A', 'version': 1})),
    (('POST', '/deploy', 409, 'event-conflict'),
     deploy('main', {'name': 'Service B', 'version': 6, 'environment': 'prod',
                     'eventId': 'k8s-7f2c'})),
    (('POST', '/deploy', 413, 'payload-too-large'), deploy('main', TOO_LARGE)),
    (('DELETE', '/services/{name}', 400, 'invalid-parameter'),
     delete('main', '/services/Service%20A?environment=prod&sequence=-1')),
    (('DELETE', '/services/{name}', 401, 'unauthorized'),
     Ask('main', 'DELETE', '/services/Service%20A?environment=prod')),
    (('DELETE', '/services/{name}', 404, 'not-found'),
     delete('main', '/services/Service%20Z?environment=prod')),
    (('DELETE', '/services/{name}', 409, 'event-conflict'),
     delete('main', '/services/Service%20A?environment=prod&eventId=k8s-7f2c')),
    # reads
    (('GET', '/services', 200, 'seed'), get('main', '/services?systemVersion=2')),
    (('GET', '/services', 400, 'invalid-parameter'), get('main', '/services?systemVersion=0')),
    (('GET', '/services', 404, 'not-found'), get('main', '/services?systemVersion=99')),
    (('GET', '/services/{name}/history', 200, 'periods'),
     get('main', '/services/Service%20A/history?environment=prod')),
    (('GET', '/services/{name}/history', 400, 'invalid-parameter'),
     get('main', '/services/%FF/history')),
    (('GET', '/services/{name}/history', 404, 'not-found'),
     get('main', '/services/Service%20Z/history?environment=prod')),
    (('GET', '/status', 200, 'current'), get('main', '/status?environment=prod')),
    (('GET', '/status', 400, 'invalid-parameter'), get('main', '/status?environment=pr%20od')),
    (('GET', '/status', 404, 'not-found'), get('main', '/status?environment=nowhere')),
    (('GET', '/systemversions', 200, 'page'),
     get('main', '/systemversions?environment=prod&limit=2')),
    (('GET', '/systemversions', 200, 'at'),
     get('main', '/systemversions?environment=default&at=2100-01-01T00:00:00Z')),
    (('GET', '/systemversions', 400, 'invalid-parameter'),
     get('main', '/systemversions?environment=prod&limit=501')),
    (('GET', '/systemversions', 404, 'not-found'),
     get('main', '/systemversions?environment=nowhere')),
    (('GET', '/systemversions/{systemVersion}', 200, 'seed'), get('main', '/systemversions/3')),
    (('GET', '/systemversions/{systemVersion}', 400, 'invalid-parameter'),
     get('main', '/systemversions/0')),
    (('GET', '/systemversions/{systemVersion}', 404, 'not-found'),
     get('main', '/systemversions/99')),
    (('GET', '/events', 200, 'page'), get('main', '/events?environment=prod&limit=3')),
    (('GET', '/events', 400, 'invalid-parameter'), get('main', '/events?before=0')),
    (('GET', '/events', 404, 'not-found'), get('main', '/events?environment=nowhere')),
    (('GET', '/diff', 200, 'versions'), get('main', '/diff?from=1&to=3')),
    (('GET', '/diff', 200, 'drift'),
     get('main', '/diff?fromEnvironment=prod&toEnvironment=staging')),
    (('GET', '/diff', 400, 'invalid-parameter'), get('main', '/diff?from=0')),
    (('GET', '/diff', 404, 'not-found'), get('main', '/diff?to=99')),
    (('GET', '/environments', 200, 'environments'), get('main', '/environments')),
    (('GET', '/badge.svg', 200, 'badge'), get('main', '/badge.svg?environment=prod')),
    (('GET', '/badge.svg', 400, 'invalid-parameter'),
     get('main', '/badge.svg?environment=pr%20od')),
    (('GET', '/badge.svg', 404, 'not-found'), get('main', '/badge.svg?environment=nowhere')),
    (('GET', '/healthz', 200, 'ok'), get('main', '/healthz')),
    (('GET', '/readyz', 200, 'ready'), get('main', '/readyz')),
    (('GET', '/cluster', 200, 'alone'), get('main', '/cluster')),
    (('DELETE', '/cluster/sites/{site}', 400, 'invalid-parameter'),
     delete('main', '/cluster/sites/10.0.0.3')),
    (('DELETE', '/cluster/sites/{site}', 401, 'unauthorized'),
     Ask('main', 'DELETE', '/cluster/sites/10.0.0.3:7000')),
    (('DELETE', '/cluster/sites/{site}', 404, 'not-found'),
     delete('main', '/cluster/sites/10.0.0.3:7000')),
    (('GET', '/metrics', 200, 'metrics'), get('main', '/metrics')),
    (('GET', '/metrics', 403, 'forbidden'), get('main', '/metrics', source='elsewhere')),
    # the disk below the reserve, the rate limit, a store never deployed to
    (('POST', '/deploy', 503, 'storage-full'),
     deploy('limits', {'name': 'Service A', 'version': 1})),
    (('DELETE', '/services/{name}', 503, 'storage-full'),
     delete('limits', '/services/Service%20A')),
    (('GET', '/readyz', 503, 'storage-full'), get('limits', '/readyz')),
    (('GET', '/status', 200, 'before-first-deploy'), get('limits', '/status')),
    (('POST', '/deploy', 429, 'too-many-requests'),
     deploy('limits', {'name': 'Service A', 'version': 1}, until=429)),
    # nginx up, the pool down: every route
    (('POST', '/deploy', 503, 'unavailable'),     # once the rate limit lets it by
     deploy('pool-down', {'name': 'Service A', 'version': 1}, until=503)),
    (('DELETE', '/services/{name}', 503, 'unavailable'),
     delete('pool-down', '/services/Service%20A')),
    (('GET', '/services', 503, 'unavailable'), get('pool-down', '/services')),
    (('GET', '/services/{name}/history', 503, 'unavailable'),
     get('pool-down', '/services/Service%20A/history')),
    (('GET', '/status', 503, 'unavailable'), get('pool-down', '/status')),
    (('GET', '/systemversions', 503, 'unavailable'), get('pool-down', '/systemversions')),
    (('GET', '/systemversions/{systemVersion}', 503, 'unavailable'),
     get('pool-down', '/systemversions/1')),
    (('GET', '/events', 503, 'unavailable'), get('pool-down', '/events')),
    (('GET', '/diff', 503, 'unavailable'), get('pool-down', '/diff')),
    (('GET', '/environments', 503, 'unavailable'), get('pool-down', '/environments')),
    (('GET', '/badge.svg', 503, 'unavailable'), get('pool-down', '/badge.svg')),
    (('GET', '/healthz', 503, 'unavailable'), get('pool-down', '/healthz')),
    (('GET', '/readyz', 503, 'unavailable'), get('pool-down', '/readyz')),
    (('GET', '/cluster', 503, 'unavailable'), get('pool-down', '/cluster')),
    (('DELETE', '/cluster/sites/{site}', 503, 'unavailable'),
     delete('pool-down', '/cluster/sites/10.0.0.3:7000')),
    (('GET', '/metrics', 503, 'unavailable'), get('pool-down', '/metrics')),
    # a replication group of two sites
    (('GET', '/cluster', 200, 'master'), get('group', '/cluster', site='master')),
    (('GET', '/cluster', 200, 'replica'), get('group', '/cluster', site='replica')),
    (('GET', '/readyz', 503, 'not-replicated'),
     get('cut-off', '/readyz', site='master', until=503)),
    (('POST', '/deploy', 503, 'not-replicated'),
     deploy('cut-off', {'name': 'Service A', 'version': 1}, site='master')),
    (('DELETE', '/cluster/sites/{site}', 200, 'removed'),
     delete('cut-off', '/cluster/sites/{replica}', site='master')),
    (('GET', '/readyz', 503, 'no-master'),
     get('no-master', '/readyz', site='replica', until=503)),
    (('POST', '/deploy', 503, 'no-master'),
     deploy('no-master', {'name': 'Service A', 'version': 1}, site='replica')),
])


def elsewhere_address():
    """A local IPv4 address outside 127.0.0.0/8 (/proc/net/fib_trie), or None."""
    try:
        with open('/proc/net/fib_trie') as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    last = None
    for line in lines:
        listed = re.search(r'\|-- (\d+\.\d+\.\d+\.\d+)$', line)
        if listed:
            last = listed.group(1)
        elif '/32 host LOCAL' in line and last and not last.startswith('127.'):
            return last
    return None


def send(port, ask, replica_address=None):
    """One request of the table to the server on port; a harness.Response."""
    source = None
    if ask.source == 'elsewhere':
        source = elsewhere_address()
        if source is None:
            raise unittest.SkipTest('no local address outside 127.0.0.0/8 to send from')
    headers = {'Content-Type': 'application/json'} if ask.body is not None else {}
    if ask.token:
        headers['Authorization'] = 'Bearer ' + TOKEN
    target = ask.target.replace('{replica}', replica_address or '')
    conn = http.client.HTTPConnection(HOST, port, timeout=harness.HTTP_TIMEOUT,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(ask.method, target, body=ask.payload(), headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        return harness.Response(resp.status, {name.lower(): value for name, value
                                              in resp.getheaders()}, body)
    finally:
        conn.close()


def send_until(port, ask, replica_address=None):
    """send(), again until ask.until comes when the row says so."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    while True:
        resp = send(port, ask, replica_address)
        if ask.until is None or resp.status == ask.until or time.monotonic() >= deadline:
            return resp
        time.sleep(0.2)


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

class DocumentTest(E2ETestCase):
    """/openapi.json as nginx serves it, and its operations against the
    route table."""

    @classmethod
    def setUpClass(cls):
        cls.doc = load_document()
        cls.routes = route_table()

    def test_served_as_a_static_json_file_to_revalidate(self):
        server = harness.shared_server()
        resp = server.request('GET', '/openapi.json')
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.headers.get('content-type'), 'application/json')
        with open(DOCUMENT, 'rb') as f:
            self.assertEqual(resp.body, f.read())
        self.assertEqual(resp.json()['openapi'], '3.1.0')
        self.assertEqual(resp.headers.get('cache-control'), 'no-cache')
        self.assertEqual(resp.headers.get('x-content-type-options'), 'nosniff')
        self.assertTrue(resp.headers.get('last-modified'), resp.headers)
        etag = resp.headers.get('etag')
        self.assertTrue(etag, resp.headers)
        again = server.request('GET', '/openapi.json', headers={'If-None-Match': etag})
        self.assertEqual(again.status, 304, again.describe())
        head = server.request('HEAD', '/openapi.json')
        self.assertEqual((head.status, head.body), (200, b''), head.describe())
        self.assertProblem(server.request('POST', '/openapi.json', b'{}'), 405,
                           '/problems/method-not-allowed', allow='GET, HEAD')

    def test_operations_are_the_route_table(self):
        documented = {(method, path) for method, path, _ in operations(self.doc)}
        self.assertNotIn('HEAD', {method for method, _ in documented},
                         'HEAD is left implicit beside GET')
        expected = set()
        for route in self.routes:
            if 'GET' in route.methods:
                self.assertIn('HEAD', route.methods, '%s: GET without HEAD' % route.path)
            expected |= {(method, route.path) for method in route.methods - {'HEAD'}}
        self.assertEqual(sorted(documented - expected), [], 'documented, not routed')
        self.assertEqual(sorted(expected - documented), [], 'routed, not documented')

    def test_each_operation_reads_what_its_route_reads(self):
        paths = self.doc['paths']
        for route in self.routes:
            for method in sorted(route.methods - {'HEAD'}):
                with self.subTest('%s %s' % (method, route.path)):
                    item = paths.get(route.path, {})
                    op = item.get(method.lower())
                    self.assertIsNotNone(op, 'not documented')
                    params = [resolve(self.doc, p) for p in
                              item.get('parameters', []) + op.get('parameters', [])]
                    query = {p['name'] for p in params if p['in'] == 'query'}
                    path = {p['name'] for p in params if p['in'] == 'path'}
                    self.assertEqual(query, set(route.params), 'query parameters')
                    self.assertEqual(path, {route.segment} if route.segment else set(),
                                     'path parameters')
                    self.assertEqual(op.get('security', self.doc.get('security', [])),
                                     [{'bearerAuth': []}] if route.token else [],
                                     'the deploy token')
                    self.assertIn('200', op['responses'])

    def test_every_example_has_a_request_and_every_request_an_example(self):
        documented = set(documented_examples(self.doc))
        self.assertEqual(sorted(documented - set(EXAMPLES)), [],
                         'examples of the document with no request in EXAMPLES')
        self.assertEqual(sorted(set(EXAMPLES) - documented), [],
                         'requests in EXAMPLES for no example of the document')

    def test_each_request_body_example_is_one_that_is_answered_200(self):
        for method, path, op in operations(self.doc):
            examples = op.get('requestBody', {}).get('content', {}).get(
                'application/json', {}).get('examples', {})
            sent = [ask.body for key, ask in EXAMPLES.items()
                    if key[:3] == (method, path, 200) and isinstance(ask.body, dict)]
            for name, example in examples.items():
                with self.subTest('%s %s: %s' % (method, path, name)):
                    self.assertIn(resolve(self.doc, example)['value'], sent)


class ExampleTest(E2ETestCase):
    """Every example of the document against the live answer of its row."""

    @classmethod
    def setUpClass(cls):
        cls.doc = load_document()
        cls.answers = {}
        cls.phase_errors = {}
        root = tempfile.mkdtemp(prefix='releasemgr-e2e-openapi-')
        cls.addClassCleanup(shutil.rmtree, root, True)
        os.chmod(root, 0o711)
        cls.token_file = os.path.join(root, 'token')
        harness.write_token_file(cls.token_file, TOKEN)
        for phase, run in (('main', cls.run_main), ('limits', cls.run_limits),
                           ('group', cls.run_group)):
            try:
                run()
            except Exception as exc:   # its rows fail with it, the others go on
                cls.phase_errors[phase] = exc

    @classmethod
    def server(cls, label, **kwargs):
        server = Server(label=label, extra_env={'RELEASEMGR_TOKEN_FILE': cls.token_file},
                        **kwargs)
        cls.addClassCleanup(server.cleanup)
        return server.start(timeout=60)

    @classmethod
    def run_rows(cls, phase, sites, replica_address=None):
        """Sends the rows of phase in order: sites maps a row's site
        (None outside the group) to its server."""
        for key, ask in EXAMPLES.items():
            if ask.phase == phase:
                try:
                    cls.answers[key] = send_until(sites[ask.site].port, ask, replica_address)
                except unittest.SkipTest as skip:
                    cls.answers[key] = skip

    @classmethod
    def run_main(cls):
        main = cls.server('openapi-main')
        for ask in MAIN_SETUP:
            resp = send(main.port, ask)
            if resp.status != 200:
                raise AssertionError('setup %r: %s' % (ask, resp.describe()))
        cls.run_rows('main', {None: main})

    @classmethod
    def run_limits(cls):
        limits = cls.server('openapi-limits', config={
            'deploy_rate': 1, 'deploy_burst': 1, 'reserve_mb': RESERVE_MB})
        disk = os.statvfs(limits.data_dir)
        if disk.f_bavail * disk.f_frsize >= RESERVE_MB << 20:
            cls.phase_errors['limits'] = unittest.SkipTest(
                'the disk has more than reserve_mb = %d MiB free' % RESERVE_MB)
        else:
            cls.run_rows('limits', {None: limits})
        # the pool killed, nginx left up; the launcher held still meanwhile
        launcher = limits.proc.pid
        os.kill(launcher, signal.SIGSTOP)
        cls.addClassCleanup(lambda: pid_alive(launcher) and os.kill(launcher, signal.SIGCONT))
        supervisor = limits.supervisor_pid()
        pool = [supervisor] + limits.worker_pids()
        for pid in pool:             # the supervisor first: no respawn
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not any(pid_alive(pid) for pid in pool), 10,
                   'the pool processes to die')
        cls.run_rows('pool-down', {None: limits})

    @classmethod
    def run_group(cls):
        first, second = sorted(free_port() for _ in range(2))
        addresses = ['%s:%d' % (HOST, first), '%s:%d' % (HOST, second)]
        # the lowest address creates the group: it is started first
        sites = [cls.server('openapi-site%d' % (i + 1), workers=1, config={
            'replication_site': address, 'replication_peers': addresses[1 - i]})
            for i, address in enumerate(addresses)]
        master, replica = sites

        def view(site):
            try:
                resp = send(site.port, Ask('group', 'GET', '/cluster'))
            except OSError:
                return None
            return resp.json() if resp.status == 200 else None

        def replica_of_the_first():
            its = view(replica)
            return (its is not None and its['role'] == 'replica' and
                    its['master'] == addresses[0] and
                    [peer['connected'] for peer in its['peers']] == [True])

        def joined():
            mine = view(master)
            return (replica_of_the_first() and mine is not None and
                    mine['role'] == 'master' and
                    [peer['connected'] for peer in mine['peers']] == [True])
        wait_until(joined, PHASE_TIMEOUT, 'the second site to join the first')
        roles = {'master': master, 'replica': replica}
        cls.run_rows('group', roles)
        replica.stop()
        cls.run_rows('cut-off', roles, addresses[1])
        # removed, the replica joins again when it starts on its data
        replica.start(timeout=60)
        wait_until(replica_of_the_first, PHASE_TIMEOUT, 'the removed site to join again')
        master.stop()
        cls.run_rows('no-master', roles)

    def assertLike(self, key, media_type, example, response, resp):
        """resp is shaped as the example of the documented response."""
        self.assertEqual(resp.status, key[2], resp.describe())
        documented, documented_params = media_parameters(media_type)
        live, live_params = media_parameters(resp.headers.get('content-type', ''))
        self.assertEqual(live, documented, 'media type')
        for name, value in documented_params.items():
            self.assertEqual(live_params.get(name), value, 'media type parameter %s' % name)
        for name, header in response.get('headers', {}).items():
            if resolve(self.doc, header).get('required'):
                self.assertIn(name.lower(), resp.headers, 'header %s' % name)
        if documented.endswith('json'):
            body = resp.json()
            self.assertEqual(shape(body), shape(example), 'the shape of %s' % resp.describe())
            if documented == 'application/problem+json':
                for member in ('type', 'status', 'field', 'parameter'):
                    self.assertEqual(body.get(member), example.get(member), member)
        elif documented == 'image/svg+xml':
            self.assertEqual(xml_shape(resp.body), xml_shape(example))
        elif documented == 'text/plain':
            live_families = metric_families(resp.body.decode('utf-8'))
            for family, kind in metric_families(example).items():
                self.assertEqual(live_families.get(family), kind, 'metric family %s' % family)
        else:
            self.fail('no shape known for %s' % documented)

    def test_every_example_is_shaped_as_a_live_answer(self):
        for key, (media_type, example, response) in sorted(
                documented_examples(self.doc).items(), key=lambda item: str(item[0])):
            with self.subTest('%s %s %d %s' % key):
                ask = EXAMPLES.get(key)
                if ask is None:
                    self.fail('no request in EXAMPLES')
                answer = self.answers.get(key)
                if answer is None:
                    error = self.phase_errors.get(ask.phase) or self.phase_errors.get(
                        {'pool-down': 'limits', 'cut-off': 'group',
                         'no-master': 'group'}.get(ask.phase))
                    if isinstance(error, unittest.SkipTest):
                        raise error
                    self.fail('not sent: phase %s failed: %r' % (ask.phase, error))
                if isinstance(answer, unittest.SkipTest):
                    raise answer
                self.assertLike(key, media_type, example, response, answer)
                if ask.outcome is not None:
                    self.assertEqual(answer.headers.get('deploy-outcome'), ask.outcome)


if __name__ == '__main__':
    unittest.main()
