"""Messages between the GUI/CLI and the inference worker: frozen dataclasses, torch-free."""
