"""What nginx adds for browsers: the pages' security and caching headers,
gzip for JSON with weak ETags that still validate, and the SVG badge."""

import gzip
import xml.etree.ElementTree as ElementTree

import harness
from harness import E2ETestCase, unique_env

SERVER = None
SVG = '{http://www.w3.org/2000/svg}'


def setUpModule():
    global SERVER
    SERVER = harness.shared_server()


class PageHeadersTest(E2ETestCase):

    def test_index_headers_and_revalidation(self):
        resp = SERVER.request('GET', '/')
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'text/html')
        csp = resp.headers.get('content-security-policy', '')
        self.assertIn("default-src 'self'", csp)
        self.assertEqual(resp.headers.get('x-content-type-options'), 'nosniff')
        self.assertEqual(resp.headers.get('referrer-policy'), 'no-referrer')
        self.assertEqual(resp.headers.get('cache-control'), 'no-cache')
        self.assertTrue(resp.headers.get('last-modified'))
        etag = resp.headers.get('etag')
        self.assertTrue(etag)
        again = SERVER.request('GET', '/', headers={'If-None-Match': etag})
        self.assertEqual(again.status, 304, again.describe())


    def test_the_pages_have_an_icon_and_a_description(self):
        for page in ('/', '/status.html'):
            resp = SERVER.request('GET', page)
            self.assertEqual(resp.status, 200, resp.describe())
            head = resp.body.decode().split('</head>')[0]
            self.assertRegex(head, r'<meta name="description" content="[^"<>]{40,160}">')
            self.assertIn('<link rel="icon" href="favicon.svg" type="image/svg+xml">', head)
        icon = SERVER.request('GET', '/favicon.svg')
        self.assertEqual(icon.status, 200, icon.describe())
        self.assertEqual(icon.media_type, 'image/svg+xml')
        self.assertEqual(ElementTree.fromstring(icon.body).tag, SVG + 'svg')
        # asked for by name, as browsers do on their own: the same icon
        legacy = SERVER.request('GET', '/favicon.ico')
        self.assertEqual(legacy.status, 200, legacy.describe())
        self.assertEqual(legacy.media_type, 'image/svg+xml')
        self.assertEqual(legacy.body, icon.body)


class GzipTest(E2ETestCase):

    def test_json_is_compressed_and_its_weak_etag_validates(self):
        env = unique_env('gzip')
        for i in range(40):
            self.deploy_ok(SERVER, 'service-with-a-long-name-%02d' % i, 1, env, expected=i + 1)
        plain = SERVER.services(40, env)
        path = '/services' + harness.query(systemVersion=40, environment=env)
        resp = SERVER.request('GET', path, headers={'Accept-Encoding': 'gzip'})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.headers.get('content-encoding'), 'gzip')
        self.assertEqual(gzip.decompress(resp.body), plain.body)
        etag = resp.headers.get('etag', '')
        self.assertTrue(etag.startswith('W/"'), etag)
        again = SERVER.request('GET', path, headers={'Accept-Encoding': 'gzip',
                                                     'If-None-Match': etag})
        self.assertEqual(again.status, 304, again.describe())


class BadgeTest(E2ETestCase):

    def badge(self, environment):
        return SERVER.request('GET', '/badge.svg' + harness.query(environment=environment))

    def test_badge_shows_the_current_version(self):
        env = unique_env('badge')
        for n in range(1, 43):
            self.deploy_ok(SERVER, 'svc-%d' % (n % 3), n, env, expected=n)
        resp = self.badge(env)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'image/svg+xml')
        root = ElementTree.fromstring(resp.body)     # well-formed XML
        self.assertEqual(root.tag, SVG + 'svg')
        texts = [t.text for t in root.iter(SVG + 'text')]
        self.assertEqual(texts, ['system version', '42'])
        self.assertEqual(root.find(SVG + 'title').text, 'system version of %s: 42' % env)
        self.assertFalse(list(root.iter(SVG + 'script')))
        etag = resp.headers.get('etag')
        self.assertEqual(resp.headers.get('cache-control'), 'public, max-age=5')
        again = SERVER.request('GET', '/badge.svg' + harness.query(environment=env),
                               headers={'If-None-Match': etag})
        self.assertEqual(again.status, 304, again.describe())

    def test_unknown_environment_and_bad_names(self):
        self.assertProblem(self.badge(unique_env('never')), 404, '/problems/not-found')
        self.assertProblem(self.badge('<script>'), 400, '/problems/invalid-parameter',
                           parameter='environment')


if __name__ == '__main__':
    import unittest
    unittest.main()
