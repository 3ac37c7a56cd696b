"""Duplicate persons (P-14, issue 4): detection, review, merge and undo.

Modules:
- `records`: the plain values the engine works on (`PersonRecord`, `Comparison`).
- `normalise`, `scoring`, `blocking`: pure rules (no ORM): name folding, tokens and nicknames;
  the comparison of two records with its explanation; the cheap keys that make candidate pairs.
- `synthetic`: a labelled synthetic register (duplicates with realistic errors, households
  with siblings and twins) for tests and benchmarks.
- `detection`: the full run in chunks that several workers share, and the incremental check.
- `candidates`: staff decisions on candidate pairs (mark by hand, not a duplicate).
- `merging`: the merge wizard's service and its undo.
- `importing`: `import_persons` from a CSV file.
"""
