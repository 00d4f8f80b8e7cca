"""Audio: decoding and resampling (``decoding``) and the crossfading playback engine (``engine``).

No Qt here. Importing this package loads neither PortAudio nor soxr, so it works on a machine without
libportaudio2; ``moodsic_desktop.audio.engine`` also imports there and reports what to install.
"""
