"""The ``moodsic`` command line; its entry point is :func:`moodsic_desktop.cli.main.main`."""
