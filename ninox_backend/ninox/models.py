"""The Ninox call log and the sync engine's stored state."""

from __future__ import annotations

from django.db import models


class NinoxCall(models.Model):
    """One client call (with its retries), for quota counting and the health page."""

    at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=8)
    path_template = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    bytes_received = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.method} {self.path_template} → {self.status or self.error}"


class SyncState(models.Model):
    """Where the mirror of a Ninox database stands: its high-water mark and last run."""

    key = models.CharField(max_length=200, unique=True)
    high_water = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} @ {self.high_water}"


class StoredProfile(models.Model):
    """The capability profile ``manage.py ninox_doctor`` made for one account (see ``profile.py``)."""

    key = models.CharField(max_length=200, unique=True)
    data = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} profile @ {self.checked_at}"
