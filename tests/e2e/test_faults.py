"""Faults of the machine: the disk of the data directory fills up.

Each test mounts a small tmpfs of its own (root only; skipped, saying
why, where mounting is not allowed), runs a pool with its whole data
directory on it (the Berkeley DB environment, the socket, nginx's cache
and logs), fills it with deploys and then with a ballast file the test
controls, and frees it again. Nothing acknowledged may be lost, reads go
on while the disk is full, and deploys come back once space is freed,
served by the same processes.
"""

import errno
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import harness
from harness import E2ETestCase, unique_env, wait_until

FS_SIZE_MB = 24          # room to start: regions, the log, nginx's files
RESERVE_MB = 2           # the pool's reserve_mb in the test with a reserve
FILL_LEAVE = 3 << 20     # free bytes the first ballast leaves for deploys
REQUEST_TIMEOUT = 5.0    # no answer may take longer, full disk or not
FILL_THREADS = 8
FILL_LIMIT = 6000        # deploys at most while filling the disk
STORAGE_FULL = '/problems/storage-full'
RESTART_LINE = b'recovering the store'   # what the supervisor logs as it restarts
PAD = 'x' * 200          # long metadata: each deploy writes more log
FULL_SECONDS = 2.5       # the disk stays full this long: a few checkpoints fail


def unmount(path):
    """Unmounts path, lazily when still busy; True when it is unmounted."""
    for args in (['umount', path], ['umount', '-l', path]):
        try:
            if subprocess.run(args, capture_output=True, timeout=15).returncode == 0:
                return True
        except (OSError, subprocess.TimeoutExpired):
            pass
    return False


def mount_small_fs(test, size_mb):
    """A new directory with a tmpfs of size_mb MiB mounted on it, unmounted
    and removed at the test's cleanup. Skips the test when that is not
    possible here (not root, no mount(8), mounting refused)."""
    if os.geteuid() != 0:
        test.skipTest('mounting a small filesystem needs root')
    if shutil.which('mount') is None:
        test.skipTest('mount(8) is not installed')
    mountpoint = tempfile.mkdtemp(prefix='releasemgr-e2e-disk-')
    test.addCleanup(os.rmdir, mountpoint)      # cleanups run last first
    try:
        proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%dm,mode=0711' % size_mb,
                               'tmpfs', mountpoint], capture_output=True, text=True,
                              timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        test.skipTest('cannot mount a tmpfs here: %s' % exc)
    if proc.returncode != 0:
        test.skipTest('cannot mount a tmpfs here (mount exited with %d: %s)'
                      % (proc.returncode, proc.stderr.strip()))
    test.addCleanup(unmount, mountpoint)
    return mountpoint


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def write_ballast(path, leave=0):
    """Appends zeros to path until its filesystem has at most `leave` bytes
    free (0: until the disk is full); returns the bytes written."""
    chunk = b'\0' * (256 << 10)
    written = 0
    with open(path, 'ab', buffering=0) as f:
        while True:
            room = free_bytes(path) - leave
            if leave and room <= 0:
                break
            try:
                n = f.write(chunk if not leave else chunk[:min(len(chunk), room)])
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    break
                raise
            if not n:
                break
            written += n
    return written


