"""Perception: frame sources (OpenCV), face detection and cropping (MediaPipe), and the experts that turn
a frame or a face into a valence/arousal ``Estimate`` in reference space [-1, 1].

Everything here runs on the capture/pipeline thread; nothing here touches Qt. ``moodsic_desktop.core``
never imports this package; this package may import ``core``.
"""
