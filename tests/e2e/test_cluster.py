"""A replication group of three sites on loopback, each a whole release
manager (launcher, nginx, pool, store) with its own data directory, joined
by Berkeley DB's replication manager: the group forms from the settings
alone, deploys go through every site at once with a journal of every
answer, the master's whole site is killed with kill -9 (and restarted on
its data) or stopped with SIGSTOP (and continued), and a replica is asked
for a system version it does not hold yet. After each, every acknowledged
deploy is in the history, and every site's history is the same, gapless.

RELEASEMGR_CLUSTER_ROUNDS sets the kill rounds (1; make soak: 5). Every
election time measured is printed."""

import json
import os
import signal
import sys
import threading
import time
import unittest

import harness
from harness import (HOST, E2ETestCase, Server, ack_errors, fetch_snapshots,
                     free_port, paged, sequence_errors, unique_env, wait_until)

ROUNDS = int(os.environ.get('RELEASEMGR_CLUSTER_ROUNDS', '1'))
SITES = 3
CLIENT_TIMEOUT = 3.0      # one deploy of the load; no answer is "not acknowledged"
ELECTION_TIMEOUT = 30.0   # a new master, and deploys acknowledged again
CONVERGE_TIMEOUT = 30.0   # every site holding what the master holds
STOP_SECONDS = 4.0        # SIGSTOP: longer than four missed heartbeats (2 s)


def report(line):
    """A measured figure, for the log of the run."""
    sys.stderr.write('\n    cluster: %s\n' % line)
    sys.stderr.flush()


class Cluster:
    """Three sites, each naming the two others as its peers."""

    def __init__(self, label, settings=None):
        self.addresses = ['%s:%d' % (HOST, free_port()) for _ in range(SITES)]
        self.sites = []
        for i, address in enumerate(self.addresses):
            config = {'replication_site': address,
                      'replication_peers': ', '.join(
                          a for a in self.addresses if a != address)}
            config.update(settings or {})
            self.sites.append(Server(workers=2, label='%s-site%d' % (label, i + 1),
                                     config=config))

    def start(self, order=None, pause=0.0):
        """Starts every site (in order, pause seconds apart, without waiting
        for one to be ready before the next), then waits for all of them."""
        errors = []

        def start(site):
            try:
                site.start(timeout=60)
            except Exception as exc:   # reported below
                errors.append(exc)
        threads = []
        for i in order or range(SITES):
            thread = threading.Thread(target=start, args=(self.sites[i],))
            thread.start()
            threads.append(thread)
            time.sleep(pause)
        for thread in threads:
            thread.join(90)
        if errors:
            raise AssertionError('a site did not start: %s' % errors[0])
        return self

    def cleanup(self):
        for site in self.sites:
            site.cleanup()

    def view(self, i, timeout=2.0):
        """GET /cluster of site i, or None when it does not answer."""
        try:
            resp = self.sites[i].request('GET', '/cluster', timeout=timeout)
        except OSError:
            return None
        return resp.json() if resp.status == 200 else None

    def master(self, live=None, timeout=ELECTION_TIMEOUT):
        """The index of the one master that every live site names."""
        live = range(SITES) if live is None else live

        def agreed():
            views = [self.view(i) for i in live]
            if any(v is None for v in views):
                return None
            masters = [i for i, v in zip(live, views) if v['role'] == 'master']
            named = {v['master'] for v in views}
            if len(masters) == 1 and named == {self.addresses[masters[0]]}:
                return masters[0] + 1
            return None
        return wait_until(agreed, timeout, 'one master named by every site') - 1

    def deploy(self, i, name, version, environment, timeout=ELECTION_TIMEOUT):
        """Deploys through site i as a client is told to: a 503 answer is
        resent after its Retry-After, until timeout; returns the last answer
        and how many times it was resent."""
        deadline = time.monotonic() + timeout
        resent = 0
        while True:
            resp = self.sites[i].deploy(name, version, environment)
            if resp.status != 503 or time.monotonic() >= deadline:
                return resp, resent
            time.sleep(min(float(resp.headers.get('retry-after', '1')), 1.0))
            resent += 1

    def current(self, i, environment):
        """Site i's current system version of environment (None: no answer)."""
        try:
            resp = self.sites[i].request('GET', '/status?environment=' + environment,
                                         headers={'Cache-Control': 'no-cache'})
        except OSError:
            return None
        return resp.json()['systemVersion'] if resp.status == 200 else None

    def converge(self, environment, live=None, timeout=CONVERGE_TIMEOUT):
        """Waits until every live site holds the system version that the
        master has now (deploys may go on); returns it."""
        live = range(SITES) if live is None else live
        target = self.current(self.master(live), environment)

        def holds():
            versions = [self.current(i, environment) for i in live]
            return None not in versions and min(versions) >= target
        wait_until(holds, timeout, 'every site at system version %s' % target)
        return target


