"""Logs: with log_format = json every line the pool writes is one JSON
object (time, level, pid, message); a deploy or removal that changes a
system version is a line at info with its facts as members; and the line
about a request carries the id nginx gave it, which nginx's access log
(format releasemgr) and the answer's X-Request-Id hold too: one deploy's
access-log line and pool line are joined by it. With the default text
format the id ends the line. The JSON class has its own server, run on
the launcher's own nginx configuration (conf/nginx.conf, whose access
log has the id) whatever RELEASEMGR_NGINX_TEMPLATE says; the text class
uses the shared server."""

import json
import os
import re
import urllib.parse

import harness
from harness import E2ETestCase, unique_env, wait_until

NGINX_CONF = os.path.join(harness.REPO_ROOT, 'conf', 'nginx.conf')
REQUEST_ID = re.compile(r'\A[0-9a-f]{32}\Z')
INSTANT = re.compile(r'\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z')
LEVELS = {'info', 'warning', 'error'}
# nginx's "combined", then "$request_id" (conf/nginx-http.conf); nginx
# escapes a quote inside a value as \x22
ACCESS_LINE = re.compile(r'\A(?P<address>\S+) - (?P<user>\S+) \[(?P<time>[^\]]+)\] '
                         r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+) '
                         r'"(?P<referer>[^"]*)" "(?P<agent>[^"]*)" '
                         r'"(?P<request_id>[^"]*)"\Z')
# the lines of the launcher's output that are not the pool's: its own, and
# what nginx says before it opens its error log
FOREIGN = ('releasemgr-run: ', 'nginx: ')
FLUSH_WAIT = 5.0          # nginx flushes its access log every second


def pool_lines(server):
    """The pool's lines in the launcher's output, decoded as UTF-8 (a byte
    that is not raises UnicodeDecodeError), without their newlines."""
    with open(server.log_path, 'rb') as f:
        text = f.read().decode('utf-8')
    return [line for line in text.split('\n') if line and not line.startswith(FOREIGN)]


def access_lines(server):
    """The lines of nginx's access log, without their newlines."""
    try:
        with open(os.path.join(server.data_dir, 'log', 'nginx-access.log'), 'rb') as f:
            return f.read().decode('utf-8', 'replace').splitlines()
    except FileNotFoundError:
        return []


