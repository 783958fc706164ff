from django.db import models

from .crypto import KEY_ID_MAX_LENGTH


class StoredSecret(models.Model):
    """One encrypted value. ``owner`` names the record it belongs to (e.g. ``setup:42``)."""

    owner = models.CharField(max_length=64)
    field = models.CharField(max_length=32)
    key_id = models.CharField(max_length=KEY_ID_MAX_LENGTH)
    nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "field"], name="one_secret_per_owner_field")]

    def __str__(self):
        # Never the value: only where it belongs.
        return f"{self.owner} {self.field} (key {self.key_id})"
