"""The browser view in a real browser: Debian's chromium, headless.

Against a server seeded with two environments, a few versions and a
hostile service name, chromium loads the pages (--dump-dom after their
scripts ran) and the test reads the DOM: the history lists the versions,
a version's permalink shows its services, a diff's permalink highlights
the changed rows, and the hostile name is text, never markup (no element
from it, no script from it). It also takes the screenshots README shows:
into $RELEASEMGR_SCREENSHOTS when set (`make screenshots`), else into a
temporary directory.

chromium comes with `make test`; run alone without it, the test is
skipped unless RELEASEMGR_BROWSER_REQUIRED=1 (which make test sets).
"""

import html.parser
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import E2ETestCase

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
REQUIRED = os.environ.get('RELEASEMGR_BROWSER_REQUIRED') == '1'
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
BROWSER_TIMEOUT = 60
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


class Node:
    """An element of a parsed page: tag, attributes, children and text."""

    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ''

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag=None, **attrs):
        return [n for n in self.walk() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.rstrip('_')) == v for k, v in attrs.items())]

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def all_text(self):
        return self.text + ''.join(c.all_text() for c in self.children)


class PageParser(html.parser.HTMLParser):
    VOID = {'meta', 'link', 'input', 'br', 'img', 'hr', 'source', 'col'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node('#document', [])
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        if self.current.children:
            # text after a child: keep it as a text-only child, in order
            text = Node('#text', [], self.current)
            text.text = data
            self.current.children.append(text)
        else:
            self.current.text += data


def parse(page):
    parser = PageParser()
    parser.feed(page)
    return parser.root


@unittest.skipUnless(CHROMIUM or REQUIRED, 'chromium is not installed (make test installs it)')
class BrowserTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        if not CHROMIUM:
            raise AssertionError('chromium is required (RELEASEMGR_BROWSER_REQUIRED=1) '
                                 'but not installed')
        cls.server = harness.private_server(cls)
        cls.shots = os.environ.get('RELEASEMGR_SCREENSHOTS') or tempfile.mkdtemp(
            prefix='releasemgr-shots-')
        cls.profile = tempfile.mkdtemp(prefix='releasemgr-chromium-')
        server = cls.server
        steps = [('web', 1, {'deployedBy': 'ci', 'reason': 'first release'}),
                 ('api', 1, {}), ('worker', 1, {}), ('api', 2, {'releaseHash': 'a1b2c3d'}),
                 (HOSTILE, 1, {'reason': '<b>not bold</b>'}), ('web', 2, {}),
                 ('worker', 1, {}), ('api', 3, {'deployedBy': 'alice', 'reason': 'hotfix'})]
        numbers = []
        for name, version, metadata in steps:
            resp = server.deploy(name, version, 'prod', **metadata)
            assert resp.status == 200, resp.describe()
            numbers.append(int(resp.body))
        assert numbers == [1, 2, 3, 4, 5, 6, 6, 7], numbers
        assert server.deploy('api', 1, 'staging').status == 200

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.profile, ignore_errors=True)

    def chromium(self, path, *args):
        url = 'http://%s:%d%s' % (harness.HOST, self.server.port, path)
        command = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu',
                   '--disable-dev-shm-usage',
                   '--no-first-run', '--user-data-dir=' + self.profile,
                   '--virtual-time-budget=8000', '--window-size=1100,720', *args, url]
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=BROWSER_TIMEOUT, check=False)
        self.assertEqual(done.returncode, 0, done.stderr.decode(errors='replace')[-2000:])
        return done.stdout.decode()

    def dom(self, path):
        page = parse(self.chromium(path, '--dump-dom'))
        body = page.find('body')
        self.assertIsNotNone(body)
        return page, body

    def screenshot(self, path, name):
        target = os.path.join(self.shots, name)
        self.chromium(path, '--screenshot=' + target, '--hide-scrollbars')
        with open(target, 'rb') as f:
            self.assertEqual(f.read(8), PNG_SIGNATURE, target)

    def assertNoHostileMarkup(self, page):
        self.assertFalse(page.find_all('img'), 'an <img> element came from a service name')
        self.assertFalse(page.find_all('b'), 'a <b> element came from metadata')
        self.assertNotEqual(page.find('title').all_text(), 'pwned', 'a script ran')

    def test_history_lists_every_version_with_the_hostile_name_as_text(self):
        page, body = self.dom('/#/prod')
        self.assertEqual(body.attrs.get('data-ready'), 'history')
        table = page.find('table', id='history')
        links = [a.attrs['href'] for a in table.find_all('a')]
        self.assertEqual(links, ['#/prod/%d' % n for n in range(7, 0, -1)])
        texts = [td.all_text() for td in table.find_all('td', class_='name')]
        self.assertIn('api 2 → 3by alice · hotfix', texts)
        self.assertIn(HOSTILE + ' new at 1<b>not bold</b>', texts)
        self.assertNoHostileMarkup(page)
        options = [o.all_text() for o in page.find('select', id='environment').find_all('option')]
        self.assertEqual(options, ['default', 'prod', 'staging'])
        self.screenshot('/#/prod', 'history.png')

    def test_version_permalink_shows_its_services(self):
        page, body = self.dom('/#/prod/5')
        self.assertEqual(body.attrs.get('data-ready'), 'version')
        self.assertEqual(page.find('h2', id='version-title').all_text(),
                         'System version 5 of prod')
        rows = page.find('table', id='services').find('tbody').find_all('tr')
        got = [tuple(td.all_text() for td in row.find_all('td')) for row in rows]
        self.assertEqual(got, [(HOSTILE, '1'), ('api', '2'), ('web', '1'), ('worker', '1')])
        self.assertNoHostileMarkup(page)

    def test_diff_permalink_highlights_the_changes(self):
        page, body = self.dom('/#/prod/diff/3..7')
        self.assertEqual(body.attrs.get('data-ready'), 'diff')
        rows = page.find('table', id='diff').find('tbody').find_all('tr')
        got = [(tuple(td.all_text() for td in row.find_all('td')),
                row.attrs.get('class') == 'changed') for row in rows]
        self.assertEqual(got, [((HOSTILE, '—', '1'), True), (('api', '1', '3'), True),
                               (('web', '1', '2'), True), (('worker', '1', '1'), False)])
        self.assertNoHostileMarkup(page)
        self.screenshot('/#/prod/diff/3..7', 'diff.png')

    def test_unknown_version_says_so(self):
        page, body = self.dom('/#/prod/99')
        self.assertEqual(body.attrs.get('data-ready'), 'error')
        error = page.find('p', id='error')
        self.assertNotIn('hidden', error.attrs)
        self.assertIn('no system version 99', error.all_text())

    def test_status_page(self):
        page, body = self.dom('/status.html?environment=prod')
        self.assertEqual(body.attrs.get('data-ready'), 'status')
        self.assertEqual(page.find('p', id='version').all_text(), 'v7')
        self.assertEqual(page.find('p', id='environment').all_text(), 'prod')
        self.assertTrue(page.find('p', id='since').all_text().startswith('since '))
        self.screenshot('/status.html?environment=prod', 'status.png')


if __name__ == '__main__':
    unittest.main()
