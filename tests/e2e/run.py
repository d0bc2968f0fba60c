#!/usr/bin/env python3
"""Run the releasemgr end-to-end suite.

Usage: python3 tests/e2e/run.py [pattern ...]

Each pattern selects tests by their full name (module.Class.method), like
unittest's -k: a plain word matches as a substring ("crash", "Auth",
"test_seed"), a pattern with * ? [ is a shell-style glob. A test runs
when any pattern selects it.

Prints the usual unittest output (stderr) and finally one line on stdout:
    e2e: N passed, N failed[, N skipped]
Subtests count one each; a test without subtests counts once. Exits 1 if
anything failed or errored (or nothing matched), 0 otherwise.
"""

import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class CountingResult(unittest.TextTestResult):
    """TextTestResult that also counts passed/failed/skipped units."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = self.failed = self.skipped_count = 0
        self._with_subtests = set()

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        self._with_subtests.add(test.id())
        if err is None:
            self.passed += 1
        else:
            self.failed += 1

    def addSuccess(self, test):
        super().addSuccess(test)
        if test.id() not in self._with_subtests:
            self.passed += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed += 1

    def addError(self, test, err):   # also setUpClass/setUpModule errors
        super().addError(test, err)
        self.failed += 1

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_count += 1

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed += 1


def _interrupt(signum, frame):
    # KeyboardInterrupt is not swallowed by unittest, so servers are cleaned
    # up by the harness's atexit handler.
    raise KeyboardInterrupt('signal %d' % signum)


def main(argv):
    if any(arg in ('-h', '--help') for arg in argv[1:]):
        sys.stderr.write(__doc__)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    loader = unittest.TestLoader()
    if len(argv) > 1:
        loader.testNamePatterns = [pattern if any(c in pattern for c in '*?[')
                                   else '*%s*' % pattern for pattern in argv[1:]]
    suite = loader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    sys.stderr.flush()
    line = 'e2e: %d passed, %d failed' % (result.passed, result.failed)
    if result.skipped_count:
        line += ', %d skipped' % result.skipped_count
    print(line, flush=True)
    if result.testsRun == 0:
        sys.stderr.write('e2e: no test matched\n')
        return 1
    return 1 if result.failed or not result.wasSuccessful() else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