class Load:
    """Deploying clients, each sending one service's next version to one
    site again and again, with a journal of every answer."""

    def __init__(self, cluster, environment, clients=6):
        self.cluster = cluster
        self.environment = environment
        self.clients = clients
        self.targets = list(range(SITES))    # the sites the clients use
        self.journal = []                    # (t_sent, t_answered, site, name, version, status, body)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def start(self):
        for k in range(self.clients):
            thread = threading.Thread(target=self._client, args=(k,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT + 10)
        self.threads = []

    def _client(self, k):
        name = 'svc-%d' % k
        version = 0
        while not self.stopping.is_set():
            version += 1
            targets = self.targets
            site = targets[(k + version) % len(targets)]
            sent = time.monotonic()
            try:
                resp = self.cluster.sites[site].deploy(name, version, self.environment,
                                                       timeout=CLIENT_TIMEOUT)
                status, body = resp.status, resp.body
            except OSError:
                status, body = None, b''
            with self.lock:
                self.journal.append((sent, time.monotonic(), site, name, version, status,
                                     body))
            if status != 200:
                time.sleep(0.05)

    def acks(self):
        """[(name, version, N)] of every deploy answered 200."""
        with self.lock:
            return [(name, version, int(body)) for _, _, _, name, version, status, body
                    in self.journal if status == 200]

    def first_ack_after(self, t):
        """When the first deploy sent after t was answered 200 (None: none)."""
        with self.lock:
            times = [answered for sent, answered, _, _, _, status, _ in self.journal
                     if status == 200 and sent >= t]
        return min(times) if times else None

    def answers(self):
        """{'status' or 'status type': count} over the journal; None: no answer."""
        counts = {}
        with self.lock:
            for entry in self.journal:
                key = str(entry[5])
                if entry[5] not in (200, None):
                    try:
                        key += ' ' + json.loads(entry[6])['type']
                    except (ValueError, KeyError, TypeError):
                        pass
                counts[key] = counts.get(key, 0) + 1
        return counts


class ClusterTest(E2ETestCase):
    """One group of three sites per test."""

    def make_cluster(self, **kwargs):
        cluster = Cluster(self._testMethodName[:24], **kwargs)
        self.addCleanup(cluster.cleanup)
        return cluster

    def check_history(self, cluster, environment, acks, live=None):
        """Every live site has the same gapless history, holding every
        acknowledged deploy; returns its length."""
        live = list(range(SITES) if live is None else live)
        current = cluster.converge(environment, live)
        histories = [paged(cluster.sites[i], '/systemversions', environment) for i in live]
        numbers = [item['systemVersion'] for item in histories[0]]
        self.assertEqual(numbers, list(range(current, 0, -1)),
                         'the history has a gap or an extra version')
        for i, history in zip(live[1:], histories[1:]):
            self.assertEqual(history, histories[0], 'site %d has another history than '
                             'site %d' % (i + 1, live[0] + 1))
        snaps = fetch_snapshots(cluster.sites[live[0]], environment, current)
        self.assertEqual(sequence_errors(snaps), [])
        self.assertEqual(ack_errors(snaps, acks), [])
        return current

    def test_a_group_forms_from_its_settings_in_any_order(self):
        cluster = self.make_cluster().start(order=[2, 1, 0], pause=1.0)
        master = cluster.master()
        # sites new to replication: the lowest address created the group
        self.assertEqual(cluster.addresses[master], min(cluster.addresses))
        for i in range(SITES):
            resp = cluster.sites[i].request('GET', '/cluster')
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.media_type, 'application/json')
            self.assertEqual(resp.headers.get('cache-control'), 'no-store')
            view = resp.json()
            self.assertEqual(view['site'], cluster.addresses[i])
            self.assertEqual(view['role'], 'master' if i == master else 'replica')
            self.assertEqual(view['master'], cluster.addresses[master])
            self.assertEqual(sorted(p['site'] for p in view['peers']),
                             sorted(a for a in cluster.addresses
                                    if a != cluster.addresses[i]))
        environment = unique_env('form')
        load = Load(cluster, environment).start()
        time.sleep(3)
        load.stop()
        acks = load.acks()
        report('deploys through all three sites: %d answered 200 (%r)'
               % (len(acks), load.answers()))
        self.assertGreater(len(acks), 30)
        current = self.check_history(cluster, environment, acks)
        report('every site holds the same %d system versions' % current)

        # a backup of a replica, taken while it serves
        replica = (master + 1) % SITES
        backup = os.path.join(cluster.sites[replica].root, 'backup')
        done = harness.admin(cluster.sites[replica].data_dir, 'backup', backup)
        self.assertEqual(done.returncode, 0, done.stderr.decode())

        # a site stopped and removed from the group: the others go on
        removed = (master + 2) % SITES
        live = [i for i in range(SITES) if i != removed]
        self.assertTrue(cluster.sites[removed].stop())
        resp = cluster.sites[master].request(
            'DELETE', '/cluster/sites/' + cluster.addresses[removed])
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual([p['site'] for p in resp.json()['peers']],
                         [cluster.addresses[replica]])
        for i in live:
            wait_until(lambda: [p['site'] for p in cluster.view(i)['peers']] ==
                       [cluster.addresses[j] for j in live if j != i], 10,
                       'site %d no longer listing the removed one' % (i + 1))
        self.assertEqual(cluster.sites[replica].deploy('after-removal', 1,
                                                       environment).status, 200)
        for path, status, ptype, parameter in (
                ('/cluster/sites/' + cluster.addresses[removed], 404,
                 '/problems/not-found', None),
                ('/cluster/sites/' + cluster.addresses[master], 400,
                 '/problems/invalid-parameter', 'site'),
                ('/cluster/sites/nowhere', 400, '/problems/invalid-parameter', 'site')):
            resp = cluster.sites[replica].request('DELETE', path)
            self.assertProblem(resp, status, ptype, parameter=parameter)
        # started again on its data, it joins again and catches up
        cluster.sites[removed].start(timeout=60)
        cluster.master()
        for i in range(SITES):
            wait_until(lambda: len(cluster.view(i)['peers']) == SITES - 1, 20,
                       'site %d listing both others again' % (i + 1))
        current = self.check_history(cluster, environment, acks)

        # stopped, every site's store passes verify, with the same history
        for site in cluster.sites:
            self.assertTrue(site.stop())
        summaries = set()
        for site in cluster.sites:
            done = harness.admin(site.data_dir, 'verify')
            self.assertEqual(done.returncode, 0, done.stderr.decode())
            lines = [line for line in (done.stdout + done.stderr).decode().splitlines()
                     if 'verify: ' in line and 'faults' in line]
            self.assertTrue(lines, done.stderr.decode())
            summaries.add(lines[-1].split('verify: ')[-1])
        self.assertEqual(len(summaries), 1, summaries)
        report('verify on every site: %s' % summaries.pop())

    def test_kill_of_the_master_elects_another_and_loses_nothing(self):
        cluster = self.make_cluster().start()
        environment = unique_env('kill')
        load = Load(cluster, environment).start()
        try:
            for round_number in range(ROUNDS):
                time.sleep(1.5)
                master = cluster.master()
                live = [i for i in range(SITES) if i != master]
                load.targets = live
                killed_at = time.monotonic()
                self.assertEqual(cluster.sites[master].kill_group(), [])
                new_master = cluster.master(live)
                elected = time.monotonic() - killed_at
                acked = wait_until(lambda: load.first_ack_after(killed_at),
                                   ELECTION_TIMEOUT, 'a deploy acknowledged after the kill')
                report('round %d: site %d killed; site %d is the master after %.2f s, '
                       'deploys acknowledged again after %.2f s'
                       % (round_number + 1, master + 1, new_master + 1, elected,
                          acked - killed_at))
                # what was acknowledged so far is on the new master
                acks = load.acks()
                held = cluster.converge(environment, live)
                self.assertEqual(ack_errors(fetch_snapshots(
                    cluster.sites[new_master], environment, held),
                    [ack for ack in acks if ack[2] <= held]), [])
                self.assertLessEqual(max(ack[2] for ack in acks), held)
                restarted_at = time.monotonic()
                cluster.sites[master].start(timeout=60)
                load.targets = list(range(SITES))
                cluster.converge(environment)
                report('round %d: site %d restarted on its data and caught up in %.2f s'
                       % (round_number + 1, master + 1, time.monotonic() - restarted_at))
        finally:
            load.stop()
        current = self.check_history(cluster, environment, load.acks())
        report('after %d rounds: %d system versions, the same on every site; answers %r'
               % (ROUNDS, current, load.answers()))

    def test_a_master_stopped_and_continued_leaves_one_master(self):
        cluster = self.make_cluster().start()
        environment = unique_env('stop')
        load = Load(cluster, environment).start()
        try:
            time.sleep(1.5)
            master = cluster.master()
            live = [i for i in range(SITES) if i != master]
            stopped = cluster.sites[master]
            stopped_at = time.monotonic()
            os.killpg(stopped.pgid, signal.SIGSTOP)
            try:
                new_master = cluster.master(live)
                elected = time.monotonic() - stopped_at
                time.sleep(max(0.0, STOP_SECONDS - elected))
            finally:
                os.killpg(stopped.pgid, signal.SIGCONT)
            report('site %d stopped; site %d is the master after %.2f s'
                   % (master + 1, new_master + 1, elected))
            self.assertNotEqual(new_master, master)
            # the old master meets the new one: one of them steps down
            cluster.master()
            time.sleep(1.5)
        finally:
            load.stop()
        current = self.check_history(cluster, environment, load.acks())
        report('after the stop: one master, %d system versions on every site; '
               'answers %r' % (current, load.answers()))

    def test_a_site_added_later_joins_through_one_member(self):
        cluster = self.make_cluster().start()
        cluster.master()
        environment = unique_env('add')
        resent = 0
        for version in range(1, 21):
            resp, times = cluster.deploy(version % SITES, 'api', version, environment)
            self.assertEqual(resp.status, 200, resp.describe())
            resent += times
        # a fourth site, new, that names one member only (a replica)
        joiner = (cluster.master() + 1) % SITES
        address = '%s:%d' % (HOST, free_port())
        site = Server(workers=2, label='%s-site4' % self._testMethodName[:24],
                      config={'replication_site': address,
                              'replication_peers': cluster.addresses[joiner]})
        self.addCleanup(site.cleanup)
        joined_at = time.monotonic()
        site.start(timeout=60)
        cluster.sites.append(site)
        cluster.addresses.append(address)
        master = cluster.master(range(SITES + 1))
        report('a fourth site joined through one member and serves after %.2f s '
               '(deploys resent on 503 while the group formed: %d)'
               % (time.monotonic() - joined_at, resent))
        for i in range(SITES + 1):
            wait_until(lambda: len(cluster.view(i)['peers']) == SITES, 20,
                       'site %d listing the three others' % (i + 1))
        # its copy is the group's, and it takes deploys like the others
        resp, _ = cluster.deploy(SITES, 'api', 21, environment)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(int(resp.body), 21)
        self.assertNotEqual(master, SITES, 'a new site became the master')
        self.check_history(cluster, environment, [('api', 21, 21)],
                           live=range(SITES + 1))

    def test_a_site_without_a_majority_is_alive_and_not_ready(self):
        cluster = self.make_cluster().start()
        master = cluster.master()
        for i in range(SITES):
            resp = cluster.sites[i].request('GET', '/readyz')
            self.assertEqual(resp.status, 200, resp.describe())
        environment = unique_env('ready')
        resp, _ = cluster.deploy(master, 'api', 1, environment)
        self.assertEqual(resp.status, 200, resp.describe())
        cluster.converge(environment)
        # the other replica stops, then the master: the last site, a
        # replica, cannot elect alone (stopped the other way round, the two
        # left could elect it first, a master without a majority)
        alone = (master + 1) % SITES
        for i in ((master + 2) % SITES, master):
            self.assertTrue(cluster.sites[i].stop())
        # it may still name the old master, which it no longer reaches
        wait_until(lambda: cluster.sites[alone].request('GET', '/readyz').status == 503,
                   ELECTION_TIMEOUT, 'site %d not ready' % (alone + 1))
        view = cluster.view(alone)
        self.assertTrue(all(not peer['connected'] for peer in view['peers']), view)
        resp = cluster.sites[alone].request('GET', '/readyz')
        self.assertProblem(resp, 503, '/problems/no-master')
        self.assertRetryAfter(resp)
        self.assertEqual(cluster.sites[alone].request('GET', '/healthz').status, 200)
        self.assertEqual(cluster.current(alone, environment), 1)
        # the others back: a master again, and every site ready
        for i in range(SITES):
            if i != alone:
                cluster.sites[i].start(timeout=60)
        cluster.master()
        for i in range(SITES):
            wait_until(lambda: cluster.sites[i].request('GET', '/readyz').status == 200,
                       ELECTION_TIMEOUT, 'site %d ready again' % (i + 1))

    def test_a_replica_asked_for_a_version_it_does_not_hold_yet_answers_it(self):
        cluster = self.make_cluster().start()
        master = cluster.master()
        replica, other = [i for i in range(SITES) if i != master]
        environment = unique_env('read')
        first = cluster.sites[master].deploy('api', 1, environment)
        self.assertEqual(first.status, 200, first.describe())
        cluster.converge(environment)
        # the replica's replication process stands still: it applies nothing
        supervisor = cluster.sites[replica].supervisor_pid()
        applier = [pid for pid in harness.children_of(supervisor)
                   if (harness.proc_stat(pid) or ()).comm == 'rm-maintainer']
        self.assertEqual(len(applier), 1)
        os.kill(applier[0], signal.SIGSTOP)
        try:
            resp = cluster.sites[master].deploy('web', 7, environment)
            self.assertEqual(resp.status, 200, resp.describe())
            version = int(resp.body)
            timer = threading.Timer(0.3, os.kill, (applier[0], signal.SIGCONT))
            timer.start()
            asked = time.monotonic()
            read = cluster.sites[replica].services(version, environment)
            waited = time.monotonic() - asked
        finally:
            os.kill(applier[0], signal.SIGCONT)
        self.assertEqual(read.status, 200, read.describe())
        self.assertEqual(harness.services_pairs(read), [('api', 1), ('web', 7)])
        report('a replica 0.3 s behind answered system version %d after %.2f s'
               % (version, waited))
        # what the master does not have either is not found, at once
        asked = time.monotonic()
        missing = cluster.sites[replica].services(version + 100, environment)
        self.assertEqual(missing.status, 404, missing.describe())
        self.assertLess(time.monotonic() - asked, 1.0)
        unknown = cluster.sites[other].request('GET', '/status?environment=' +
                                               unique_env('none'))
        self.assertEqual(unknown.status, 404, unknown.describe())


if __name__ == '__main__':
    unittest.main()
