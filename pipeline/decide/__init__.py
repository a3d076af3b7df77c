"""The decision of CONTRACTS §9: households, income, support types and connection matching.

Each rule lives in one small function whose docstring cites its clause.
"""
