"""End-to-end test harness for releasemgr.

Starts the real launcher (``cgi-bin/releasemgr-run``: FastCGI pool behind
nginx) in a throw-away directory and talks to it over HTTP on 127.0.0.1 only.
Python 3 standard library only.

Contents
  Server            one launcher instance: start / stop / kill -9 / restart,
                    pid discovery (supervisor, workers, nginx), diagnostics
  shared_server()   one Server shared by every module that does not need a
                    private one; stopped at interpreter exit
  private_server()  a Server for one TestCase class, cleaned up after it
  http_request()    (status, headers lower-cased, body) through http.client
  raw_request()     arbitrary bytes over a socket (odd requests, big bodies)
  chunked_request() a body sent with Transfer-Encoding: chunked
  json_body(), Raw, OMIT
                    build request bodies member by member, verbatim JSON
                    text allowed for values Python cannot produce
  content_digest()  a list's digest, computed here with hashlib
  E2ETestCase       assertions for problem+json, deploy answers, snapshots
  snapshot(), current_version(), fetch_snapshots(), sequence_errors(),
  ack_errors()      consistency checks of the system-version history
  paged()           every item of /systemversions or /events, newest first
  admin(), write_token_file()
                    releasemgr-admin on a data directory; a deploy token
  wait_until(), run_parallel()
                    bounded waiting and bounded thread pools

Every wait is bounded; every process the harness signals is one it started
(the launcher) or a member of the launcher's session (its pool and nginx).
"""

import atexit
import collections
import contextlib
import email.utils
import hashlib
import http.client
import itertools
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir))
LAUNCHER = os.path.join(REPO_ROOT, 'cgi-bin', 'releasemgr-run')
ADMIN = os.path.join(REPO_ROOT, 'cgi-bin', 'releasemgr-admin')
POOL = os.path.join(REPO_ROOT, 'cgi-bin', 'releasemgr')

HOST = '127.0.0.1'
START_TIMEOUT = 30.0      # launcher until GET /services answers 200
STOP_TIMEOUT = 15.0       # SIGTERM until the launcher has exited
HTTP_TIMEOUT = 10.0       # one HTTP exchange
MAX_BODY = 65536          # the contract's request body limit (bytes)
MAX_VERSION = 9007199254740991

# Set RELEASEMGR_E2E_KEEP=1 to keep the temporary directories (data, logs).
KEEP_TMP = os.environ.get('RELEASEMGR_E2E_KEEP') == '1'


# --------------------------------------------------------------------------
# Waiting and threads
# --------------------------------------------------------------------------

