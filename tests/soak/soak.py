#!/usr/bin/env python3
"""make soak's load phases: a long mixed load, then a shorter one with the
pool under valgrind's memcheck.

  soak      a server as make run starts it (default configuration), an
            environment seeded with VERSIONS system versions over SERVICES
            services, a warm-up, then wrk (2 threads, 64 connections,
            loopback) for --seconds with tests/soak/mixed.lua: 90 % reads of
            every route, 10 % deploys, each a change. Every answer must be a
            200 and no socket error may occur; the workers must be the same
            processes at the end, each with its private memory (RssAnon) at
            most --rss-growth-mib above what it was after the warm-up, and
            no more open file descriptors (Berkeley DB's log files apart,
            which change as the log moves on: at most 2 of them).
  memcheck  the same mix for --valgrind-seconds (8 connections) with the
            pool started under valgrind (RELEASEMGR_POOL_WRAPPER), then
            stopped with SIGTERM so that every process exits and reports:
            each log must say "ERROR SUMMARY: 0 errors" (leaks: definite).

Exits non-zero when a check fails; prints the figures either way.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests', 'e2e'))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests', 'bench'))

import harness   # noqa: E402
import bench     # noqa: E402

ENVIRONMENT = 'soak'
SERVICES = 100
VERSIONS = 2000
WARMUP_SECONDS = 10
# Berkeley DB keeps a log file open to write the log, and may keep another
# one open that it read back (an abort undoing a transaction's records);
# which files they are changes as the log moves on.
LOG_FILES_OPEN_MAX = 2
SUPPRESSIONS = os.path.join(REPO_ROOT, 'tests', 'unit', 'valgrind.supp')


def run_mix(server, seconds, connections, base):
    """One wrk run of mixed.lua; the figures of report.lua."""
    args = ['wrk', '-t2', '-c%d' % connections, '-d%ds' % seconds, '--timeout', '10s',
            '-s', os.path.join(HERE, 'mixed.lua'), 'http://%s:%d' % (harness.HOST, server.port),
            '--', ENVIRONMENT, str(VERSIONS), str(SERVICES), str(base)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)
    figures = {key: int(value) for key, value in
               re.findall(r'^BENCH (\w+) (-?\d+)$', done.stdout, re.M)}
    if done.returncode != 0 or 'requests' not in figures:
        raise RuntimeError('wrk failed (%d): %s %s' % (done.returncode, done.stdout, done.stderr))
    figures['socket_errors'] = sum(figures[k] for k in ('connect_errors', 'read_errors',
                                                        'write_errors', 'timeouts'))
    return figures


def open_files(pid):
    """{descriptor: what it points to} of a process."""
    files = {}
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            files[int(fd)] = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            pass
    return files


def split_logs(files):
    """(how many of files are Berkeley DB log files, how many are not)."""
    logs = sum(1 for target in files.values()
               if os.path.basename(target).startswith('log.'))
    return logs, len(files) - logs


def worker_state(server):
    """{pid: (RssAnon MiB, VmRSS MiB, {descriptor: target})} of every worker."""
    state = {}
    for pid, memory in bench.worker_memory(server).items():
        state[pid] = (memory['RssAnon'], memory['VmRSS'], open_files(pid))
    return state


def settled_state(server, before, timeout=10.0):
    """worker_state() once the requests wrk left in flight are done: each
    worker's descriptors other than log files back to no more than before,
    or the timeout (a real leak stays)."""
    deadline = time.monotonic() + timeout
    while True:
        state = worker_state(server)
        if time.monotonic() >= deadline or all(
                pid in before and split_logs(files)[1] <= split_logs(before[pid][2])[1]
                for pid, (_anon, _rss, files) in state.items()):
            return state
        time.sleep(0.2)


def seeded_server(label, extra_env=None):
    server = harness.Server(label=label, extra_env=extra_env)
    server.start(timeout=120)
    seconds = bench.seed_versions(server, ENVIRONMENT, VERSIONS)
    print('%s: seeded %d versions over %d services in %.1f s'
          % (label, VERSIONS, SERVICES, seconds), flush=True)
    return server


def mix_failures(label, figures):
    failures = []
    if figures['non200'] or figures['status_errors']:
        failures.append('%s: %d answers other than 200' % (label, figures['non200']))
    if figures['socket_errors']:
        failures.append('%s: %d socket errors' % (label, figures['socket_errors']))
    return failures


def soak(opts):
    server = seeded_server('soak')
    failures = []
    try:
        warm = run_mix(server, WARMUP_SECONDS, 64, 10 ** 6)
        failures += mix_failures('warm-up', warm)
        time.sleep(1.0)     # the requests wrk left in flight finish
        before = worker_state(server)
        started = time.monotonic()
        figures = run_mix(server, opts.seconds, 64, 10 ** 12)
        elapsed = time.monotonic() - started
        ended = time.monotonic()
        after = settled_state(server, before)
        print('soak: workers settled %.1f s after the load ended' % (time.monotonic() - ended))
        failures += mix_failures('soak', figures)
        print('soak: %d requests in %.0f s (%.0f req/s), %d answers other than 200, '
              '%d socket errors; latency p50 %.2f ms, p99 %.2f ms'
              % (figures['requests'], elapsed, figures['requests'] / elapsed,
                 figures['non200'], figures['socket_errors'], figures['p50_us'] / 1000,
                 figures['p99_us'] / 1000))
        for pid in sorted(set(before) | set(after)):
            b, a = before.get(pid), after.get(pid)
            print('  worker %d: RssAnon %s -> %s MiB, VmRSS %s -> %s MiB, fds %s -> %s'
                  % (pid, b and '%.1f' % b[0], a and '%.1f' % a[0], b and '%.1f' % b[1],
                     a and '%.1f' % a[1], b and len(b[2]), a and len(a[2])))
            if b is not None and a is not None and a[2] != b[2]:
                print('    descriptors before: %r\n    after: %r'
                      % (sorted(set(b[2].items()) - set(a[2].items())),
                         sorted(set(a[2].items()) - set(b[2].items()))))
            if b is None or a is None:
                failures.append('worker %d was replaced during the soak' % pid)
                continue
            if a[0] - b[0] > opts.rss_growth_mib:
                failures.append('worker %d: private memory grew %.1f MiB'
                                % (pid, a[0] - b[0]))
            before_logs, before_others = split_logs(b[2])
            after_logs, after_others = split_logs(a[2])
            if after_others > before_others or after_logs > LOG_FILES_OPEN_MAX:
                failures.append('worker %d: descriptors %d -> %d (log files %d -> %d)'
                                % (pid, len(b[2]), len(a[2]), before_logs, after_logs))
        errors = [line for line in open(server.log_path, errors='replace')
                  if ' error ' in line]
        print('  pool log: %d error lines' % len(errors))
        failures += ['pool log: ' + line.strip() for line in errors[:5]]
    finally:
        server.cleanup()
    return failures


def memcheck(opts):
    root = harness.tempfile.mkdtemp(prefix='releasemgr-memcheck-')
    # started as root, the pool becomes its user, and valgrind writes a
    # forked worker's log as that user
    os.chmod(root, 0o1777)
    wrapper = ('valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full '
               '--show-leak-kinds=definite --errors-for-leak-kinds=definite '
               '--suppressions=%s --log-file=%s/valgrind.%%p.log%s'
               % (SUPPRESSIONS, root, ' --track-origins=yes' if opts.track_origins else ''))
    server = seeded_server('memcheck', {'RELEASEMGR_POOL_WRAPPER': wrapper})
    failures = []
    try:
        figures = run_mix(server, opts.valgrind_seconds, 8, 10 ** 6)
        failures += mix_failures('memcheck', figures)
        clean = server.stop()
        if not clean:
            failures.append('memcheck: the pool did not stop cleanly under valgrind')
        logs = sorted(glob.glob(os.path.join(root, 'valgrind.*.log')))
        dirty = {}
        for path in logs:
            text = open(path, errors='replace').read()
            if text.strip():     # -q: a log holds something only on an error
                dirty[path] = text
        print('memcheck: %d requests in %d s under valgrind, %d answers other than 200; '
              '%d processes checked, %d with errors'
              % (figures['requests'], opts.valgrind_seconds, figures['non200'], len(logs),
                 len(dirty)))
        if len(logs) < 3:
            failures.append('memcheck: only %d valgrind logs (supervisor, workers, '
                            'maintainer expected)' % len(logs))
        for path, text in dirty.items():
            failures.append('memcheck: %s:\n%s' % (path, text[:3000]))
    finally:
        server.cleanup()
        harness.shutil.rmtree(root, ignore_errors=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=int, default=600)
    parser.add_argument('--valgrind-seconds', type=int, default=60)
    parser.add_argument('--rss-growth-mib', type=float, default=2.0)
    parser.add_argument('--skip-memcheck', action='store_true')
    parser.add_argument('--skip-soak', action='store_true')
    parser.add_argument('--track-origins', action='store_true',
                        help="valgrind's --track-origins=yes, to explain a report")
    opts = parser.parse_args()
    failures = [] if opts.skip_soak else soak(opts)
    if not opts.skip_memcheck:
        failures += memcheck(opts)
    for failure in failures:
        print('FAIL ' + failure)
    print('soak: %s' % ('passed' if not failures else '%d failures' % len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
