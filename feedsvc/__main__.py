"""``python -m feedsvc``: the command line, see :mod:`feedsvc.cli`."""

from feedsvc.cli import main

if __name__ == "__main__":
    main()