def wait_until(predicate, timeout, what, interval=0.1):
    """Call predicate() until it returns a truthy value; return that value.

    Raises AssertionError naming `what` after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.1fs waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)


def run_parallel(fn, items, threads, timeout=120.0):
    """Run fn(item) for every item on `threads` threads.

    Returns the results in item order. Raises AssertionError if any call
    raised (naming the first failure) or if the pool did not finish within
    `timeout` seconds.
    """
    items = list(items)
    results = [None] * len(items)
    errors = []
    todo = queue.Queue()
    for index in range(len(items)):
        todo.put(index)

    def worker():
        while True:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[index] = fn(items[index])
            except BaseException as exc:  # reported below, never swallowed
                errors.append((items[index], exc))

    pool = [threading.Thread(target=worker, daemon=True)
            for _ in range(max(1, min(threads, len(items))))]
    for thread in pool:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in pool:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in pool):
        raise AssertionError('parallel calls did not finish within %.0fs'
                             % timeout)
    if errors:
        item, exc = errors[0]
        raise AssertionError('%d of %d parallel calls failed; first: %r -> %s: %s'
                             % (len(errors), len(items), item,
                                type(exc).__name__, exc))
    return results


_env_counter = itertools.count(1)
_env_lock = threading.Lock()


def unique_env(prefix):
    """A fresh, valid environment name ([A-Za-z0-9._-], at most 64 chars)."""
    with _env_lock:
        number = next(_env_counter)
    name = '%s-%d-%d' % (prefix, os.getpid() % 100000, number)
    assert all(c.isascii() and (c.isalnum() or c in '._-') for c in name), name
    return name[-64:]


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

class Response(collections.namedtuple('Response', 'status headers body')):
    """(status, headers with lower-cased names, body bytes)."""
    __slots__ = ()

    @property
    def media_type(self):
        """Content-Type without parameters, lower-cased ('' if absent)."""
        return self.headers.get('content-type', '').split(';')[0].strip().lower()

    def json(self):
        return strict_json(self.body)

    def describe(self, limit=300):
        return 'HTTP %d %s %r' % (self.status, self.headers.get('content-type', '-'),
                                  self.body[:limit])


def _header_dict(pairs):
    headers = {}
    for name, value in pairs:
        name = name.lower()
        headers[name] = value if name not in headers else headers[name] + ', ' + value
    return headers


def http_request(port, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
    """One request through http.client; returns Response.

    A POST/PUT/PATCH without body is sent with Content-Length: 0. Connection
    errors propagate (OSError / http.client.HTTPException).
    """
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, _header_dict(resp.getheaders()), data)
    finally:
        conn.close()


def build_request(port, method, path, body=b'', headers=None, chunk_size=None):
    """Bytes of an HTTP/1.1 request with Connection: close.

    With chunk_size the body is sent with Transfer-Encoding: chunked in
    chunks of that size; otherwise with Content-Length (unless `headers`
    already name one).
    """
    lines = ['%s %s HTTP/1.1' % (method, path), 'Host: %s:%d' % (HOST, port),
             'Connection: close']
    given = {name.lower() for name in (headers or {})}
    for name, value in (headers or {}).items():
        lines.append('%s: %s' % (name, value))
    if chunk_size:
        lines.append('Transfer-Encoding: chunked')
        encoded = b''.join(b'%x\r\n%s\r\n' % (len(body[i:i + chunk_size]),
                                              body[i:i + chunk_size])
                           for i in range(0, len(body), chunk_size))
        payload = encoded + b'0\r\n\r\n'
    else:
        if 'content-length' not in given and (body or method in ('POST', 'PUT', 'PATCH')):
            lines.append('Content-Length: %d' % len(body))
        payload = body
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + payload


def raw_request(port, data, method='GET', timeout=HTTP_TIMEOUT):
    """Send `data` verbatim over a fresh socket and parse one response.

    The server may answer (e.g. 413) before it has read everything: a broken
    pipe while sending is tolerated and the response is still read. The
    socket is never half-closed (nginx would take that for a client abort).
    """
    sock = socket.create_connection((HOST, port), timeout=timeout)
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        body = resp.read()
        return Response(resp.status, _header_dict(resp.getheaders()), body)
    finally:
        sock.close()


def raw_exchange(port, data, timeout=HTTP_TIMEOUT, limit=1 << 20):
    """Send `data`, read until the server closes; return the raw bytes."""
    sock = socket.create_connection((HOST, port), timeout=timeout)
    try:
        sock.sendall(data)
        chunks, total = [], 0
        while total < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b''.join(chunks)
    finally:
        sock.close()


def chunked_request(port, method, path, body, chunk_size=4096, headers=None,
                    timeout=HTTP_TIMEOUT):
    """Send `body` with Transfer-Encoding: chunked; returns Response."""
    data = build_request(port, method, path, body, headers, chunk_size=chunk_size)
    return raw_request(port, data, method=method, timeout=timeout)


def query(**params):
    """'?a=1&b=2' from keyword arguments (None values left out)."""
    items = [(k, str(v)) for k, v in params.items() if v is not None]
    return ('?' + urllib.parse.urlencode(items, quote_via=urllib.parse.quote)) if items else ''


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------

def strict_json(data):
    """Parse UTF-8 JSON; duplicate object members and NaN/Infinity raise."""
    def pairs(members):
        keys = [key for key, _ in members]
        if len(keys) != len(set(keys)):
            raise ValueError('duplicate member in object: %r' % keys)
        return dict(members)

    def constant(name):
        raise ValueError('non-standard JSON constant %s' % name)

    return json.loads(data.decode('utf-8'), object_pairs_hook=pairs,
                      parse_constant=constant)


OMIT = object()   # json_body(): leave this member out


class Raw(bytes):
    """A JSON value given as verbatim JSON text (bytes or str)."""

    def __new__(cls, text):
        return super().__new__(cls, text.encode('utf-8') if isinstance(text, str) else text)


def json_value(value):
    if isinstance(value, Raw):
        return bytes(value)
    return json.dumps(value, ensure_ascii=False).encode('utf-8')


def json_body(**members):
    """A JSON object with the members in the given order.

    Values are Python values (encoded as UTF-8 without escapes), Raw JSON
    text (inserted verbatim), or OMIT (member left out).
    """
    parts = [json.dumps(key).encode() + b':' + json_value(value)
             for key, value in members.items() if value is not OMIT]
    return b'{' + b','.join(parts) + b'}'


def name_key(name):
    """Bytewise (UTF-8) sort key for service names."""
    return name.encode('utf-8', 'surrogatepass')


def sorted_pairs(pairs):
    return sorted(pairs, key=lambda pair: name_key(pair[0]))


def services_pairs(resp):
    """Validate a GET /services 200 body; return [(name, version), ...].

    Every element must be an object with exactly the members `name`
    (string) and `version` (integer, not boolean, not float).
    """
    doc = resp.json()
    if not isinstance(doc, list):
        raise AssertionError('GET /services body is not a JSON array: %r' % resp.body[:300])
    pairs = []
    for item in doc:
        if not isinstance(item, dict) or set(item) != {'name', 'version'}:
            raise AssertionError('snapshot element must have exactly "name" and '
                                 '"version": %r' % (item,))
        if not isinstance(item['name'], str) or type(item['version']) is not int:
            raise AssertionError('snapshot element has wrong member types: %r' % (item,))
        pairs.append((item['name'], item['version']))
    return pairs


def content_digest(pairs):
    """The digest README gives a list of (name, version), computed apart
    from the server: "sha256:" and the SHA-256 of each service in bytewise
    name order as its name's UTF-8, 0x00, its version in decimal, 0x0A."""
    data = b''.join(name_key(name) + b'\0' + str(version).encode() + b'\n'
                    for name, version in sorted_pairs(pairs))
    return 'sha256:' + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

