"""The lineage browser: a Starlette app mounted at /lineage inside oTree's own server.

Enable it with one line in settings.py:  import admin_ext.enable
"""
