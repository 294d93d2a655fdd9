"""run_suite.py DIR: runs the unittest files test_*.py of DIR verbosely and
ends with one machine-readable line for scripts/test.sh:
RESULT tests=N failures=F errors=E skipped=S"""
import os, sys, unittest

d = os.path.abspath(sys.argv[1])
sys.path.insert(0, d)
suite = unittest.defaultTestLoader.discover(d, pattern="test_*.py", top_level_dir=d)
res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
print(f"RESULT tests={res.testsRun} failures={len(res.failures)} errors={len(res.errors)} "
      f"skipped={len(res.skipped)}")
sys.exit(0 if res.wasSuccessful() else 1)
