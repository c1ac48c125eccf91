"""Reads, one module per idea (writes are in ``grants.services``).

Views and services import the module that says what they read:
``selectors.applications`` (an application's links, status token, API reply),
``selectors.budgets`` (the budget arithmetic), ``selectors.dashboard``, ``selectors.queue``,
``selectors.lodges``, ``selectors.timeline``, ``selectors.health`` (the health page's panels).
"""
