#!/usr/bin/env python3
"""Instructions a request costs the pool, counted by valgrind's callgrind.

Wall-clock figures on a shared virtual machine drift by a quarter from one
minute to the next; instructions do not. For each workload this starts the
real launcher (nginx and a pool of one worker, under callgrind) on a store
seeded as make bench seeds it, sends N requests one after the other, stops
it, and does the same with 3N: the difference over 2N is what one request
costs, start-up and seeding cancelled out (the supervisor and the
maintainer are counted too, so a second's housekeeping adds a little).
Run it in two checkouts to compare them, or with a setting changed:

  python3 tests/bench/instructions.py [--requests N] [--setting NAME=VALUE]
      [WORKLOAD ...]

Workloads (make bench's names): W2u GET /services of a random version
(nginx's cache bypassed), W3 GET /status, W5 POST /deploy unchanged, W4
POST /deploy each a change, W4k the same with an eventId (36 bytes, a
UUID's shape) and a sequence on each; and V1 GET /systemversions/N of a
random version of W2u's environment (nginx keeps no copy of those).
Every deploy's Deploy-Outcome is checked. Needs valgrind (make test
installs it).
"""

import argparse
import glob
import http.client
import json
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (its seeding, and through it the e2e harness)
from bench import harness  # noqa: E402

VERSIONS = 2000
WORKLOADS = ('W2u', 'W3', 'V1', 'W5', 'W4', 'W4k')
# the Deploy-Outcome each deploy must be answered
OUTCOMES = {'W5': 'unchanged', 'W4': 'applied', 'W4k': 'applied'}


def request_of(workload, i, rng):
    """(method, path, body) of the i-th request of a workload."""
    if workload == 'W2u':
        return ('GET', '/bench/services-uncached?environment=%s&systemVersion=%d'
                % (bench.ENV_W2, rng.randint(1, VERSIONS)), None)
    if workload == 'W3':
        return ('GET', '/status?environment=' + bench.ENV_W2, None)
    if workload == 'V1':
        return ('GET', '/systemversions/%d?environment=%s'
                % (rng.randint(1, VERSIONS), bench.ENV_W2), None)
    if workload == 'W5':
        return ('POST', '/deploy', bench.deploy_body('svc-000', 1, bench.ENV_W5))
    if workload == 'W4k':
        # one request at a time: the version as sequence grows for each service
        event_id = '%08x-%04x-4%03x-%x%03x-%012x' % (
            rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
            rng.randint(8, 11), rng.getrandbits(12), 10 + i)
        return ('POST', '/deploy', json.dumps({
            'name': 'svc-%03d' % (i % bench.SERVICES), 'version': 10 + i,
            'environment': bench.ENV_W4K, 'eventId': event_id, 'sequence': 10 + i}))
    return ('POST', '/deploy', bench.deploy_body('svc-%03d' % (i % bench.SERVICES),
                                                 10 + i, bench.ENV_W4))


def total_instructions(directory):
    """The instructions of every callgrind output in directory."""
    total = 0
    for path in glob.glob(os.path.join(directory, 'callgrind.*')):
        with open(path, errors='replace') as f:
            for line in f:
                if line.startswith(('summary:', 'totals:')):
                    total += int(line.split()[1])
                    break
    return total


def run(workload, count, settings):
    """Instructions of the pool serving count requests of workload, with
    settings (a dict) besides a single worker."""
    tmp = tempfile.mkdtemp(prefix='releasemgr-instructions-')
    os.chmod(tmp, 0o1777)   # the pool, once its own user, writes there
    os.environ['RELEASEMGR_POOL_WRAPPER'] = (
        'valgrind --tool=callgrind --callgrind-out-file=%s/callgrind.%%p' % tmp)
    server = harness.Server(label='instructions', config=dict(settings, workers='1'),
                            nginx_include=os.path.join(tmp, 'bench.nginx.conf'))
    bench.write_nginx_include(server.nginx_include, server.data_dir)
    server.start()
    try:
        bench.seed_versions(server, bench.ENV_W2, VERSIONS)
        bench.seed(server, [bench.deploy_body('svc-000', 1, bench.ENV_W5)])
        for environment in (bench.ENV_W4, bench.ENV_W4K):
            bench.seed(server, [bench.deploy_body('svc-%03d' % i, 0, environment)
                                for i in range(bench.SERVICES)])
        rng = random.Random(7)
        conn = http.client.HTTPConnection(harness.HOST, server.port, timeout=60)
        for i in range(count):
            method, path, body = request_of(workload, i, rng)
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError('%s %s: %d' % (method, path, resp.status))
            outcome = resp.getheader('Deploy-Outcome')
            if workload in OUTCOMES and outcome != OUTCOMES[workload]:
                raise RuntimeError('%s %s: Deploy-Outcome %s, not %s'
                                   % (method, body, outcome, OUTCOMES[workload]))
        conn.close()
    finally:
        server.cleanup()
    total = total_instructions(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=300)
    parser.add_argument('--setting', action='append', default=[], metavar='NAME=VALUE',
                        help='a setting of the pool (metrics=no, say); repeatable')
    parser.add_argument('workloads', nargs='*', default=list(WORKLOADS))
    opts = parser.parse_args()
    settings = dict(setting.split('=', 1) for setting in opts.setting)
    for workload in opts.workloads:
        if workload not in WORKLOADS:
            parser.error('unknown workload %s' % workload)
        few = run(workload, opts.requests, settings)
        many = run(workload, 3 * opts.requests, settings)
        print('%s %.0f instructions a request' % (
            workload, (many - few) / (2 * opts.requests)), flush=True)


if __name__ == '__main__':
    main()