class DiskFullCase(E2ETestCase):
    """The common steps; the subclasses say which reserve the pool keeps."""

    reserve_mb = None    # the pool's reserve_mb

    def setUp(self):
        mountpoint = mount_small_fs(self, FS_SIZE_MB)
        self.mountpoint = mountpoint
        data_dir = os.path.join(mountpoint, 'data')
        os.mkdir(data_dir)
        self.ballasts = [os.path.join(mountpoint, 'ballast-1'),
                         os.path.join(mountpoint, 'ballast-2')]
        # A small cache, so that pages are written while the disk fills. A
        # deploy dirties its change, its period, its audit entry (each with
        # the long metadata) and more: 2 MiB keeps as many deploys' pages as
        # 1 MiB did before the audit log. Fuller, a cache of pages that
        # cannot be written makes Berkeley DB retry its allocation for
        # seconds before it fails.
        self.server = harness.Server(label='diskfull', data_dir=data_dir, config={
            'cache_mb': 2, 'reserve_mb': self.reserve_mb, 'checkpoint_seconds': 1,
            'workers': 2})
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.env = unique_env('disk')
        self.started = time.monotonic()

    # -- helpers -----------------------------------------------------------
    def pids(self):
        """The launcher's processes that a restart would replace."""
        supervisor = self.server.supervisor_pid()
        maintainer = [pid for pid in harness.children_of(supervisor)
                      if (harness.proc_stat(pid) or harness.ProcStat(0, '', '', 0, 0, 0)).comm
                      == 'rm-maintainer'] if supervisor else []
        return {'launcher': self.server.proc.pid, 'supervisor': supervisor,
                'nginx': self.server.nginx_pid(), 'workers': self.server.wait_workers(2),
                'maintainer': maintainer}

    def stay_full(self):
        """Keeps the disk full for a few checkpoints (one a second), which
        cannot write their pages meanwhile."""
        time.sleep(FULL_SECONDS)
        self.assertLess(free_bytes(self.mountpoint), 64 << 10, 'the disk is not full')

    def timed(self, send):
        """send()'s answer, failing when it takes longer than REQUEST_TIMEOUT."""
        began = time.monotonic()
        try:
            resp = send()
        except (OSError, http.client.HTTPException) as exc:
            self.fail('no answer within %.0fs (%r)\n%s' % (REQUEST_TIMEOUT, exc,
                                                            self.server.diagnostics()))
        self.assertLess(time.monotonic() - began, REQUEST_TIMEOUT)
        return resp

    def deploy(self, name, version, environment=None):
        return self.timed(lambda: self.server.deploy(
            name, version, environment or self.env, timeout=REQUEST_TIMEOUT,
            reason=PAD, deployedBy=PAD[:64], releaseHash=PAD[:40]))

    def get(self, path):
        return self.timed(lambda: self.server.request('GET', path, timeout=REQUEST_TIMEOUT))

    def assertStorageFull(self, resp):
        """A 503 storage-full problem with a Retry-After."""
        self.assertProblem(resp, 503, STORAGE_FULL)
        self.assertRetryAfter(resp)

    def fill_with_deploys(self):
        """Threads deploy (each its own services, versions going up) until
        each is refused; returns the acknowledged (name, version, N) and
        the number of refusals. Every answer is a 200 or a storage-full
        503, within the timeout."""
        acks, refused, wrong = [], [], []
        lock = threading.Lock()
        budget = iter(range(FILL_LIMIT))

        def run(thread):
            version = 0
            while True:
                with lock:
                    if next(budget, None) is None:
                        return
                version += 1
                name = 'fill-t%d-s%d-%s' % (thread, version % 3, PAD[:100])
                try:
                    resp = self.deploy(name, version)
                except AssertionError as exc:
                    with lock:
                        wrong.append(str(exc)[:500])
                    return
                with lock:
                    if resp.status == 200 and resp.body.isdigit():
                        acks.append((name, version, int(resp.body)))
                        continue
                    if resp.status == 503 and resp.media_type == 'application/problem+json' \
                            and resp.json().get('type') == STORAGE_FULL \
                            and resp.headers.get('retry-after'):
                        refused.append((name, version))
                        return
                    wrong.append(resp.describe())
                    return

        threads = [threading.Thread(target=run, args=(t,), daemon=True)
                   for t in range(FILL_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), 'deploys still running after 60 s')
        self.assertEqual(wrong[:3], [], 'answers other than 200 or a storage-full 503')
        self.assertTrue(refused, 'the disk never filled: %d deploys acknowledged, %d bytes '
                        'free' % (len(acks), free_bytes(self.mountpoint)))
        return acks, len(refused)

    def check_history(self, acks, top):
        snaps = self.assertHistory(self.server, self.env, top, acks, 'after the full disk')
        self.assertEqual(self.server.services(top + 1, self.env).status, 404,
                         'a system version above the last acknowledged one')
        return snaps

    def restarts(self):
        with open(self.server.log_path, 'rb') as f:
            return f.read().count(RESTART_LINE)

    def report(self, figures):
        sys.stderr.write('\n  %s ... ' % ', '.join('%s %s' % item for item in figures))


