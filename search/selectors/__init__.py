"""Reads, by domain: search (vector, hybrid, captions), images, sessions, jobs, near-duplicates.

A selector reads and returns; it writes nothing and sends nothing. Writes, files and queues are services'.
"""
