"""releasemgr-admin end to end: an online backup taken while deploys go on,
restored into a new data directory; an export imported into an empty one;
every API answer of the copies compared with the original's; the refusals
(a running pool, a data directory that already holds a store, a broken
export line); verify on a damaged store."""

import os
import sys
import time
import unittest
import urllib.parse

import harness
from harness import E2ETestCase, unique_env, wait_until
from test_crash import DeployLoad

HOSTILE = '<img src=x onerror=alert(1)> "quoted" \\ \u00e9\u4e2d'
admin = harness.admin


def get(server, path, **params):
    query = urllib.parse.urlencode(params)
    resp = server.request('GET', path + ('?' + query if query else ''))
    return resp.status, resp.body


def api_answers(server, environments, upto=None):
    """Every read answer of the given environments: {request: (status, body)}.
    upto limits an environment to its versions 1..upto[env] (and skips what
    depends on its newest version)."""
    upto = upto or {}
    answers = {}
    for env in environments:
        status, body = get(server, '/status', environment=env)
        current = harness.json.loads(body)['systemVersion'] if status == 200 else 0
        last = min(current, upto.get(env, current))
        if env not in upto:
            answers[('status', env)] = (status, body)
            answers[('badge', env)] = get(server, '/badge.svg', environment=env)
            before = ''
            while True:
                params = dict(environment=env, limit=50)
                if before:
                    params['before'] = before
                page = get(server, '/systemversions', **params)
                answers[('history', env, before)] = page
                items = harness.json.loads(page[1])
                if len(items) < 50 or items[-1]['systemVersion'] == 1:
                    break
                before = items[-1]['systemVersion']
        for n in range(1, last + 1):
            answers[('services', env, n)] = get(server, '/services', environment=env,
                                                systemVersion=n)
            answers[('version', env, n)] = get(server, '/systemversions/%d' % n,
                                               environment=env)
        answers[('diff', env)] = get(server, '/diff', environment=env, **{'from': 1, 'to': last})
        answers[('beyond', env)] = get(server, '/services', environment=env,
                                       systemVersion=last + 1) if env not in upto else None
    return answers


