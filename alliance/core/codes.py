"""The shape of a client code (``C-7KQ3F``): what lists, links and exports show instead of a name.

Pure Python, so that the simulated clinic (alliance.demo) and intake (alliance.care.intake) share it.
"""

#: Unambiguous characters for codes read aloud or copied by hand: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY34679"
CODE_LENGTH = 5
CODE_PREFIX = "C-"
