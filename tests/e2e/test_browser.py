"""The browser view in a real browser: Debian's chromium, headless.

Against a server seeded with four environments, a few versions, a
removal, reports of every outcome and a hostile service name and event
id, chromium loads the pages (--dump-dom after their scripts ran) and the
test reads the DOM: the history lists the versions and shows a removal as
one, a version's permalink shows its services, a diff's permalink
highlights the changed rows, a service's name leads to its periods, the
events view shows each report's outcome and pages back through the
Link header, the drift view compares two environments, and the hostile
name is text, never markup (no element from it, no script from it), in
each of them. It also takes the screenshots README shows:
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
import urllib.parse

import harness
from harness import E2ETestCase

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
REQUIRED = os.environ.get('RELEASEMGR_BROWSER_REQUIRED') == '1'
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
BROWSER_TIMEOUT = 60
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
PAGED_REPORTS = 52          # two pages of events: the page shows 50


def uri_component(text):
    """text as JavaScript's encodeURIComponent encodes it."""
    return urllib.parse.quote(text, safe="-_.!~*'()")


def service_hash(environment, name):
    return '#/%s/services/%s' % (environment, uri_component(name))


def rows_of(page, table_id):
    """The text of each cell of each row of a table's body."""
    rows = page.find('table', id=table_id).find('tbody').find_all('tr')
    return [tuple(td.all_text() for td in row.find_all('td')) for row in rows]


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
        # qa: every outcome of a report, a removal, and a hostile event id
        reports = [({'name': 'web', 'version': 1, 'eventId': 'e-1', 'sequence': 1},
                    'applied', 1),
                   ({'name': HOSTILE, 'version': 1, 'eventId': HOSTILE,
                     'deployedBy': '<b>not bold</b>'}, 'applied', 2),
                   ({'name': 'web', 'version': 1, 'eventId': 'e-1', 'sequence': 1},
                    'duplicate', 1),
                   ({'name': 'web', 'version': 2, 'sequence': 3}, 'applied', 3),
                   ({'name': 'web', 'version': 1, 'sequence': 2}, 'stale', 3),
                   ({'name': 'web', 'version': 2}, 'unchanged', 3),
                   (None, 'removed', 4),
                   ({'name': 'web', 'version': 3, 'sequence': 5}, 'applied', 5)]
        for members, outcome, number in reports:
            if members is None:
                resp = server.request('DELETE', '/services/web?environment=qa')
            else:
                resp = server.post(harness.json_body(environment='qa', **members))
            assert resp.status == 200, resp.describe()
            assert resp.headers.get('deploy-outcome') == outcome, resp.describe()
            assert int(resp.body) == number, resp.describe()
        for version in range(1, PAGED_REPORTS + 1):
            assert server.deploy('svc', version, 'paged').status == 200

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
        links = [td.find('a').attrs['href'] for td in table.find_all('td', class_='number')]
        self.assertEqual(links, ['#/prod/%d' % n for n in range(7, 0, -1)])
        names = [a.attrs['href'] for td in table.find_all('td', class_='name')
                 for a in td.find_all('a')]
        self.assertEqual(names[:2], [service_hash('prod', 'api'), service_hash('prod', 'web')])
        self.assertIn(service_hash('prod', HOSTILE), names)
        texts = [td.all_text() for td in table.find_all('td', class_='name')]
        self.assertIn('api 2 → 3by alice · hotfix', texts)
        self.assertIn(HOSTILE + ' new at 1<b>not bold</b>', texts)
        self.assertNoHostileMarkup(page)
        options = [o.all_text() for o in page.find('select', id='environment').find_all('option')]
        self.assertEqual(options, ['default', 'paged', 'prod', 'qa', 'staging'])
        self.screenshot('/#/prod', 'history.png')

    def test_version_permalink_shows_its_services(self):
        page, body = self.dom('/#/prod/5')
        self.assertEqual(body.attrs.get('data-ready'), 'version')
        self.assertEqual(page.find('h2', id='version-title').all_text(),
                         'System version 5 of prod')
        rows = page.find('table', id='services').find('tbody').find_all('tr')
        got = [tuple(td.all_text() for td in row.find_all('td')) for row in rows]
        self.assertEqual(got, [(HOSTILE, '1'), ('api', '2'), ('web', '1'), ('worker', '1')])
        links = [a.attrs['href'] for a in page.find('table', id='services').find_all('a')]
        self.assertEqual(links, [service_hash('prod', n) for n in (HOSTILE, 'api', 'web', 'worker')])
        self.assertNoHostileMarkup(page)

    def test_diff_permalink_highlights_the_changes(self):
        page, body = self.dom('/#/prod/diff/3..7')
        self.assertEqual(body.attrs.get('data-ready'), 'diff')
        rows = page.find('table', id='diff').find('tbody').find_all('tr')
        got = [(tuple(td.all_text() for td in row.find_all('td')),
                row.attrs.get('class') == 'changed') for row in rows]
        self.assertEqual(got, [((HOSTILE, '—', '1'), True), (('api', '1', '3'), True),
                               (('web', '1', '2'), True), (('worker', '1', '1'), False)])
        links = [a.attrs['href'] for a in page.find('table', id='diff').find_all('a')]
        self.assertEqual(links, [service_hash('prod', n) for n in (HOSTILE, 'api', 'web', 'worker')])
        self.assertNoHostileMarkup(page)
        self.screenshot('/#/prod/diff/3..7', 'diff.png')

    def test_a_removal_is_shown_as_such(self):
        page, body = self.dom('/#/qa')
        self.assertEqual(body.attrs.get('data-ready'), 'history')
        rows = page.find('table', id='history').find('tbody').find_all('tr')
        got = [(row.find('td', class_='number').all_text(),
                row.find('td', class_='name').all_text(), row.attrs.get('class')) for row in rows]
        self.assertEqual(got, [('5', 'web new at 3', None),
                               ('4', 'removed web (was 2)', 'removal'),
                               ('3', 'web 1 → 2', None),
                               ('2', HOSTILE + ' new at 1by <b>not bold</b>', None),
                               ('1', 'web new at 1', None)])
        page, body = self.dom('/#/qa/4')
        self.assertEqual(body.attrs.get('data-ready'), 'version')
        meta = page.find('p', id='version-meta')
        removal = meta.find('span', class_='removal')
        self.assertIsNotNone(removal, 'the removal is not marked as one')
        self.assertEqual(removal.all_text(), 'removed web (was 2)')
        self.assertEqual(removal.find('a').attrs['href'], service_hash('qa', 'web'))
        self.assertEqual(rows_of(page, 'services'), [(HOSTILE, '1')])
        self.assertNoHostileMarkup(page)

    def test_a_service_name_leads_to_its_periods(self):
        page, _ = self.dom('/#/qa')
        hrefs = {a.all_text(): a.attrs['href'] for a in page.find('table', id='history').find_all('a')}
        self.assertEqual(hrefs['web'], service_hash('qa', 'web'))
        page, body = self.dom('/' + hrefs['web'])
        self.assertEqual(body.attrs.get('data-ready'), 'service')
        self.assertEqual(page.find('h2', id='service-title').all_text(), 'History of web in qa')
        rows = page.find('table', id='periods').find('tbody').find_all('tr')
        # version, from, to (times aside), and how the period ended
        got = [(cells[0], cells[1], cells[3], row.attrs.get('class'))
               for cells, row in zip(rows_of(page, 'periods'), rows)]
        self.assertEqual(got, [('3', '5', 'current', 'current'),
                               ('2', '3', '4 removed', 'removal'),
                               ('1', '1', '3', None)])
        links = [a.attrs['href'] for a in page.find('table', id='periods').find_all('a')]
        self.assertEqual(links, ['#/qa/5', '#/qa/3', '#/qa/4', '#/qa/1', '#/qa/3'])
        # the hostile name, from the version view's list
        page, _ = self.dom('/#/prod/5')
        hostile = [a.attrs['href'] for a in page.find('table', id='services').find_all('a')
                   if a.all_text() == HOSTILE]
        self.assertEqual(hostile, [service_hash('prod', HOSTILE)])
        page, body = self.dom('/' + hostile[0])
        self.assertEqual(body.attrs.get('data-ready'), 'service')
        self.assertEqual(page.find('h2', id='service-title').all_text(),
                         'History of ' + HOSTILE + ' in prod')
        self.assertEqual([cells[:2] + cells[3:4] for cells in rows_of(page, 'periods')],
                         [('1', '5', 'current')])
        self.assertNoHostileMarkup(page)

    def test_a_service_never_deployed_says_so(self):
        page, body = self.dom('/' + service_hash('qa', 'nowhere'))
        self.assertEqual(body.attrs.get('data-ready'), 'error')
        self.assertIn('Not found', page.find('p', id='error').all_text())

    def test_events_show_each_outcome(self):
        page, body = self.dom('/#/qa/events')
        self.assertEqual(body.attrs.get('data-ready'), 'events')
        rows = page.find('table', id='events').find('tbody').find_all('tr')
        got = []
        for row in rows:
            cells = row.find_all('td')
            badge = cells[2].find('span')
            got.append((cells[0].all_text(), badge.all_text(), badge.attrs.get('class'),
                        cells[3].all_text(), cells[4].all_text(), cells[5].all_text()))
        self.assertEqual(got, [
            ('8', 'applied', 'outcome outcome-applied', 'web 3', 'sequence 5', '5'),
            ('7', 'removed', 'outcome outcome-removed', 'removed web', '', '4'),
            ('6', 'unchanged', 'outcome outcome-unchanged', 'web 2', '', '3'),
            ('5', 'stale', 'outcome outcome-stale', 'web 1', 'sequence 2', '3'),
            ('4', 'applied', 'outcome outcome-applied', 'web 2', 'sequence 3', '3'),
            ('3', 'duplicate', 'outcome outcome-duplicate', 'web 1', 'event e-1sequence 1', '1'),
            ('2', 'applied', 'outcome outcome-applied', HOSTILE + ' 1by <b>not bold</b>',
             'event ' + HOSTILE, '2'),
            ('1', 'applied', 'outcome outcome-applied', 'web 1', 'event e-1sequence 1', '1')])
        links = [a.attrs['href'] for a in rows[1].find_all('a')]
        self.assertEqual(links, [service_hash('qa', 'web'), '#/qa/4'])
        self.assertEqual(rows[6].find('td', class_='name').find('a').attrs['href'],
                         service_hash('qa', HOSTILE))
        self.assertIn('hidden', page.find('a', id='older').attrs)
        self.assertNoHostileMarkup(page)
        self.screenshot('/#/qa/events', 'events.png')
        # a page of its own: the reports before #3
        page, body = self.dom('/#/qa/events?before=3')
        self.assertEqual(body.attrs.get('data-ready'), 'events')
        self.assertEqual([cells[0] for cells in rows_of(page, 'events')], ['2', '1'])
        self.assertNotIn('hidden', page.find('a', id='events-newest').attrs)
        self.assertNoHostileMarkup(page)

    def test_events_page_back_through_the_link_header(self):
        page, body = self.dom('/#/paged/events')
        self.assertEqual(body.attrs.get('data-ready'), 'events')
        ids = [cells[0] for cells in rows_of(page, 'events')]
        self.assertEqual(ids, [str(n) for n in range(PAGED_REPORTS, PAGED_REPORTS - 50, -1)])
        older = page.find('a', id='older')
        self.assertNotIn('hidden', older.attrs)
        self.assertEqual(older.attrs['href'], '#/paged/events?before=%d' % (PAGED_REPORTS - 49))
        page, body = self.dom('/' + older.attrs['href'])
        self.assertEqual(body.attrs.get('data-ready'), 'events')
        self.assertEqual([cells[0] for cells in rows_of(page, 'events')],
                         [str(n) for n in range(PAGED_REPORTS - 50, 0, -1)])
        self.assertIn('hidden', page.find('a', id='older').attrs)

    def test_drift_between_two_environments(self):
        page, body = self.dom('/#/prod/drift')
        self.assertEqual(body.attrs.get('data-ready'), 'drift')
        self.assertNotIn('hidden', page.find('form', id='drift-form').attrs)
        self.assertIn('hidden', page.find('div', id='diff-wrap').attrs)
        options = [o.all_text() for o in page.find('select', id='drift-to-env').find_all('option')]
        self.assertEqual(options, ['pick one', 'default', 'paged', 'prod', 'qa', 'staging'])
        # the current versions of both
        page, body = self.dom('/#/prod/drift/staging')
        self.assertEqual(body.attrs.get('data-ready'), 'drift',
                         page.find('p', id='error').all_text())
        self.assertEqual(page.find('h2', id='diff-title').all_text(),
                         'Drift from prod (current) to staging (current)')
        rows = page.find('table', id='diff').find('tbody').find_all('tr')
        got = [(tuple(td.all_text() for td in row.find_all('td')),
                row.attrs.get('class') == 'changed') for row in rows]
        self.assertEqual(got, [((HOSTILE, '1', '—'), True), (('api', '3', '1'), True),
                               (('web', '2', '—'), True), (('worker', '1', '—'), True)])
        links = [a.attrs['href'] for a in page.find('table', id='diff').find_all('a')]
        self.assertEqual(links, [service_hash('prod', HOSTILE), service_hash('staging', 'api'),
                                 service_hash('prod', 'web'), service_hash('prod', 'worker')])
        self.assertNoHostileMarkup(page)
        # prod as it was at 3 against staging now
        page, body = self.dom('/#/prod/drift/staging/3..')
        self.assertEqual(body.attrs.get('data-ready'), 'drift',
                         page.find('p', id='error').all_text())
        rows = page.find('table', id='diff').find('tbody').find_all('tr')
        got = [(tuple(td.all_text() for td in row.find_all('td')),
                row.attrs.get('class') == 'changed') for row in rows]
        self.assertEqual(got, [(('api', '1', '1'), False), (('web', '1', '—'), True),
                               (('worker', '1', '—'), True)])
        self.assertNoHostileMarkup(page)

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
