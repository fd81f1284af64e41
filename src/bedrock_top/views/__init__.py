"""What the screen and the table show, as data: the column registry, which rows in which order,
cell text, sparklines, charts. Pure: no Textual, no rich.
"""
