"""The playing session: assembly of experts and library, the programme (what plays) and its library guard,
the engine's notices, and the Qt-free session that the window, ``moodsic analyze`` and the self-test drive."""