class AdminTest(E2ETestCase):
    """Backup and restore, export and import, against one seeded server."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.private_server(cls)
        cls.envs = [unique_env('admin-a'), unique_env('admin-b'), unique_env('admin-c')]
        cls.live = unique_env('admin-live')
        # one environment long enough to cross keyframes, one with every
        # kind of metadata and a hostile name, one with a single version
        for n in range(1, 301):
            cls.deploy_or_fail(cls.envs[0], 'svc-%02d' % (n % 37), n)
        for n in range(1, 21):
            cls.deploy_or_fail(cls.envs[1], HOSTILE if n % 3 == 0 else 'api', n,
                               deployedBy='ci \u2713', reason='release %d' % n,
                               releaseHash='%040x' % n)
        cls.deploy_or_fail(cls.envs[2], 'only', 7)
        cls.others = []

    @classmethod
    def deploy_or_fail(cls, env, name, version, **metadata):
        resp = cls.server.deploy(name, version, env, **metadata)
        if resp.status != 200:
            raise AssertionError('seeding: %s' % resp.describe())

    def other_server(self, label):
        """A stopped server with its own empty data directory."""
        server = harness.Server(label=label)
        self.addCleanup(server.cleanup)
        return server

    def assertAdminOk(self, done, what):
        self.assertEqual(done.returncode, 0, '%s failed: %s' % (what, done.stderr.decode()[-2000:]))

    def assertSameAnswers(self, copy, upto=None, environments=None):
        environments = environments or self.envs + [self.live]
        original = api_answers(self.server, environments, upto)
        copied = api_answers(copy, environments, upto)
        self.assertEqual(set(original), set(copied), 'the same requests')
        differing = [key for key in original if original[key] != copied[key]]
        self.assertEqual(differing[:5], [], 'answers that differ, e.g. %r'
                         % [(original[k], copied[k]) for k in differing[:1]])
        return len(original)

    def test_1_backup_during_deploys_then_restore(self):
        load = DeployLoad(self.server, self.live, 'bk', threads=4, max_requests=3000,
                          duration=20.0, pause=0.01).start()
        backup_dir = os.path.join(self.server.root, 'backup')
        try:
            wait_until(lambda: load.ack_count() >= 50, 15, 'deploys before the backup')
            acked_before = load.ack_triples()
            done = admin(self.server.data_dir, 'backup', backup_dir)
            during = load.ack_count() - len(acked_before)
            time.sleep(0.3)
        finally:
            load.stop()
        self.assertAdminOk(done, 'backup during deploys')
        self.assertGreater(during, 0, 'deploys went on during the backup')

        copy = self.other_server('restored')
        self.assertAdminOk(admin(copy.data_dir, 'restore', backup_dir), 'restore')
        verified = admin(copy.data_dir, 'verify')
        self.assertAdminOk(verified, 'verify of the restored store')
        copy.start()
        # the backup holds at least what was acknowledged before it began,
        # and each version it holds answers as the original's does
        status, body = get(copy, '/status', environment=self.live)
        restored = harness.json.loads(body)['systemVersion']
        self.assertGreaterEqual(restored, max(n for _, _, n in acked_before))
        compared = self.assertSameAnswers(copy, upto={self.live: restored})
        sys.stderr.write('\n  backup during %d deploys; restored %d of the live '
                         'environment\'s versions; %d answers identical; %s ... '
                         % (during, restored, compared, verified.stdout.decode().strip()))

    def test_2_export_then_import(self):
        exported = admin(self.server.data_dir, 'export')   # the pool is running
        self.assertAdminOk(exported, 'export')
        lines = exported.stdout.splitlines()
        header = harness.json.loads(lines[0])
        self.assertEqual(header['format'], 'releasemgr-export')
        self.assertEqual(header['systemVersions'], len(lines) - 1)
        names = {harness.json.loads(line)['name'] for line in lines[1:]}
        self.assertTrue(HOSTILE in names, 'the hostile name is exported as it was sent')

        copy = self.other_server('imported')
        imported = admin(copy.data_dir, 'import', stdin=exported.stdout)
        self.assertAdminOk(imported, 'import')
        verified = admin(copy.data_dir, 'verify')
        self.assertAdminOk(verified, 'verify of the imported store')
        again = admin(copy.data_dir, 'export')
        self.assertEqual(again.stdout, exported.stdout, 'export, import, export: the same')
        copy.start()
        compared = self.assertSameAnswers(copy)
        sys.stderr.write('\n  export of %d versions imported; %d answers identical; %s ... '
                         % (len(lines) - 1, compared, verified.stdout.decode().strip()))

    def test_3_refusals(self):
        running = self.server.data_dir
        for args in (['verify'], ['import'], ['restore', self.server.root]):
            with self.subTest(args=args):
                done = admin(running, *args, stdin=b'')
                self.assertEqual(done.returncode, 1)
                self.assertIn(b'in use by a running pool', done.stderr)
        # a directory that holds a store or a backup is not written into
        done = admin(running, 'backup', os.path.join(running, 'db'))
        self.assertEqual(done.returncode, 1)
        self.assertIn(b'already holds', done.stderr)

        copy = self.other_server('refusals')
        exported = admin(running, 'export').stdout
        self.assertAdminOk(admin(copy.data_dir, 'import', stdin=exported), 'import')
        for args in (['import'], ['restore', os.path.join(self.server.root, 'backup')]):
            with self.subTest(args=args):
                done = admin(copy.data_dir, *args, stdin=exported)
                self.assertEqual(done.returncode, 1)
                self.assertIn(b'already holds a store', done.stderr)
        # nothing to verify, nothing to restore from, bad usage
        empty = self.other_server('empty')
        self.assertIn(b'holds no store', admin(empty.data_dir, 'verify').stderr)
        done = admin(empty.data_dir, 'restore', empty.root)
        self.assertEqual(done.returncode, 1)
        self.assertIn(b'not a backup', done.stderr)
        self.assertEqual(admin(empty.data_dir, 'frobnicate').returncode, 2)
        self.assertEqual(admin(empty.data_dir, 'backup').returncode, 2)

    def test_4_import_names_the_bad_line(self):
        exported = admin(self.server.data_dir, 'export').stdout.splitlines()
        cases = [
            ('a broken line', exported[:3] + [b'{"environment": '] + exported[4:], b'line 4'),
            ('a version skipped', exported[:3] + exported[4:], b'line 4'),
            ('a change that changes nothing',
             exported[:3] + [exported[3].replace(b'"previousVersion":null',
                                                 b'"previousVersion":2')] + exported[4:],
             b'line 4'),
            ('not an export', [b'{"hello": 1}'] + exported[1:], b'line 1'),
            ('a count that does not match', [exported[0].replace(b'"systemVersions":',
                                                                 b'"systemVersions":1')]
             + exported[1:], b'announces'),
            ('a hostile name', exported[:1] + [exported[1].replace(
                b'"name":"', b'"name":"\\u0000')] + exported[2:], b'line 2'),
        ]
        for label, lines, message in cases:
            with self.subTest(label):
                copy = self.other_server('badimport')
                done = admin(copy.data_dir, 'import', stdin=b'\n'.join(lines) + b'\n')
                self.assertEqual(done.returncode, 1, done.stderr.decode())
                self.assertIn(message, done.stderr)

    def test_5_verify_finds_damage(self):
        backup_dir = os.path.join(self.server.root, 'backup-damage')
        self.assertAdminOk(admin(self.server.data_dir, 'backup', backup_dir), 'backup')
        copy = self.other_server('damaged')
        self.assertAdminOk(admin(copy.data_dir, 'restore', backup_dir), 'restore')
        self.assertAdminOk(admin(copy.data_dir, 'verify'), 'verify before the damage')
        path = os.path.join(copy.data_dir, 'db', 'changes.db')
        size = os.path.getsize(path)
        with open(path, 'r+b') as f:      # scribble over the second page on
            f.seek(4096 * 1 + 100)
            f.write(b'\xff' * (size - 4096 - 200))
        done = admin(copy.data_dir, 'verify')
        self.assertEqual(done.returncode, 1, 'verify of a damaged store: %s'
                         % done.stdout.decode())


if __name__ == '__main__':
    unittest.main()
