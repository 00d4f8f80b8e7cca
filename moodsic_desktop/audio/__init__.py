"""Audio: the library index, decoding and resampling (``decoding``), the crossfading playback engine
(``engine``) and the built-in station.

No Qt here. Importing this package imports none of its modules, so it loads neither PortAudio nor soxr and
works on a machine without libportaudio2; ``moodsic_desktop.audio.engine`` also imports there and its
``status`` says what to install.
"""
