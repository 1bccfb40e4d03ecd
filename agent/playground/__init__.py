"""The playground: a local web page to try every mode from a browser (``python -m agent
playground``), and its small backend that opens rooms for it."""
