#!/usr/bin/env python3
"""The manual pages: each one clean under mandoc's strictest lint, and
releasemgr.conf(5) true to the settings table.

  python3 tests/lint/man.py [--releasemgr cgi-bin/releasemgr] [docs/man]

mandoc -T lint -W style runs on each page, with the pages themselves on
the manual path (and indexed), so that the cross references between them
resolve; any message fails, but that a page of another package (nginx(8))
is not on that path. Then releasemgr.conf(5) must describe exactly
the settings that conf/releasemgr.conf sets (which the unit tests tie to
src/config.c's table), each once, with that file's value as its
"Default:", and each "Range: A to B." must be the range the program
enforces: A and B accepted, the value below A and the one above B
refused (asked of releasemgr --print-setting, which validates and starts
nothing)."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = ('releasemgr.8', 'releasemgr-admin.8', 'releasemgr-run.8', 'releasemgr.conf.5')
SHIPPED_CONF = os.path.join(ROOT, 'conf', 'releasemgr.conf')
# settings whose bounds can be tried only with another one set too
COMPANIONS = {'event_retention_days': 'audit_retention_days = 3650d\n',
              'audit_retention_days': 'event_retention_days = 1s\n'}


def foreign_reference(message):
    """True for mandoc's note that a page of another package (nginx(8))
    is not on the manual path: only these pages are, since what else a
    machine has installed, and indexed, varies."""
    found = re.search(r'referenced manual not found: Xr (\S+) (\S+)', message)
    return bool(found) and not found.group(1).startswith('releasemgr')


def lint(man_dir):
    """mandoc's messages about every page (an empty list: clean)."""
    problems = []
    with tempfile.TemporaryDirectory() as manpath:
        for page in PAGES:
            section = os.path.join(manpath, 'man' + page.rsplit('.', 1)[1])
            os.makedirs(section, exist_ok=True)
            shutil.copy(os.path.join(man_dir, page), section)
        index = subprocess.run(['makewhatis', manpath], capture_output=True, text=True)
        if index.returncode != 0:
            return ['makewhatis: ' + index.stderr.strip()]
        env = dict(os.environ, MANPATH=manpath)
        for page in PAGES:
            path = os.path.join(man_dir, page)
            done = subprocess.run(['mandoc', '-T', 'lint', '-W', 'style', path],
                                  capture_output=True, text=True, env=env)
            messages = [m for m in (done.stdout + done.stderr).splitlines()
                        if not foreign_reference(m)]
            if messages or (done.returncode != 0 and
                            not (done.stdout + done.stderr).strip()):
                problems.append('%s (exit %d):\n%s' % (page, done.returncode,
                                                        '\n'.join(messages)))
    return problems


def shipped_settings():
    """{name: value} of conf/releasemgr.conf."""
    settings = {}
    with open(SHIPPED_CONF, encoding='utf-8') as conf:
        for line in conf:
            line = line.split('#', 1)[0].strip()
            if line:
                name, value = (part.strip() for part in line.split('=', 1))
                settings[name] = value
    return settings


def documented_settings(page):
    """{name: {'default': text, 'range': (low, high) or None}} of the
    page's '.It Cm name' items, and the names documented more than once."""
    settings, twice, name = {}, [], None
    with open(page, encoding='utf-8') as source:
        for line in source:
            line = line.rstrip('\n')
            item = re.fullmatch(r'\.It Cm ([a-z_]+)', line)
            if item:
                name = item.group(1)
                if name in settings:
                    twice.append(name)
                settings[name] = {'default': None, 'range': None}
            elif line.startswith('.It ') or line.startswith('.El'):
                name = None
            elif name is not None:
                default = re.fullmatch(r'Default: (.*)\.', line)
                bounds = re.fullmatch(r'Range: (\S+) to (\S+)\.', line)
                if default:
                    settings[name]['default'] = default.group(1)
                elif bounds:
                    settings[name]['range'] = bounds.groups()
    return settings, twice


def accepted(releasemgr, name, value):
    """(True, '') when releasemgr takes name = value, else (False, why)."""
    with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
        conf.write(COMPANIONS.get(name, '') + '%s = %s\n' % (name, value))
        conf.flush()
        done = subprocess.run([releasemgr, '--config', conf.name, '--print-setting', name],
                              capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip()


def step(value, delta):
    """value (a number, maybe with a unit letter after it) moved by delta."""
    number, unit = re.fullmatch(r'(\d+)([a-z]?)', value).groups()
    return '%d%s' % (int(number) + delta, unit)


def check_settings(page, releasemgr):
    """What releasemgr.conf(5) says that the program does not do."""
    errors = []
    shipped = shipped_settings()
    documented, twice = documented_settings(page)
    errors += ['%s is documented twice' % name for name in twice]
    errors += ['%s is a setting (conf/releasemgr.conf sets it) but is not documented'
               % name for name in sorted(set(shipped) - set(documented))]
    errors += ['%s is documented but is no setting' % name
               for name in sorted(set(documented) - set(shipped))]
    for name in sorted(set(shipped) & set(documented)):
        said = documented[name]
        want = shipped[name] or 'empty'
        if said['default'] != want:
            errors.append('%s: the page says "Default: %s.", the default is %s'
                          % (name, said['default'], want))
        if said['range'] is None:
            if re.fullmatch(r'\d+', shipped[name]):
                errors.append('%s: a number, with no "Range: A to B."' % name)
            continue
        low, high = said['range']
        for value, want_ok in ((low, True), (high, True), (step(high, 1), False)) + (
                ((step(low, -1), False),) if not low.startswith('0') else ()):
            ok, why = accepted(releasemgr, name, value)
            if ok != want_ok:
                errors.append('%s = %s is %s by releasemgr, the page says Range: %s to %s%s'
                              % (name, value, 'accepted' if ok else 'refused', low, high,
                                 '' if ok else ' (%s)' % why))
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--releasemgr', default=os.path.join(ROOT, 'cgi-bin', 'releasemgr'))
    parser.add_argument('man_dir', nargs='?', default=os.path.join(ROOT, 'docs', 'man'))
    opts = parser.parse_args()
    missing = [p for p in PAGES if not os.path.exists(os.path.join(opts.man_dir, p))]
    if missing:
        print('man: missing pages: %s' % ', '.join(missing))
        return 1
    problems = lint(opts.man_dir)
    problems += check_settings(os.path.join(opts.man_dir, 'releasemgr.conf.5'),
                               opts.releasemgr)
    for problem in problems:
        print('man: ' + problem)
    if problems:
        return 1
    print('man: %d pages clean under mandoc -T lint -W style; releasemgr.conf(5) '
          'documents the %d settings, their defaults and ranges'
          % (len(PAGES), len(shipped_settings())))
    return 0


if __name__ == '__main__':
    sys.exit(main())
