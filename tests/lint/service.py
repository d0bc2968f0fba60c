#!/usr/bin/env python3
"""conf/releasemgr.service, the systemd unit of the pool, checked without a
running systemd:

  python3 tests/lint/service.py [--releasemgr cgi-bin/releasemgr]

The unit's placeholders are filled in with this checkout's programs and
configuration, and the manual pages it names are put on the manual path;
then systemd-analyze verify must say nothing at all, the hardening the
unit promises must be there, and its ExecStart must be a command line
that releasemgr accepts. systemd-analyze security's exposure level is
printed."""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, 'conf', 'releasemgr.service')
# directive: the value it must have ('' for empty); the service's own user,
# nothing writable but the store, no privileges, and sockets of its kind
# plus TCP for replication
HARDENING = {
    'User': 'releasemgr',
    'ProtectSystem': 'strict',
    'ReadWritePaths': '/var/lib/releasemgr',
    'NoNewPrivileges': 'yes',
    'PrivateTmp': 'yes',
    'ProtectHome': 'yes',
    'RestrictAddressFamilies': 'AF_UNIX AF_INET AF_INET6',
    'CapabilityBoundingSet': '',
    'SystemCallFilter': '@system-service',
}


def service_settings(text):
    """{directive: [values]} of the [Service] section."""
    settings, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            section = line
        elif section == '[Service]':
            name, value = line.split('=', 1)
            settings.setdefault(name, []).append(value)
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--releasemgr', default=os.path.join(ROOT, 'cgi-bin', 'releasemgr'))
    opts = parser.parse_args()
    releasemgr = os.path.abspath(opts.releasemgr)
    problems = []
    with open(UNIT, encoding='utf-8') as f:
        template = f.read()
    unit_text = (template.replace('@SBINDIR@', os.path.dirname(releasemgr))
                 .replace('@CONFIG@', os.path.join(ROOT, 'conf', 'releasemgr.conf')))
    left = re.findall(r'@[A-Z_]+@', unit_text)
    if left:
        problems.append('placeholders left: %s' % ', '.join(sorted(set(left))))
    with tempfile.TemporaryDirectory() as tmp:
        unit = os.path.join(tmp, 'releasemgr.service')
        with open(unit, 'w', encoding='utf-8') as f:
            f.write(unit_text)
        manpath = os.path.join(tmp, 'man')
        for page in os.listdir(os.path.join(ROOT, 'docs', 'man')):
            section = os.path.join(manpath, 'man' + page.rsplit('.', 1)[1])
            os.makedirs(section, exist_ok=True)
            shutil.copy(os.path.join(ROOT, 'docs', 'man', page), section)
        env = dict(os.environ, MANPATH=manpath)
        done = subprocess.run(['systemd-analyze', 'verify', unit], capture_output=True,
                              text=True, env=env, cwd=tmp)
        said = (done.stdout + done.stderr).strip()
        if done.returncode != 0 or said:
            problems.append('systemd-analyze verify (exit %d): %s' % (done.returncode, said))
        security = subprocess.run(['systemd-analyze', 'security', '--offline=yes', unit],
                                  capture_output=True, text=True, env=env, cwd=tmp)
        exposure = re.search(r'Overall exposure level for \S+: (\S+ \S+)', security.stdout)

    settings = service_settings(unit_text)
    for name, want in HARDENING.items():
        if want not in settings.get(name, []):
            problems.append('%s=%s is missing (it has %r)' % (name, want, settings.get(name)))
    # ExecStart's options are the program's: it validates them and starts nothing
    command = shlex.split(settings['ExecStart'][0])
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(command + ['--print-setting', 'socket'], capture_output=True,
                              text=True, cwd=tmp)
    if done.returncode != 0 or done.stdout.strip() != '/run/releasemgr/releasemgr.sock':
        problems.append('ExecStart is refused by releasemgr (exit %d): %s%s'
                        % (done.returncode, done.stdout, done.stderr))
    for problem in problems:
        print('service: ' + problem)
    if problems:
        return 1
    print('service: systemd-analyze verify clean; the hardening in place; exposure %s '
          '(systemd-analyze security)' % (exposure.group(1) if exposure else 'not reported'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
