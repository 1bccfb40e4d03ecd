"""Protocol-faithful local fakes of the providers Parley talks to (OpenAI, Google).

They bind 127.0.0.1 only, answer with real synthesized speech and usage blocks, and record
what they received so tests and benchmarks can assert on it. Start them with
``python -m fakes`` (see ``stack.fakes``); nothing in ``agent/`` knows about them.
"""
