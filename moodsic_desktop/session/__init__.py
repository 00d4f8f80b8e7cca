"""The playing session: assembly of experts and library, the library guard, and the Qt-free session that
the window, ``moodsic analyze`` and the self-test drive."""
