"""The PERCEIVE → STABILIZE → MATCH engine: numpy and scikit-learn only, no Qt, no OpenCV."""
