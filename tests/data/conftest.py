# The notebooks here are submissions for the autograder (tests/test_assignments.py grades them),
# not notebooks for nbval to execute.
collect_ignore_glob = ["*.ipynb"]
