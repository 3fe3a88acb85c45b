"""Writes of emergence, one module per concern; import them from here.

opportunities: opening, people, profiles, phases · discussion: posts, attachments, visits,
digests · team: role slots, nominations, endorsements · agreements, outcomes: see their modules.
"""

from confiance.emergence.services.common import (
    MAX_POST_LENGTH,
    QUIET_DAYS,
    handle_of,
    opportunity_link,
    participant_of,
)
from confiance.emergence.services.discussion import (
    ALLOWED_ATTACHMENTS,
    attachment_dir,
    digests_send,
    post_create,
    post_edit,
    visit_record,
)
from confiance.emergence.services.opportunities import (
    InviteResult,
    opportunity_invite,
    opportunity_invite_client,
    opportunity_open,
    opportunity_update,
    participant_bind_invitation,
    participant_decline,
    participant_join,
    participant_leave,
    participant_remove,
    participant_set_digest,
    phase_move,
    profile_update,
)
from confiance.emergence.services.team import (
    endorsement_add,
    nomination_accept,
    nomination_create,
    nomination_withdraw,
    nominations_settle,
    settle_date,
    slot_propose,
)

__all__ = [
    "ALLOWED_ATTACHMENTS",
    "MAX_POST_LENGTH",
    "QUIET_DAYS",
    "InviteResult",
    "attachment_dir",
    "digests_send",
    "endorsement_add",
    "handle_of",
    "nomination_accept",
    "nomination_create",
    "nomination_withdraw",
    "nominations_settle",
    "opportunity_invite",
    "opportunity_invite_client",
    "opportunity_link",
    "opportunity_open",
    "opportunity_update",
    "participant_bind_invitation",
    "participant_decline",
    "participant_join",
    "participant_leave",
    "participant_of",
    "participant_remove",
    "participant_set_digest",
    "phase_move",
    "post_create",
    "post_edit",
    "profile_update",
    "settle_date",
    "slot_propose",
    "visit_record",
]
