"""Lodges, applications, the budget rule, payments, reports and their tasks."""