ProcStat = collections.namedtuple('ProcStat', 'pid comm state ppid pgrp session')


def proc_stat(pid):
    """Fields of /proc/PID/stat, or None if there is no such process."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    left, right = data.find(b'('), data.rfind(b')')
    fields = data[right + 2:].split()
    return ProcStat(pid, data[left + 1:right].decode('utf-8', 'replace'),
                    fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3]))


def all_procs():
    stats = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st is not None:
                stats.append(st)
    return stats


def pid_alive(pid):
    """True if `pid` exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st.state != 'Z'


def children_of(ppid):
    """Live (non-zombie) children of `ppid`, sorted."""
    return sorted(st.pid for st in all_procs() if st.ppid == ppid and st.state != 'Z')


def session_members(sid):
    """Live (non-zombie) processes of session `sid`."""
    return sorted((st.pid, st.comm) for st in all_procs()
                  if st.session == sid and st.state != 'Z')


def read_pid_file(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------

class Server:
    """One launcher instance in its own temporary directory.

    Layout: ROOT/data is the --data-dir, ROOT/launcher-N.log the launcher's
    output for its N-th start. The launcher runs in a new session, so its
    pid is also the process-group and session id of the pool and nginx.
    """

    _live = set()

    def __init__(self, workers=None, extra_env=None, label='server', config=None,
                 nginx_include=None, data_dir=None, launcher=LAUNCHER, config_file=None):
        """config: a dict of pool settings; when given, ROOT/releasemgr.conf
        (conf/releasemgr.conf with those keys replaced or appended) is passed
        with --config. nginx_include: a file passed with --nginx-include.
        data_dir: an existing directory to use as the --data-dir instead of
        ROOT/data (a filesystem the test made, say); the caller removes it.
        launcher: releasemgr-run to start (an installed one, say), and
        config_file: a configuration file to pass as it is."""
        self.workers = workers
        self.extra_env = dict(extra_env or {})
        self.label = label
        self.config = dict(config) if config is not None else None
        self.nginx_include = nginx_include
        self.root = tempfile.mkdtemp(prefix='releasemgr-e2e-%s-' % label)
        # mkdtemp makes the directory 0700; nginx workers that dropped root
        # (user nobody / www-data) must be able to traverse it to the socket.
        os.chmod(self.root, 0o711)
        if data_dir is None:
            self.data_dir = os.path.join(self.root, 'data')
            os.mkdir(self.data_dir)
        else:
            self.data_dir = data_dir
        self.launcher = launcher
        self.config_path = config_file
        if self.config is not None:
            self.config_path = os.path.join(self.root, 'releasemgr.conf')
            write_config(self.config_path, self.config)
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = None
        self._log = None
        self.leftovers = []   # session members that outlived the launcher
        Server._live.add(self)

    # -- paths -------------------------------------------------------------
    @property
    def run_dir(self):
        return os.path.join(self.data_dir, 'run')

    @property
    def pid_file(self):
        return os.path.join(self.run_dir, 'releasemgr.pid')

    @property
    def nginx_pid_file(self):
        return os.path.join(self.run_dir, 'nginx.pid')

    @property
    def pgid(self):
        return self.proc.pid if self.proc is not None else None

    # -- lifecycle -----------------------------------------------------------
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=START_TIMEOUT):
        """Start the launcher on a new free port; wait for GET /services 200
        with this launcher's nginx running.

        Raises RuntimeError (with the log tail) if it does not become ready.
        """
        if not os.access(self.launcher, os.X_OK):
            raise RuntimeError('%s is missing or not executable (run `make` in %s)'
                               % (self.launcher, REPO_ROOT))
        if self.running():
            raise RuntimeError('server already running')
        self._close_log()
        self.starts += 1
        self.port = free_port()
        self.log_path = os.path.join(self.root, 'launcher-%d.log' % self.starts)
        self._log = open(self.log_path, 'ab')
        env = os.environ.copy()
        env.pop('RELEASEMGR_TOKEN_FILE', None)
        env.update(self.extra_env)
        args = [self.launcher, '--port', str(self.port), '--data-dir', self.data_dir]
        if self.workers is not None:
            args += ['--workers', str(self.workers)]
        if self.config_path is not None:
            args += ['--config', self.config_path]
        if self.nginx_include is not None:
            args += ['--nginx-include', self.nginx_include]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.root, env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        last = 'no answer yet'
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.stop()
                raise RuntimeError('launcher exited with status %s before it was ready\n%s'
                                   % (rc, self.log_tail()))
            try:
                resp = self.request('GET', '/services', timeout=2)
                # the port was free when chosen, but another server (a test
                # run beside this one) may have taken it since: the answer
                # counts only once this launcher's own nginx holds it (its
                # pid file is written after it has bound the port)
                if resp.status == 200 and self.nginx_pid() is not None:
                    break
                last = resp.describe(120)
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            if time.monotonic() >= deadline:
                self.stop()
                raise RuntimeError('GET /services did not answer 200 within %.0fs (last: %s)\n%s'
                                   % (timeout, last, self.log_tail()))
            time.sleep(0.1)
        return self

    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
        return http_request(self.port, method, path, body, headers, timeout)

    def post(self, body, headers=None, timeout=HTTP_TIMEOUT):
        """POST /deploy with a verbatim body."""
        return self.request('POST', '/deploy', body, headers, timeout)

    def deploy(self, name, version, environment=None, headers=None,
               timeout=HTTP_TIMEOUT, **metadata):
        """POST /deploy {"name", "version"[, "environment"][, metadata...]}."""
        body = json_body(name=name, version=version,
                         environment=OMIT if environment is None else environment,
                         **metadata)
        return self.post(body, headers, timeout)

    def services(self, system_version=None, environment=None, method='GET',
                 timeout=HTTP_TIMEOUT):
        return self.request(method, '/services' + query(systemVersion=system_version,
                                                        environment=environment),
                            timeout=timeout)

    def stop(self):
        """SIGTERM the launcher, wait up to 15 s, then SIGKILL its group.

        Afterwards any member of the launcher's session still alive (after a
        5 s grace) is recorded in self.leftovers and killed by pid. Returns
        True if the launcher exited by itself and left nothing behind.
        """
        if self.proc is None:
            return True
        clean = True
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                clean = False
                self._killpg()
        if not self._reap_session(grace=5.0):
            clean = False
        return clean

    def kill_group(self, after_signal=None):
        """kill -9 of the launcher's whole process group (pool + nginx);
        after_signal, when given, is called the moment the signal is sent.

        Returns the session members that survived the group kill (they are
        then killed by pid so nothing leaks); [] is the expected result.
        """
        self._killpg()
        if after_signal is not None:
            after_signal()
        survivors = self._wait_session_empty(10.0)
        self._reap_session(grace=0)
        return survivors

    def cleanup(self):
        """Stop the server (if running) and remove its temporary directory."""
        try:
            self.stop()
        finally:
            self._close_log()
            Server._live.discard(self)
            if KEEP_TMP:
                print('kept %s' % self.root)
            else:
                shutil.rmtree(self.root, ignore_errors=True)

    def _killpg(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def _wait_session_empty(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            members = session_members(self.proc.pid)
            if not members or time.monotonic() >= deadline:
                return members
            time.sleep(0.1)

    def _reap_session(self, grace):
        """Kill (by pid) session members still alive after `grace` seconds."""
        members = self._wait_session_empty(grace)
        if not members:
            return True
        self.leftovers.extend(members)
        for pid, _comm in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._wait_session_empty(5.0)
        return False

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- processes -------------------------------------------------------
    def _own_pid(self, pid):
        """`pid` if it is a live member of this launcher's session."""
        if pid is None or self.proc is None:
            return None
        st = proc_stat(pid)
        if st is None or st.state == 'Z' or st.session != self.proc.pid:
            return None
        return pid

    def supervisor_pid(self):
        """The pool supervisor (DIR/run/releasemgr.pid) if it is alive and ours."""
        return self._own_pid(read_pid_file(self.pid_file))

    def nginx_pid(self):
        """The nginx master (DIR/run/nginx.pid) if it is alive and ours."""
        return self._own_pid(read_pid_file(self.nginx_pid_file))

    def worker_pids(self):
        """Live workers (the supervisor's children named rm-worker, not its
        rm-maintainer), sorted; [] if no supervisor."""
        supervisor = self.supervisor_pid()
        if supervisor is None:
            return []
        return [pid for pid in children_of(supervisor) if self._own_pid(pid)
                and (proc_stat(pid) or ProcStat(0, '', '', 0, 0, 0)).comm == 'rm-worker']

    def wait_workers(self, count, timeout=10.0):
        """Wait until the supervisor has exactly `count` live workers; return them."""
        def ready():
            workers = self.worker_pids()
            return workers if len(workers) == count else None
        return wait_until(ready, timeout, '%d worker processes under supervisor %s'
                          % (count, self.supervisor_pid()))

    def diagnostics(self, limit=2500):
        """Launcher state, its session's processes and the log tails."""
        if self.proc is None:
            state = 'never started'
        elif self.proc.poll() is None:
            state = 'launcher %d running' % self.proc.pid
        else:
            state = 'launcher %d exited with %s' % (self.proc.pid, self.proc.returncode)
        members = session_members(self.proc.pid) if self.proc is not None else []
        return '%s; session: %r\n%s' % (state, members, self.log_tail(limit))

    def log_tail(self, limit=3000):
        """Tail of the launcher output and of every file under DIR/log."""
        parts = []
        paths = [self.log_path] if self.log_path else []
        log_dir = os.path.join(self.data_dir, 'log')
        if os.path.isdir(log_dir):
            paths += [os.path.join(log_dir, n) for n in sorted(os.listdir(log_dir))]
        for path in paths:
            try:
                with open(path, 'rb') as f:
                    f.seek(0, os.SEEK_END)
                    f.seek(max(0, f.tell() - limit))
                    parts.append('--- %s ---\n%s' % (path, f.read().decode('utf-8', 'replace')))
            except OSError:
                pass
        return '\n'.join(parts)


DEFAULT_CONFIG = os.path.join(REPO_ROOT, 'conf', 'releasemgr.conf')


def write_config(path, settings, template=DEFAULT_CONFIG):
    """Write `template` to `path` with each `name = value` line of a key in
    `settings` replaced; keys the template lacks are appended."""
    with open(template) as f:
        lines = f.read().splitlines()
    todo = dict(settings)
    for index, line in enumerate(lines):
        match = re.match(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=', line)
        if match and match.group(1) in todo:
            name = match.group(1)
            lines[index] = '%s = %s' % (name, todo.pop(name))
    lines += ['%s = %s' % item for item in todo.items()]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def admin(data_dir, *args, stdin=None, timeout=300):
    """Runs releasemgr-admin on data_dir; the CompletedProcess (bytes)."""
    return subprocess.run([ADMIN, '--data-dir', data_dir, *args], input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def write_token_file(path, token, mode=0o600):
    """Writes token and a newline to the new file path, with exactly mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(token + '\n')
    os.chmod(path, mode)     # whatever the umask


def free_port():
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@atexit.register
def _cleanup_all():
    for server in list(Server._live):
        server.cleanup()


_shared = {'server': None, 'error': None}
_shared_lock = threading.Lock()


def shared_server():
    """The Server shared by all modules that do not need a private one.

    Started on first use with the default worker count, stopped at exit.
    A failed start is remembered, so later callers fail fast.
    """
    with _shared_lock:
        if _shared['error'] is not None:
            raise RuntimeError('shared server failed to start earlier: %s' % _shared['error'])
        if _shared['server'] is None:
            server = Server(label='shared')
            try:
                server.start()
            except BaseException as exc:
                _shared['error'] = exc
                server.cleanup()
                raise
            _shared['server'] = server
        return _shared['server']


def private_server(test_class, **kwargs):
    """Start a Server for one TestCase class; cleaned up after the class."""
    server = Server(label=test_class.__name__, **kwargs)
    test_class.addClassCleanup(server.cleanup)
    return server.start()


# --------------------------------------------------------------------------
# History checks
# --------------------------------------------------------------------------

def snapshot(server, environment, n):
    """Snapshot N of `environment` as [(name, version)], or None on 404."""
    resp = server.services(n, environment)
    if resp.status == 404:
        return None
    if resp.status != 200:
        raise AssertionError('GET /services?systemVersion=%s&environment=%s: %s'
                             % (n, environment, resp.describe()))
    return services_pairs(resp)


def current_version(server, environment, limit=1 << 20):
    """The highest N for which snapshot N exists (0 if none)."""
    if snapshot(server, environment, 1) is None:
        return 0
    low, high = 1, 2
    while snapshot(server, environment, high) is not None:
        low, high = high, high * 2
        if high > limit:
            raise AssertionError('system version above %d?' % limit)
    while high - low > 1:
        mid = (low + high) // 2
        if snapshot(server, environment, mid) is None:
            high = mid
        else:
            low = mid
    return low


def fetch_snapshots(server, environment, upto, threads=8):
    """{N: snapshot N} for N in 1..upto; a missing snapshot is an error."""
    numbers = list(range(1, upto + 1))
    snaps = run_parallel(lambda n: snapshot(server, environment, n), numbers, threads)
    missing = [n for n, snap in zip(numbers, snaps) if snap is None]
    if missing:
        raise AssertionError('snapshots %r answer 404 although the current system '
                             'version is %d' % (missing[:10], upto))
    return dict(zip(numbers, snaps))


def sequence_errors(snaps):
    """Problems in a history {N: [(name, version)]} (N = 1..max).

    Each snapshot must be sorted bytewise by name without duplicates, and
    differ from the previous one (empty before 1) by exactly one added or
    changed service, with no service removed.
    """
    errors = []
    previous = {}
    for n in sorted(snaps):
        pairs = snaps[n]
        current = dict(pairs)
        if len(current) != len(pairs):
            errors.append('snapshot %d lists a service twice' % n)
        if pairs != sorted_pairs(pairs):
            errors.append('snapshot %d is not sorted bytewise by name' % n)
        removed = sorted(set(previous) - set(current))
        changed = sorted(k for k in current if previous.get(k) != current[k])
        if removed or len(changed) != 1:
            errors.append('snapshot %d vs %d: removed %r, added/changed %r '
                          '(expected exactly one added or changed service)'
                          % (n, n - 1, removed, changed[:5]))
        previous = current
    return errors


def paged(server, route, environment, limit=500, max_pages=1000):
    """Every item of a paged list (route '/systemversions' or '/events'),
    newest first, following each page's Link: rel="next"."""
    items, pages = [], 0
    path = route + query(environment=environment, limit=limit)
    while path is not None:
        resp = server.request('GET', path, timeout=30)
        if resp.status != 200:
            raise AssertionError('GET %s: %s' % (path, resp.describe()))
        items += resp.json()
        pages += 1
        if pages > max_pages:
            raise AssertionError('%s: more than %d pages' % (route, max_pages))
        link = resp.headers.get('link')
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link) if link else None
        if link and not match:
            raise AssertionError('%s: malformed Link header %r' % (route, link))
        path = match.group(1) if match else None
    return items


def ack_errors(snaps, acks):
    """Acknowledged deploys [(name, version, N)] not visible in snapshot N."""
    errors = []
    for name, version, n in acks:
        if n not in snaps:
            errors.append('%r v%d acknowledged with %d, but snapshot %d does not exist'
                          % (name, version, n, n))
        elif dict(snaps[n]).get(name) != version:
            errors.append('%r v%d acknowledged with %d, but snapshot %d has %r'
                          % (name, version, n, n, dict(snaps[n]).get(name)))
    return errors


# --------------------------------------------------------------------------
# Assertions
# --------------------------------------------------------------------------

class E2ETestCase(unittest.TestCase):
    maxDiff = 4000

    def assertProblem(self, resp, status, ptype, field=None, parameter=None,
                      allow=None, head=False):
        """An RFC 9457 problem: status, media type, members; returns the object.

        field/parameter: the `field`/`parameter` member must equal it and the
        detail must mention it. allow: exact Allow header. head: the answer
        to a HEAD request (no body to inspect).
        """
        self.assertEqual(resp.status, status, 'status; got %s' % resp.describe())
        self.assertEqual(resp.media_type, 'application/problem+json',
                         'content type; got %s' % resp.describe())
        if allow is not None:
            self.assertEqual(resp.headers.get('allow'), allow, 'Allow header')
        if head:
            self.assertEqual(resp.body, b'', 'HEAD answer must have no body')
            return None
        try:
            doc = resp.json()
        except ValueError as exc:
            self.fail('problem body is not JSON (%s): %r' % (exc, resp.body[:300]))
        self.assertIsInstance(doc, dict, 'problem body must be a JSON object')
        for member in ('type', 'title', 'status', 'detail'):
            self.assertIn(member, doc, 'problem member %r missing: %r' % (member, doc))
        self.assertEqual(doc['type'], ptype, 'problem type; got %r' % doc)
        self.assertIs(type(doc['status']), int, 'problem status must be an integer: %r' % doc)
        self.assertEqual(doc['status'], status, 'problem status member')
        self.assertIsInstance(doc['title'], str)
        self.assertIsInstance(doc['detail'], str)
        for key, value in (('field', field), ('parameter', parameter)):
            if value is not None:
                self.assertEqual(doc.get(key), value, 'problem %r member; got %r' % (key, doc))
                self.assertIn(value, doc['detail'],
                              'detail must mention %r: %r' % (value, doc['detail']))
        return doc

    @contextlib.contextmanager
    def diagnosed(self, server):
        """Append the server's diagnostics to an AssertionError raised inside."""
        try:
            yield
        except AssertionError as exc:
            raise AssertionError('%s\n--- diagnostics ---\n%s'
                                 % (exc, server.diagnostics())) from None

    def assertDeployAnswer(self, resp, expected=None):
        """200, application/json, body is exactly a bare integer; returns it."""
        self.assertEqual(resp.status, 200, 'deploy status; got %s' % resp.describe())
        self.assertEqual(resp.media_type, 'application/json', resp.describe())
        self.assertRegex(resp.body, rb'\A(0|[1-9][0-9]*)\Z',
                         'deploy answer must be the bare integer: %r' % resp.body[:100])
        number = int(resp.body)
        if expected is not None:
            self.assertEqual(number, expected, 'system version answered by POST /deploy')
        return number

    def deploy_ok(self, server, name, version, environment=None, expected=None, **metadata):
        return self.assertDeployAnswer(server.deploy(name, version, environment, **metadata),
                                       expected)

    def assertServices(self, resp, expected):
        """200 application/json whose elements are exactly `expected` pairs, in order."""
        self.assertEqual(resp.status, 200, 'GET /services status; got %s' % resp.describe())
        self.assertEqual(resp.media_type, 'application/json', resp.describe())
        self.assertEqual(services_pairs(resp), list(expected))

    def assertHistory(self, server, environment, upto, acks, what):
        """Snapshots 1..upto of environment hold every acknowledged
        (name, version, N) at N and differ by one change a step; returns
        them, {N: [(name, version)]}."""
        snaps = fetch_snapshots(server, environment, upto)
        self.assertEqual(ack_errors(snaps, acks)[:10], [], '%s: acknowledged deploys lost'
                         % what)
        self.assertEqual(sequence_errors(snaps)[:10], [], '%s: inconsistent history' % what)
        return snaps

    def assertSnapshot(self, server, environment, n, expected):
        self.assertServices(server.services(n, environment), expected)

    def assertRetryAfter(self, resp):
        value = resp.headers.get('retry-after', '').strip()
        self.assertTrue(value, 'Retry-After header missing: %r' % resp.headers)
        if not value.isdigit():
            self.assertIsNotNone(email.utils.parsedate_tz(value),
                                 'Retry-After is neither seconds nor an HTTP date: %r' % value)
