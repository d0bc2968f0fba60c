"""Bearer-token protection of POST /deploy (RELEASEMGR_TOKEN_FILE), on a
private server."""

import os
import unittest

import harness
from harness import E2ETestCase, unique_env

TOKEN = 'e2e-' + os.urandom(16).hex()


def rejected_headers():
    """(label, headers) that must all be answered 401."""
    wrong_same_length = TOKEN[:-1] + ('0' if TOKEN[-1] != '0' else '1')
    return [
        ('no Authorization header', {}),
        ('wrong token of the same length', {'Authorization': 'Bearer ' + wrong_same_length}),
        ('token one byte short', {'Authorization': 'Bearer ' + TOKEN[:-1]}),
        ('token one byte long', {'Authorization': 'Bearer ' + TOKEN + 'x'}),
        ('much shorter token', {'Authorization': 'Bearer x'}),
        ('much longer token', {'Authorization': 'Bearer ' + TOKEN * 4}),
        ('empty Authorization', {'Authorization': ''}),
        ('"Bearer" without token', {'Authorization': 'Bearer'}),
        ('"Bearer " with empty token', {'Authorization': 'Bearer '}),
        ('token without scheme', {'Authorization': TOKEN}),
        ('Basic scheme', {'Authorization': 'Basic ZTJlOnNlY3JldA=='}),
        ('token as Basic credentials', {'Authorization': 'Basic ' + TOKEN}),
        ('token in another header', {'X-Token': TOKEN}),
    ]


class AuthTest(E2ETestCase):

    @classmethod
    def setUpClass(cls):
        server = harness.Server(label='auth')
        cls.addClassCleanup(server.cleanup)
        token_file = os.path.join(server.root, 'token')
        harness.write_token_file(token_file, TOKEN)
        server.extra_env['RELEASEMGR_TOKEN_FILE'] = token_file
        cls.server = server.start()

    def test_deploy_without_the_right_token_is_401(self):
        env = unique_env('auth-rejected')
        for label, headers in rejected_headers():
            with self.subTest(label):
                resp = self.server.deploy('svc', 1, env, headers=headers)
                self.assertProblem(resp, 401, '/problems/unauthorized')
                self.assertRegex(resp.headers.get('www-authenticate', ''), r'^Bearer\b',
                                 'WWW-Authenticate header')
        # Nothing was stored by the rejected requests.
        self.assertProblem(self.server.services(environment=env), 404, '/problems/not-found')

    def test_deploy_with_the_right_token(self):
        env = unique_env('auth-ok')
        bearer = {'Authorization': 'Bearer ' + TOKEN}
        self.assertDeployAnswer(self.server.deploy('svc', 1, env, headers=bearer), 1)
        self.assertDeployAnswer(self.server.deploy('svc', 2, env, headers=bearer), 2)
        # Reads need no token.
        self.assertServices(self.server.services(environment=env), [('svc', 2)])
        self.assertServices(self.server.services(1, env), [('svc', 1)])
        head = self.server.services(1, env, method='HEAD')
        self.assertEqual(head.status, 200)

    def test_validation_still_applies_with_the_right_token(self):
        bearer = {'Authorization': 'Bearer ' + TOKEN}
        resp = self.server.deploy('svc', -1, unique_env('auth-invalid'), headers=bearer)
        self.assertProblem(resp, 400, '/problems/invalid-field', field='version')

    def test_reads_without_token(self):
        resp = self.server.services()
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.media_type, 'application/json')


if __name__ == '__main__':
    unittest.main()
