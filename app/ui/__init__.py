"""Qt widgets: the bar, its dialogs and tray icon. Thin: the logic lives in app.recording."""
