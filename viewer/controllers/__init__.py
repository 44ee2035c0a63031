"""Controllers: the Qt glue between the window, the widgets and the Qt-free packages (loading,
detection, measuring, review). No widgets are defined here."""
