"""make install into a DESTDIR, the installed programs serving the seed
example from the data directory under it, and make uninstall leaving only
the data (and a configuration that was changed)."""

import os
import subprocess
import tempfile
import shutil

import harness
from harness import E2ETestCase, unique_env

PREFIX = '/usr/local'


def make(target, destdir):
    """Runs make target with DESTDIR in the checkout; its output."""
    done = subprocess.run(['make', '-s', target, 'DESTDIR=' + destdir, 'PREFIX=' + PREFIX],
                          cwd=harness.REPO_ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, MAKEFLAGS=''))
    if done.returncode != 0:
        raise AssertionError('make %s: %s%s' % (target, done.stdout, done.stderr))
    return done.stdout + done.stderr


def files_under(top):
    """Every file (not directory) under top, relative to it, sorted."""
    found = []
    for directory, _, names in os.walk(top):
        found += [os.path.relpath(os.path.join(directory, name), top) for name in names]
    return sorted(found)


class InstallTest(E2ETestCase):

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix='releasemgr-e2e-install-')
        os.chmod(self.root, 0o711)          # nginx's workers cross it
        self.addCleanup(shutil.rmtree, self.root, True)
        self.dest = os.path.join(self.root, 'dest')

    def path(self, *parts):
        return os.path.join(self.dest, *(part.lstrip('/') for part in parts))

    def test_install_serve_uninstall(self):
        make('install', self.dest)
        sbin = self.path(PREFIX, 'sbin')
        for program in ('releasemgr', 'releasemgr-admin', 'releasemgr-run'):
            self.assertTrue(os.access(os.path.join(sbin, program), os.X_OK), program)
        for page in ('man8/releasemgr.8', 'man8/releasemgr-admin.8', 'man8/releasemgr-run.8',
                     'man5/releasemgr.conf.5'):
            self.assertTrue(os.path.exists(self.path(PREFIX, 'share/man', page)), page)
        state = self.path('/var/lib/releasemgr')
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o700)
        # the installed files have every placeholder filled in
        for name in ('etc/releasemgr/releasemgr.conf', 'etc/releasemgr/nginx-site.conf',
                     'etc/releasemgr/nginx-http.conf', 'etc/systemd/system/releasemgr.service'):
            with open(self.path(name)) as f:
                text = f.read()
            self.assertNotRegex(text, r'@[A-Z_]+@', name)
        with open(self.path('etc/releasemgr/nginx-site.conf')) as f:
            self.assertIn('fastcgi_pass unix:/run/releasemgr/releasemgr.sock;', f.read())
        with open(os.path.join(sbin, 'releasemgr-run')) as f:
            launcher = f.read()
        self.assertIn('default_config=/etc/releasemgr/releasemgr.conf\n', launcher)
        self.assertIn('default_data_dir=/var/lib/releasemgr\n', launcher)

        # the installed launcher, its templates and page, on the data
        # directory under DESTDIR: the seed example
        os.chmod(self.root, 0o711)
        for part in ('dest', 'dest/var', 'dest/var/lib'):
            os.chmod(os.path.join(self.root, part), 0o755)
        server = harness.Server(label='installed', data_dir=state,
                                launcher=os.path.join(sbin, 'releasemgr-run'),
                                config_file=self.path('etc/releasemgr/releasemgr.conf'))
        self.addCleanup(server.cleanup)
        server.start()
        env = unique_env('installed')
        for name, version, expected in (('A', 1, 1), ('B', 1, 2), ('A', 2, 3)):
            self.deploy_ok(server, name, version, env, expected=expected)
        self.assertServices(server.services(2, env), [('A', 1), ('B', 1)])
        page = server.request('GET', '/')
        self.assertEqual(page.status, 200, page.describe())
        self.assertTrue(server.stop())
        data = files_under(state)
        self.assertTrue(any(name.endswith('changes.db') for name in data), data)

        # uninstall: only the data is left
        said = make('uninstall', self.dest)
        self.assertIn('is left as it is', said)
        left = files_under(self.dest)
        self.assertEqual([name for name in left if not name.startswith('var/lib/releasemgr/')],
                         [], 'left by make uninstall')
        self.assertEqual(files_under(state), data)

        # a configuration that was changed is neither overwritten nor removed
        make('install', self.dest)
        conf = self.path('etc/releasemgr/releasemgr.conf')
        with open(conf, 'a') as f:
            f.write('workers = 3\n')
        said = make('install', self.dest)
        self.assertIn('kept', said)
        with open(conf) as f:
            self.assertTrue(f.read().endswith('workers = 3\n'), 'install overwrote it')
        said = make('uninstall', self.dest)
        self.assertIn('changed', said)
        self.assertEqual([name for name in files_under(self.dest)
                          if not name.startswith('var/lib/releasemgr/')],
                         ['etc/releasemgr/releasemgr.conf'])
