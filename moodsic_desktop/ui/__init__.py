"""Qt user interface: main window, capture worker, charts, widgets and settings."""
