"""The Qt threading bridge between the UI and the engines; knows only the core protocol."""
