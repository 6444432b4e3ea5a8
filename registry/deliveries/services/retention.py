"""The deliveries' part of the retention sweep (registry.services.retention): the
couriers' proof photos."""

from django.utils.translation import gettext_lazy as _

from registry.deliveries.models import DeliveryAttempt
from registry.services.retention import RetentionRule, files_remover

# The photo's time runs from the visit. The attempt stays (who, when, the outcome, the
# recipient), with the time its photo was removed.
DELIVERY_PHOTOS = RetentionRule(
    name="delivery_photos", limit="delivery_photos", label=_("delivery proof photos"),
    due=lambda before: DeliveryAttempt.objects.filter(at__lt=before).exclude(photo=""),
    remove=files_remover(DeliveryAttempt, "photo", "photo_removed_at"),
    dated_by="at",
)
