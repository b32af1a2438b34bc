"""A new password or a deactivated account ends every API token the user holds."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from tests_catalog import services


@receiver(post_save, sender=get_user_model(), dispatch_uid="tests_catalog_tokens_revoke_on_user_save")
def tokens_revoke_on_password_or_deactivation(sender, instance, created, update_fields=None, **kwargs):
    if created:
        return
    # set_password() leaves the raw password on the instance until save() has run (Django clears
    # it right after post_save); a hash upgrade at login clears it first, so it does not count.
    if getattr(instance, "_password", None) is not None:
        services.user_tokens_revoke(user_id=instance.pk, reason="password_changed")
    elif not instance.is_active and (update_fields is None or "is_active" in update_fields):
        services.user_tokens_revoke(user_id=instance.pk, reason="deactivated")
