"""Concurrent deploys through the worker pool: gapless numbering, history
that matches the answers, and a serialised notion of "unchanged"."""

import random
import unittest

import harness
from harness import (E2ETestCase, ack_errors, fetch_snapshots, run_parallel,
                     sequence_errors, sorted_pairs, unique_env)

SERVER = None
THREADS = 16


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


def deploy_number(name, version, environment):
    """POST /deploy; the answered system version (AssertionError otherwise)."""
    resp = SERVER.deploy(name, version, environment)
    if resp.status != 200 or not resp.body.isdigit():
        raise AssertionError('deploy %r v%d: %s' % (name, version, resp.describe()))
    return int(resp.body)


class ConcurrencyTest(E2ETestCase):

    def test_pool_has_two_workers(self):
        supervisor = SERVER.supervisor_pid()
        self.assertIsNotNone(supervisor, 'DIR/run/releasemgr.pid names no live process '
                             'of the launcher session')
        workers = SERVER.wait_workers(2)
        self.assertEqual(len(set(workers)), 2)
        self.assertNotIn(supervisor, workers)

    def test_distinct_services_get_distinct_gapless_numbers(self):
        env = unique_env('conc')
        names = ['svc-%03d' % i for i in range(200)]
        answers = run_parallel(lambda name: deploy_number(name, 1, env), names, THREADS)
        self.assertEqual(sorted(answers), list(range(1, 201)),
                         'each of 1..200 must be answered exactly once')
        self.assertEqual(len(SERVER.worker_pids()), 2, 'worker pids after the load')
        answered = dict(zip(names, answers))

        def expected(n):
            return sorted_pairs((name, 1) for name, number in answered.items() if number <= n)

        snaps = fetch_snapshots(SERVER, env, 200, threads=THREADS)
        for n in range(1, 201):
            with self.subTest(systemVersion=n):
                self.assertEqual(snaps[n], expected(n))
        self.assertProblem(SERVER.services(201, env), 404, '/problems/not-found')

    def test_identical_concurrent_deploys_bump_once(self):
        env = unique_env('same')
        answers = run_parallel(lambda _: deploy_number('svc', 7, env), range(64), THREADS)
        self.assertEqual(set(answers), {1})
        self.assertProblem(SERVER.services(2, env), 404, '/problems/not-found')

    def test_contended_services(self):
        """16 threads deploy 3 services with random versions: every number
        1..max is answered at least once (the request that created it), and
        each answer N lists the deployed version in snapshot N."""
        env = unique_env('contend')
        rng = random.Random(7)
        plan = [('svc-%d' % rng.randrange(3), rng.randrange(1, 4)) for _ in range(240)]
        answers = run_parallel(lambda item: deploy_number(item[0], item[1], env), plan, THREADS)
        top = max(answers)
        self.assertEqual(set(answers), set(range(1, top + 1)), 'answers must be gapless')
        snaps = fetch_snapshots(SERVER, env, top, threads=THREADS)
        self.assertEqual(sequence_errors(snaps)[:10], [])
        acks = [(name, version, n) for (name, version), n in zip(plan, answers)]
        self.assertEqual(ack_errors(snaps, acks)[:10], [])
        self.assertProblem(SERVER.services(top + 1, env), 404, '/problems/not-found')

    def test_environments_in_parallel(self):
        envs = [unique_env('par%d' % i) for i in range(4)]
        plan = [(env, 'svc-%02d' % i) for i in range(50) for env in envs]
        answers = run_parallel(lambda item: deploy_number(item[1], 1, item[0]), plan, THREADS)
        for env in envs:
            with self.subTest(environment=env):
                mine = sorted(n for (e, _), n in zip(plan, answers) if e == env)
                self.assertEqual(mine, list(range(1, 51)))

    def test_reads_during_writes(self):
        """Snapshots read while deploys run are never partial or reordered."""
        env = unique_env('rw')
        self.assertEqual(deploy_number('seed', 1, env), 1)
        items = [('w', i) for i in range(100)] + [('r', i) for i in range(100)]
        random.Random(3).shuffle(items)

        def act(item):
            kind, i = item
            if kind == 'w':
                return deploy_number('svc-%03d' % i, 1, env)
            resp = SERVER.services(1, env)
            if resp.status != 200 or harness.services_pairs(resp) != [('seed', 1)]:
                raise AssertionError('snapshot 1 changed under load: %s' % resp.describe())
            return None

        answers = [n for n in run_parallel(act, items, THREADS) if n is not None]
        self.assertEqual(sorted(answers), list(range(2, 102)))


if __name__ == '__main__':
    unittest.main()
