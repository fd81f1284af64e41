"""The figures shown, computed from stored series: snapshots, totals, quotas, money, spikes.
Pure: no I/O, no Textual, no rich.
"""
