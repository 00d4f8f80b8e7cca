"""The built-in station: a dozen short pieces spread over the V-A plane, used when no library exists.

One module per idea, each importable on its own (this package imports none of them, so asking for the
catalogue does not load the synthesis or soundfile):

* ``catalogue``: the twelve pieces' titles and targets in reference V-A space [-1, 1], as ``Song``s;
* ``theory``: how a target becomes musical choices (mode, key, tempo, register, brightness, density, drums)
  and the scale and chord arithmetic on MIDI note numbers;
* ``synthesis``: sound from notes: wavetable voices, drum one-shots and a convolution reverb, at a given
  sample rate in Hz;
* ``arrangement``: the form of a piece (intro, phrases, breakdown, final chord), bar by bar, and the stereo
  mix; ``render_piece`` turns a catalogue number into float32 samples;
* ``cache``: the pieces synthesised once into 16-bit FLAC files under ``music/builtin/``, checked against a
  manifest (``ensure_builtin_audio``).

Threads: ``builtin_songs``, ``piece_parameters`` and ``render_piece`` are pure (any thread).
``ensure_builtin_audio`` writes files and takes a few seconds the first time: call it from a worker thread or
the CLI, never from the GUI thread or the audio callback.
"""