class DiskFullTest(DiskFullCase):
    """With the reserve (reserve_mb): deploys are refused before the disk
    is full, so Berkeley DB never meets ENOSPC, reads never wait on a log
    it cannot write, and the processes never restart."""

    reserve_mb = RESERVE_MB

    def test_full_disk_refuses_deploys_keeps_reads_and_recovers(self):
        server = self.server
        before = self.pids()
        with self.diagnosed(server):
            acks = [(name, 1, self.deploy_ok(server, name, 1, self.env, expected=n))
                    for n, name in enumerate(['svc-a', 'svc-b'], 1)]

            # 1. Leave a little room, then deploy until deploys are refused.
            write_ballast(self.ballasts[0], leave=RESERVE_MB * (1 << 20) + FILL_LEAVE)
            filled, refused_filling = self.fill_with_deploys()
            acks += filled
            top = max(n for _, _, n in acks)
            self.assertEqual(sorted(n for _, _, n in acks), list(range(1, top + 1)),
                             'acknowledged numbers are not 1..N, each once')

            # 2. Fill the rest: the disk is full.
            write_ballast(self.ballasts[1])
            self.assertLess(free_bytes(self.mountpoint), 64 << 10, 'the disk is not full')
            refused_full = 0
            for i in range(4):
                self.assertStorageFull(self.deploy('svc-a', 100 + i))
                self.assertStorageFull(self.deploy('new-service-%d' % i, 1))
                self.assertStorageFull(self.deploy('svc-a', 1, unique_env('disk-new')))
                refused_full += 3
            # a deploy that changes nothing still writes its audit entry
            name, version, n = max(acks, key=lambda ack: ack[2])
            self.assertStorageFull(self.deploy(name, version))
            refused_full += 1
            self.stay_full()

            # 3. Reads go on while the disk is full.
            reads = 0
            status = self.get('/status?environment=%s' % self.env)
            self.assertEqual(status.status, 200, status.describe())
            self.assertEqual(status.json()['systemVersion'], top)
            history = self.get('/systemversions?environment=%s&limit=500' % self.env)
            self.assertEqual(history.status, 200, history.describe())
            self.assertEqual([item['systemVersion'] for item in history.json()],
                             list(range(top, max(0, top - 500), -1)))
            current = self.get('/services?environment=%s' % self.env)
            self.assertEqual(current.status, 200, current.describe())
            environments = self.get('/environments')
            self.assertEqual(environments.status, 200, environments.describe())
            reads += 4
            step = max(1, len(acks) // 40)
            for name, version, n in sorted(acks, key=lambda ack: ack[2])[::step] + [acks[-1]]:
                resp = self.timed(lambda: server.services(n, self.env, timeout=REQUEST_TIMEOUT))
                self.assertEqual(resp.status, 200, 'GET /services?systemVersion=%d on a full '
                                 'disk: %s' % (n, resp.describe()))
                self.assertEqual(dict(harness.services_pairs(resp)).get(name), version)
                self.assertNotIn('x-accel-expires', resp.headers, 'meant for nginx only')
                reads += 1
            self.assertLess(free_bytes(self.mountpoint), 64 << 10, 'the disk is not full')

            # 4. Space is freed: deploys are accepted again by the same processes.
            for path in self.ballasts:
                os.remove(path)
            self.assertDeployAnswer(self.deploy('svc-a', 2), expected=top + 1)
            acks.append(('svc-a', 2, top + 1))
            after = [self.deploy_ok(server, 'svc-b', v, self.env, expected=top + v)
                     for v in (2, 3, 4)]
            acks += [('svc-b', v, n) for v, n in zip((2, 3, 4), after)]
            top = after[-1]
            self.assertEqual(self.pids(), before, 'the pool or nginx was restarted')
            self.assertEqual(self.restarts(), 0, 'the supervisor restarted the workers')
            self.check_history(acks, top)
        self.report([('acknowledged while filling', len(filled)),
                     ('refused while filling', refused_filling),
                     ('refused on the full disk', refused_full), ('reads on the full disk', reads),
                     ('acknowledged after freeing', 4), ('restarts', 0),
                     ('seconds', '%.1f' % (time.monotonic() - self.started))])


class DiskFullWithoutReserveTest(DiskFullCase):
    """With the reserve off (reserve_mb = 0): Berkeley DB itself meets
    ENOSPC. A deploy it fails is a storage-full 503 (never a 500, never a
    hang); it may have been recorded, being committed in memory while its
    log could not be written, so reads that would show it wait for the
    disk too (a storage-full 503). Nothing acknowledged is lost, and once
    space is freed deploys go on, with no restart."""

    reserve_mb = 0

    def test_enospc_in_berkeley_db_loses_nothing_and_recovers(self):
        server = self.server
        before = self.pids()
        with self.diagnosed(server):
            acks = [('svc-a', 1, self.deploy_ok(server, 'svc-a', 1, self.env, expected=1))]
            write_ballast(self.ballasts[0], leave=FILL_LEAVE)
            filled, refused_filling = self.fill_with_deploys()
            acks += filled
            write_ballast(self.ballasts[1])
            refused_full = 0
            for i in range(3):
                self.assertStorageFull(self.deploy('svc-a', 100 + i))
                refused_full += 1
            self.stay_full()
            answers = {}
            for path in ('/status?environment=%s' % self.env,
                         '/services?environment=%s' % self.env,
                         '/services?environment=%s&systemVersion=1' % self.env):
                resp = self.get(path)
                if resp.status != 200:
                    self.assertStorageFull(resp)
                answers[path] = resp.status

            for path in self.ballasts:
                os.remove(path)

            def deployed():
                resp = self.deploy('svc-b', 1)
                if resp.status == 503:
                    self.assertStorageFull(resp)
                    return None
                return self.assertDeployAnswer(resp)
            n = wait_until(deployed, 15, 'a deploy acknowledged after freeing space', 0.5)
            acks.append(('svc-b', 1, n))
            self.assertEqual(self.pids(), before, 'the pool or nginx was restarted')
            self.assertEqual(self.restarts(), 0, 'the supervisor restarted the workers')
            self.check_history(acks, n)
        self.report([('acknowledged while filling', len(filled)),
                     ('refused while filling', refused_filling),
                     ('refused on the full disk', refused_full),
                     ('reads on the full disk', ' '.join(str(s) for s in answers.values())),
                     ('first number after freeing', n), ('restarts', 0)])


if __name__ == '__main__':
    import unittest
    unittest.main()
