"""Slow, stalled and vanishing clients, and bodies whose length is not the
one announced: none of them may hold a worker of the pool.

nginx reads the whole request, body included, before it passes it to the
pool, so a slow client holds one connection of nginx and never a serving
thread. Each test opens more such clients (40) than the pool has serving
threads (workers * threads = 2 * 8), and while they are connected shows
that the pool still answers other requests promptly.

The server of this module runs with client_header_timeout and
client_body_timeout of 2 s instead of the 10 s of conf/nginx-site.conf, to
keep the tests short: nginx's configuration is conf/nginx.conf with that
file's text, so changed, in place of its include. The header timeout bounds the
whole header; the body timeout bounds each pause between two reads, so a
body trickling faster than that is not cut, and costs the pool nothing
until its last byte.

Each test writes its figures to standard error."""

import os
import re
import selectors
import socket
import sys
import time
import unittest

import harness
from harness import E2ETestCase, json_body, unique_env

TIMEOUT = 2.0          # client_header_timeout and client_body_timeout here
SLOW = 40              # slow clients at once: more than the 16 threads
PROMPT = 1.0           # the slowest answer allowed to others meanwhile (s)


def report(text):
    sys.stderr.write('\n    slow clients: %s ' % text)
    sys.stderr.flush()


def connect(port):
    return socket.create_connection((harness.HOST, port), timeout=harness.HTTP_TIMEOUT)


def head(body_length, keep_alive=False):
    return (b'POST /deploy HTTP/1.1\r\nHost: 127.0.0.1\r\n'
            + (b'' if keep_alive else b'Connection: close\r\n')
            + b'Content-Length: %d\r\n\r\n' % body_length)


def wait_closed(socks, limit):
    """Wait until the server closes each socket, at most `limit` seconds.
    Returns {sock: (monotonic time of the close, bytes received)}; a socket
    still open at the end is missing from it."""
    sel = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, bytearray())
    closed = {}
    deadline = time.monotonic() + limit
    while len(closed) < len(socks) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            try:
                data = key.fileobj.recv(65536)
            except ConnectionResetError:
                data = b''
            except BlockingIOError:
                continue
            if data:
                key.data.extend(data)
                continue
            closed[key.fileobj] = (time.monotonic(), bytes(key.data))
            sel.unregister(key.fileobj)
    sel.close()
    return closed


def short_timeouts_template(path):
    """Writes to path conf/nginx.conf with conf/nginx-site.conf's text in
    place of its include, client_header_timeout and client_body_timeout
    changed to TIMEOUT; returns path."""
    conf = os.path.join(harness.REPO_ROOT, 'conf')
    with open(os.path.join(conf, 'nginx-site.conf')) as f:
        site = f.read()
    for name in ('client_header_timeout', 'client_body_timeout'):
        site, count = re.subn(r'^%s \S+;$' % name, '%s %ds;' % (name, TIMEOUT), site,
                              flags=re.M)
        assert count == 1, name
    with open(os.path.join(conf, 'nginx.conf')) as f:
        main = f.read()
    include = 'include @DATA_DIR@/run/nginx-site.conf;'
    assert main.count(include) == 1
    with open(path, 'w') as f:
        f.write(main.replace(include, site))
    return path


class SlowClientTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(label=cls.__name__)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.extra_env['RELEASEMGR_NGINX_TEMPLATE'] = short_timeouts_template(
            os.path.join(cls.server.root, 'nginx.conf'))
        cls.server.start()
        cls.workers = cls.server.wait_workers(2)

    def tearDown(self):
        self.assertEqual(self.server.worker_pids(), self.workers, 'a worker was replaced')

    def others_answered(self, rounds=3):
        """Other clients' requests while the slow ones are connected: GET
        /healthz, a deploy and GET /services, `rounds` times; every answer
        must be right and prompt. Returns the slowest, in seconds."""
        env = unique_env('others')
        slowest = 0.0
        for number in range(1, rounds + 1):
            for call in (lambda: self.server.request('GET', '/healthz'),
                         lambda: self.server.deploy('svc', number, env),
                         lambda: self.server.services(environment=env)):
                started = time.monotonic()
                resp = call()
                took = time.monotonic() - started
                self.assertEqual(resp.status, 200, resp.describe())
                slowest = max(slowest, took)
        self.assertLess(slowest, PROMPT, 'the pool was slow to answer others')
        self.assertSnapshot(self.server, env, rounds, [('svc', rounds)])
        return slowest

    def clients_cut(self, data):
        """SLOW clients each send data and then nothing, while others are
        answered; returns (seconds from the last byte to each cut, sorted;
        what each client received; the slowest answer to the others; the
        seconds those answers took in all)."""
        socks = []
        try:
            for _ in range(SLOW):
                sock = connect(self.server.port)
                sock.sendall(data)
                socks.append(sock)
            sent = time.monotonic()
            slowest = self.others_answered()
            proving = time.monotonic() - sent
            closed = wait_closed(socks, TIMEOUT + 5)
        finally:
            for sock in socks:
                sock.close()
        self.assertEqual(len(closed), SLOW, 'clients still connected after the timeout')
        after = sorted(at - sent for at, _data in closed.values())
        return after, {data for _at, data in closed.values()}, slowest, proving

    def test_stalled_bodies_are_cut(self):
        """Half a body, then nothing: nginx cuts each after the body timeout."""
        env = unique_env('stalled')
        body = json_body(name='stalled', version=1, environment=env)
        after, received, slowest, proving = self.clients_cut(head(len(body))
                                                             + body[:len(body) // 2])
        self.assertLess(proving, TIMEOUT - 0.5, 'the others took too long to prove anything')
        self.assertGreater(after[0], TIMEOUT - 0.5, 'cut before the timeout')
        self.assertLess(after[-1], TIMEOUT + 2.0, 'cut long after the timeout')
        self.assertEqual(received, {b''}, 'a stalled client got an answer')
        self.assertProblem(self.server.services(environment=env), 404, '/problems/not-found')
        report('%d stalled bodies cut %.2f to %.2f s after their last byte '
               '(client_body_timeout %g s); others answered within %.0f ms'
               % (SLOW, after[0], after[-1], TIMEOUT, slowest * 1000))

    def test_body_trickling_one_byte_a_second(self):
        """The last bytes of each body one a second: not cut (no pause
        reaches the timeout), no worker held meanwhile, answered when whole."""
        env = unique_env('trickle')
        trickled = 5
        bodies = [json_body(name='t%02d' % i, version=1, environment=env) for i in range(SLOW)]
        socks = []
        try:
            for body in bodies:
                sock = connect(self.server.port)
                sock.sendall(head(len(body)) + body[:-trickled])
                socks.append(sock)
            slowest = 0.0
            for index in range(trickled, 0, -1):
                started = time.monotonic()
                for sock, body in zip(socks, bodies):
                    sock.sendall(body[-index:len(body) - index + 1])
                if index == 1:
                    break
                slowest = max(slowest, self.others_answered(rounds=1))
                time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
            last_byte = time.monotonic()
            closed = wait_closed(socks, 10)
        finally:
            for sock in socks:
                sock.close()
        self.assertEqual(len(closed), SLOW, 'trickled clients got no answer')
        answered = sorted(at - last_byte for at, _data in closed.values())
        versions = []
        for _at, data in closed.values():
            self.assertTrue(data.startswith(b'HTTP/1.1 200 '), data[:200])
            versions.append(int(data.split(b'\r\n\r\n', 1)[1]))
        self.assertEqual(sorted(versions), list(range(1, SLOW + 1)))
        self.assertEqual(len(harness.services_pairs(
            self.server.services(environment=env))), SLOW)
        report('%d bodies trickled a byte a second for %d s, none cut; others answered '
               'within %.0f ms meanwhile; each answered %.0f to %.0f ms after its last '
               'byte (all %d deploys queued at once)'
               % (SLOW, trickled, slowest * 1000, answered[0] * 1000,
                  answered[-1] * 1000, SLOW))

    def test_slow_headers_are_cut(self):
        """A header line every half second: the header timeout bounds the
        whole header, so even a client that keeps sending is cut."""
        socks = []
        try:
            for _ in range(SLOW):
                sock = connect(self.server.port)
                sock.sendall(b'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n')
                socks.append(sock)
            started = time.monotonic()
            slowest = 0.0
            cut = set()
            while time.monotonic() - started < TIMEOUT + 2 and len(cut) < SLOW:
                for sock in socks:
                    if sock in cut:
                        continue
                    try:
                        sock.sendall(b'X-Slow: 1\r\n')
                    except OSError:
                        cut.add(sock)
                if time.monotonic() - started < TIMEOUT - 0.5:
                    slowest = max(slowest, self.others_answered(rounds=1))
                time.sleep(0.5)
            closed = wait_closed([s for s in socks if s not in cut], 3)
        finally:
            for sock in socks:
                sock.close()
        self.assertEqual(len(cut) + len(closed), SLOW, 'slow headers still connected')
        took = time.monotonic() - started
        self.assertLess(took, TIMEOUT + 4)
        self.assertEqual({data for _at, data in closed.values()} - {b''}, set())
        report('%d headers sent a line every 0.5 s, all cut within %.1f s '
               '(client_header_timeout %g s); others answered within %.0f ms'
               % (SLOW, took, TIMEOUT, slowest * 1000))

    def test_vanishing_clients(self):
        """Half a body then gone; a whole deploy then gone before the answer."""
        half_env, whole_env = unique_env('vanish-half'), unique_env('vanish-whole')
        for _ in range(SLOW):
            body = json_body(name='half', version=1, environment=half_env)
            with connect(self.server.port) as sock:
                sock.sendall(head(len(body)) + body[:len(body) // 2])
        for number in range(SLOW):
            body = json_body(name='w%02d' % number, version=1, environment=whole_env)
            with connect(self.server.port) as sock:
                sock.sendall(head(len(body)) + body)
        slowest = self.others_answered()
        self.assertProblem(self.server.services(environment=half_env), 404,
                           '/problems/not-found')
        # each whole deploy may or may not have been recorded, but the
        # history of what was is whole
        current = harness.current_version(self.server, whole_env)
        snaps = harness.fetch_snapshots(self.server, whole_env, current)
        self.assertEqual(harness.sequence_errors(snaps), [])
        report('%d clients gone mid-body, %d gone before the answer (%d of those '
               'deploys recorded); others answered within %.0f ms'
               % (SLOW, SLOW, current, slowest * 1000))

    def test_body_longer_than_content_length(self):
        """Content-Length is the body: what follows is the next request."""
        env = unique_env('longer')
        body = json_body(name='first', version=1, environment=env)
        extra = json_body(name='extra', version=2, environment=env)
        # the bytes after the body are taken for a request line: a 400
        raw = harness.raw_exchange(self.server.port, head(len(body), keep_alive=True)
                                   + body + extra + b'\r\n\r\n')
        self.assertEqual(raw.count(b'HTTP/1.1 '), 2, raw[:600])
        self.assertTrue(raw.startswith(b'HTTP/1.1 200 '), raw[:300])
        self.assertIn(b'HTTP/1.1 400 ', raw)
        self.assertIn(b'/problems/bad-request', raw)
        # a whole request after the body is served in its turn
        raw = harness.raw_exchange(self.server.port, head(len(body), keep_alive=True)
                                   + body + b'GET /services?environment=' + env.encode()
                                   + b' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close'
                                   + b'\r\n\r\n')
        self.assertEqual(raw.count(b'HTTP/1.1 200 '), 2, raw[:600])
        self.assertTrue(raw.endswith(b'[{"name":"first","version":1}]'), raw[-200:])

    def test_body_shorter_than_content_length(self):
        """A whole JSON object but fewer bytes than announced: nginx waits for
        the rest and cuts the client at the timeout; the pool never sees it."""
        env = unique_env('shorter')
        body = json_body(name='short', version=1, environment=env)
        after, received, slowest, _ = self.clients_cut(head(len(body) + 20) + body)
        self.assertLess(after[-1], TIMEOUT + 2.0)
        self.assertEqual(received, {b''})
        # and a client that gives up early: nothing either
        sock = connect(self.server.port)
        sock.sendall(head(len(body) + 20) + body)
        sock.close()
        self.assertProblem(self.server.services(environment=env), 404, '/problems/not-found')
        report('%d bodies 20 bytes short cut %.2f to %.2f s after their last byte; '
               'others answered within %.0f ms' % (SLOW, after[0], after[-1], slowest * 1000))


if __name__ == '__main__':
    unittest.main()