class JsonLogTest(E2ETestCase):
    """log_format = json, nginx's access log in the format releasemgr."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(
            cls, config={'log_format': 'json'},
            extra_env={'RELEASEMGR_NGINX_TEMPLATE': NGINX_CONF})

    def records(self):
        """Every line of the pool as a JSON object, each checked for the
        members every line has."""
        records = []
        for line in pool_lines(self.server):
            try:
                record = json.loads(line)
            except ValueError as exc:
                self.fail('a line of the pool is not JSON (%s): %r' % (exc, line[:300]))
            self.assertIsInstance(record, dict, line[:300])
            self.assertRegex(record.get('time', ''), INSTANT, line[:300])
            self.assertIn(record.get('level'), LEVELS, line[:300])
            self.assertIs(type(record.get('pid')), int, line[:300])
            self.assertGreater(record['pid'], 1, line[:300])
            self.assertIsInstance(record.get('message'), str, line[:300])
            if 'request_id' in record:
                self.assertRegex(record['request_id'], REQUEST_ID, line[:300])
            records.append(record)
        return records

    def about(self, request_id):
        """The pool's lines that carry request_id."""
        return [r for r in self.records() if r.get('request_id') == request_id]

    def access_line(self, request_id):
        """nginx's access-log line of request_id, once nginx has flushed it;
        exactly one."""
        def found():
            return [m for m in (ACCESS_LINE.match(line) for line in access_lines(self.server))
                    if m and m.group('request_id') == request_id]
        lines = wait_until(found, FLUSH_WAIT, 'the access-log line of request %s' % request_id)
        self.assertEqual(len(lines), 1, 'access-log lines of %s' % request_id)
        return lines[0]

    def request_id(self, resp):
        request_id = resp.headers.get('x-request-id', '')
        self.assertRegex(request_id, REQUEST_ID, 'X-Request-Id; got %s' % resp.describe())
        return request_id

    def test_every_line_is_json(self):
        with self.diagnosed(self.server):
            records = self.records()
            messages = [r['message'] for r in records]
            self.assertIn('config: log_format = json', messages)
            self.assertTrue(any(m.startswith('pool: serving on ') for m in messages),
                            messages[-5:])
            # the supervisor's lines are about no request
            self.assertFalse([r for r in records if r['message'].startswith('config: ')
                              and 'request_id' in r])

    def test_a_deploy_joins_its_access_log_line_by_its_request_id(self):
        server, env = self.server, unique_env('logs')
        name = 'Service "A" \\ r\u00e9sum\u00e9 \u2603'
        with self.diagnosed(server):
            self.deploy_ok(server, name, 3, env, expected=1)
            # a client's own X-Request-Id is not the request's id
            resp = server.deploy(name, 4, env, headers={'X-Request-Id': 'ab' * 16})
            number = self.assertDeployAnswer(resp, 2)
            request_id = self.request_id(resp)
            self.assertNotEqual(request_id, 'ab' * 16)

            lines = self.about(request_id)
            self.assertEqual(len(lines), 1, 'the pool\'s lines about the deploy: %r' % lines)
            line = lines[0]
            self.assertEqual(set(line), {'time', 'level', 'pid', 'message', 'request_id',
                                         'environment', 'service', 'version',
                                         'system_version'}, line)
            self.assertEqual(line['level'], 'info')
            self.assertEqual(line['message'], 'deploy: %s: "%s" is now version 4: system '
                             'version %d' % (env, name, number))
            self.assertEqual((line['environment'], line['service'], line['version'],
                              line['system_version']), (env, name, 4, number))
            self.assertIs(type(line['version']), int)
            self.assertIs(type(line['system_version']), int)
            self.assertIn(line['pid'], server.worker_pids(), 'a worker wrote it')

            access = self.access_line(request_id)
            self.assertEqual(access.group('request'), 'POST /deploy HTTP/1.1')
            self.assertEqual(access.group('status'), '200')
            self.assertEqual(access.group('bytes'), str(len(str(number))))

    def test_a_deploy_that_changes_nothing_writes_no_line(self):
        server, env = self.server, unique_env('logs')
        with self.diagnosed(server):
            self.deploy_ok(server, 'svc', 1, env, expected=1)
            resp = server.deploy('svc', 1, env)
            self.assertDeployAnswer(resp, 1)
            self.assertEqual(resp.headers.get('deploy-outcome'), 'unchanged')
            request_id = self.request_id(resp)
            # the answer follows the line: none now is none at all
            self.assertEqual(self.about(request_id), [])
            self.assertEqual(self.access_line(request_id).group('status'), '200')

    def test_a_removal_has_no_version(self):
        server, env = self.server, unique_env('logs')
        with self.diagnosed(server):
            self.deploy_ok(server, 'team/api', 7, env, expected=1)
            resp = server.request('DELETE', '/services/%s?environment=%s'
                                  % (urllib.parse.quote('team/api', safe=''), env))
            self.assertDeployAnswer(resp, 2)
            request_id = self.request_id(resp)
            lines = self.about(request_id)
            self.assertEqual(len(lines), 1, lines)
            self.assertEqual({k: v for k, v in lines[0].items() if k not in ('time', 'pid')},
                             {'level': 'info', 'request_id': request_id,
                              'message': 'removal: %s: "team/api" is removed: system '
                                         'version 2' % env,
                              'environment': env, 'service': 'team/api',
                              'system_version': 2})
            access = self.access_line(request_id)
            self.assertEqual(access.group('request'),
                             'DELETE /services/team%%2Fapi?environment=%s HTTP/1.1' % env)


class TextLogTest(E2ETestCase):
    """The default format, on the shared server: the id ends the line."""

    def test_the_request_id_ends_the_deploy_line(self):
        server, env = harness.shared_server(), unique_env('logs-text')
        with self.diagnosed(server):
            resp = server.deploy('svc', 5, env)
            number = self.assertDeployAnswer(resp, 1)
            request_id = resp.headers.get('x-request-id', '')
            self.assertRegex(request_id, REQUEST_ID, resp.describe())
            lines = [line for line in pool_lines(server) if request_id in line]
            self.assertEqual(len(lines), 1, lines)
            self.assertRegex(lines[0], r'\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info '
                             r'\[\d+\] deploy: %s: "svc" is now version 5: system version '
                             r'%d request_id=%s\Z' % (re.escape(env), number, request_id))
