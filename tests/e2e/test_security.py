"""Who the pool runs as, what it lets others read, and the deploy token:
started as root, every process of the pool runs as the configured user and
the store is readable by no one else; a token file others may read, or a
user that does not exist, stops the start with a clear message; the token
never appears in a log or an answer."""

import grp
import os
import pwd
import stat
import subprocess
import unittest

import harness
from harness import E2ETestCase, unique_env

TOKEN = 'sec-' + os.urandom(16).hex()
POOL_USER = 'releasemgr'
NGINX_GROUP = 'www-data'     # socket_group's default


def uid_of(pid):
    """The real and effective uid of a process."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Uid:'):
                return [int(x) for x in line.split()[1:3]]
    raise AssertionError('no Uid line for %d' % pid)


def files_under(top):
    for directory, _, names in os.walk(top):
        for name in names:
            yield os.path.join(directory, name)


@unittest.skipUnless(os.geteuid() == 0, 'the pool changes user only when started as root')
class RunsAsItsUserTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        try:
            cls.account = pwd.getpwnam(POOL_USER)
        except KeyError:
            raise unittest.SkipTest('no user %s (make test creates it)' % POOL_USER)
        server = harness.Server(label='security')
        cls.addClassCleanup(server.cleanup)
        token_file = os.path.join(server.root, 'token')
        harness.write_token_file(token_file, TOKEN)
        server.extra_env['RELEASEMGR_TOKEN_FILE'] = token_file
        cls.server = server.start()

    def test_every_process_of_the_pool_runs_as_the_user(self):
        server = self.server
        supervisor = server.supervisor_pid()
        workers = server.wait_workers(2)
        children = harness.children_of(supervisor)
        self.assertGreater(len(children), len(workers), 'the maintainer is a child too')
        for pid in [supervisor] + children:
            with self.subTest(pid=pid, comm=harness.proc_stat(pid).comm):
                self.assertEqual(uid_of(pid), [self.account.pw_uid] * 2)

    def test_the_store_is_the_users_and_no_one_elses(self):
        headers = {'Authorization': 'Bearer ' + TOKEN}
        self.assertEqual(self.server.deploy('svc', 1, unique_env('sec'), headers=headers).status,
                         200)
        db = os.path.join(self.server.data_dir, 'db')
        files = list(files_under(db))
        self.assertTrue(any(f.endswith('changes.db') for f in files))
        for path in [db] + files:
            with self.subTest(path=path):
                st = os.lstat(path)
                self.assertEqual(st.st_uid, self.account.pw_uid)
                self.assertEqual(stat.S_IMODE(st.st_mode) & 0o077, 0,
                                 'readable or writable by others: %o' % st.st_mode)

    def test_the_socket_is_open_to_nginx_group_alone(self):
        path = os.path.join(self.server.data_dir, 'run', 'releasemgr.sock')
        st = os.lstat(path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660, '%o' % st.st_mode)
        self.assertEqual(st.st_uid, self.account.pw_uid)
        self.assertEqual(st.st_gid, grp.getgrnam(NGINX_GROUP).gr_gid)
        # nginx's workers are in that group, and reach the pool through it
        workers = [pid for pid in harness.children_of(self.server.nginx_pid())]
        self.assertTrue(workers)
        for pid in workers:
            with open('/proc/%d/status' % pid) as f:
                gids = [line.split()[1:] for line in f if line.startswith('Gid:')][0]
            self.assertEqual(int(gids[1]), grp.getgrnam(NGINX_GROUP).gr_gid)
        self.assertEqual(self.server.request('GET', '/healthz').status, 200)
        # a local user in neither is refused by the kernel
        done = subprocess.run(
            ['runuser', '-u', 'nobody', '--', 'python3', '-c',
             'import socket, sys; s = socket.socket(socket.AF_UNIX)\n'
             'try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n sys.exit(3)',
             path], capture_output=True, timeout=30)
        self.assertEqual(done.returncode, 3, done.stderr.decode())

    @unittest.skipUnless(os.geteuid() == 0, 'it starts the pool as another user')
    def test_a_pool_started_in_the_socket_group_gives_it_the_socket(self):
        # as systemd starts it: its own user, nginx's group a supplementary one
        root = os.path.join(self.server.root, 'unprivileged')
        os.mkdir(root, 0o700)
        os.chown(root, self.account.pw_uid, self.account.pw_gid)
        data_dir = os.path.join(root, 'data')
        pool = subprocess.Popen(
            ['setpriv', '--reuid', POOL_USER, '--regid', POOL_USER, '--groups', NGINX_GROUP,
             harness.POOL, '--data-dir', data_dir], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=root)
        try:
            socket_path = os.path.join(data_dir, 'run', 'releasemgr.sock')
            harness.wait_until(lambda: os.path.exists(os.path.join(
                data_dir, 'run', 'releasemgr.pid')), 15, 'the pool serving')
            st = os.lstat(socket_path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660, '%o' % st.st_mode)
            self.assertEqual(st.st_uid, self.account.pw_uid)
            self.assertEqual(st.st_gid, grp.getgrnam(NGINX_GROUP).gr_gid)
        finally:
            pool.terminate()
            _, err = pool.communicate(timeout=30)
        self.assertEqual(pool.returncode, 0, err.decode()[-2000:])

    def test_the_token_never_appears_in_a_log_or_an_answer(self):
        server = self.server
        env = unique_env('sec')
        answers = [server.deploy('svc', 1, env, headers={'Authorization': 'Bearer ' + TOKEN
                                                         + 'x'}),
                   server.deploy('svc', 1, env, headers={'Authorization': 'Bearer ' + TOKEN}),
                   server.request('GET', '/services?environment=' + env + '&t=' + 'x')]
        for resp in answers:
            self.assertNotIn(TOKEN.encode(), resp.body)
        logs = [server.log_path] + list(files_under(os.path.join(server.data_dir, 'log')))
        for path in logs:
            with open(path, 'rb') as f:
                self.assertNotIn(TOKEN.encode(), f.read(), path)


class RefusedStartTest(E2ETestCase):
    """Starts that must fail, with a message that says why."""

    def refused(self, server):
        try:
            server.start(timeout=10)
        except RuntimeError as exc:
            return str(exc)
        self.fail('the server started')

    def test_a_token_file_others_may_read(self):
        server = harness.Server(label='token644')
        self.addCleanup(server.cleanup)
        token_file = os.path.join(server.root, 'token')
        harness.write_token_file(token_file, TOKEN, 0o644)
        server.extra_env['RELEASEMGR_TOKEN_FILE'] = token_file
        message = self.refused(server)
        self.assertIn('must not be readable', message)
        self.assertIn('chmod 600', message)
        self.assertNotIn(TOKEN, message)
        with open(server.log_path, 'rb') as f:
            self.assertNotIn(TOKEN.encode(), f.read())

    @unittest.skipUnless(os.geteuid() == 0, 'the user matters only when started as root')
    def test_a_user_that_does_not_exist(self):
        server = harness.Server(label='nouser', config={'user': 'no-such-user-rm'})
        self.addCleanup(server.cleanup)
        message = self.refused(server)
        self.assertIn('the user no-such-user-rm does not exist', message)

    @unittest.skipUnless(os.geteuid() == 0, 'the group matters only when started as root')
    def test_a_socket_group_that_does_not_exist(self):
        server = harness.Server(label='nogroup', config={'socket_group': 'no-such-group-rm'})
        self.addCleanup(server.cleanup)
        message = self.refused(server)
        self.assertIn('the group no-such-group-rm does not exist', message)


if __name__ == '__main__':
    unittest.main()
