"""The daily report: CSV files for managers and an email summary, built with pandas from SQL that reads only the
day, the window or the active work, never the whole history.

- :mod:`~orderflow.reports.daily`: the report's day, its frames, the files, and :func:`~orderflow.reports.daily.
  daily_report`, the one function ``orderflow report daily`` calls;
- :mod:`~orderflow.reports.scorecard`: each vendor over the last 30 days;
- :mod:`~orderflow.reports.queue_then`: the staff queue as it stood at an instant, from its history;
- :mod:`~orderflow.reports.trends`: each day's headline figures as of its end, for comparisons and charts;
- :mod:`~orderflow.reports.charts`: the pictures (matplotlib, the ``charts`` extra);
- :mod:`~orderflow.reports.period`: ``orderflow report trends``, the charts and daily figures for a period;
- :mod:`~orderflow.reports.summary`: the email's HTML and plain-text summary, from templates a shop can replace;
- :mod:`~orderflow.reports.send`: the email, once per day unless re-sent on purpose;
- :mod:`~orderflow.reports.cells`: reading frames from SQL, and cells as people read them (dates, money, rates);
- :mod:`~orderflow.reports.business_days`: business days between many pairs of instants at once.

pandas is imported by these modules, so only commands that build a report import them.
"""
