"""The music library: the SQLite index of the owner's songs (``index.LibraryIndex``; its rules in
``index``) and the moods of songs measured from their audio (``mood_features``, ``mood_estimation``).

Importing this package imports none of its modules: a worker process that analyses audio
(``mood_features``) loads neither SQLite nor scikit-learn through it. Import names from their modules.
"""
