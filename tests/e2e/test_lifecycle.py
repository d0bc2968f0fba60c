"""The launcher contract: --workers, clean shutdown on SIGTERM/SIGINT (no
process of its session left behind), and data surviving a restart."""

import signal
import subprocess
import unittest

import harness
from harness import E2ETestCase, pid_alive, session_members, unique_env, wait_until


class LifecycleTest(E2ETestCase):

    def new_server(self, **kwargs):
        server = harness.Server(label='lifecycle', **kwargs)
        self.addCleanup(server.cleanup)
        return server.start()

    def assertStopsCleanly(self, server, signum):
        """Signal the launcher; it exits within 15 s and its session is empty."""
        pids = {'supervisor': server.supervisor_pid(), 'nginx': server.nginx_pid()}
        pids.update(('worker %d' % i, pid) for i, pid in enumerate(server.worker_pids()))
        for role, pid in pids.items():
            self.assertIsNotNone(pid, '%s pid not found before the stop' % role)
        server.proc.send_signal(signum)
        try:
            server.proc.wait(harness.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail('launcher still running %.0fs after %s' % (harness.STOP_TIMEOUT,
                                                                signal.Signals(signum).name))
        try:
            wait_until(lambda: not session_members(server.pgid), 5,
                       'the launcher session to be empty')
        except AssertionError:
            self.fail('left behind after %s: %r' % (signal.Signals(signum).name,
                                                   session_members(server.pgid)))
        for role, pid in pids.items():
            self.assertFalse(pid_alive(pid), '%s (pid %d) still alive' % (role, pid))

    def test_stop_and_restart_keep_the_data(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=signal.Signals(signum).name):
                server = self.new_server()
                env = unique_env('restart')
                self.deploy_ok(server, 'a', 1, env, expected=1)
                self.deploy_ok(server, 'b', 2, env, expected=2)
                self.assertStopsCleanly(server, signum)
                server.start()   # same data directory, new port
                self.assertSnapshot(server, env, 1, [('a', 1)])
                self.assertSnapshot(server, env, 2, [('a', 1), ('b', 2)])
                self.deploy_ok(server, 'b', 2, env, expected=2)
                self.deploy_ok(server, 'c', 1, env, expected=3)
                self.assertTrue(server.stop(), 'second stop left processes behind: %r'
                                % server.leftovers)

    def test_workers_option(self):
        server = self.new_server(workers=3)
        workers = server.wait_workers(3)
        self.assertEqual(len(set(workers)), 3)
        self.deploy_ok(server, 'svc', 1, unique_env('workers'), expected=1)

    def test_pid_files_name_our_processes(self):
        server = self.new_server()
        supervisor, nginx = server.supervisor_pid(), server.nginx_pid()
        self.assertIsNotNone(supervisor, 'run/releasemgr.pid: no live supervisor of ours')
        self.assertIsNotNone(nginx, 'run/nginx.pid: no live nginx of ours')
        self.assertEqual(harness.proc_stat(supervisor).pgrp, server.pgid,
                         'the supervisor is in the launcher process group')
        self.assertEqual(harness.proc_stat(nginx).pgrp, server.pgid,
                         'nginx is in the launcher process group')
        for worker in server.wait_workers(2):
            self.assertEqual(harness.proc_stat(worker).pgrp, server.pgid)


if __name__ == '__main__':
    unittest.main()
