"""What several test modules share: shops, helpers and stand-ins. A test module takes what it shares from here
(or a fixture from ``conftest.py``), never from another test module, so each can be read, run and changed alone.
"""
