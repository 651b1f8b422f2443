"""Fault choreographies, reusable across pairs: what happens, in what order, and what is judged."""
