"""memaug_bringup: stack descriptions, launchers, recorder, summaries and reports."""
