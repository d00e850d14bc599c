"""The hardening probes of tests/load/probe_hardening.py, one module per family."""
