"""Writes of emergence, one module per concern; import them from here.

opportunities: opening, people, profiles, phases · discussion: posts, attachments, visits ·
team: role slots, nominations, endorsements · agreements, outcomes: see their modules.
"""

from confiance.core.attachments import ALLOWED_ATTACHMENTS
from confiance.emergence.services.agreements import (
    AGREEMENT_PHASES,
    acceptance_side,
    agreed_version,
    agreement_accept,
    agreement_start,
    clause_add,
    clause_comment,
    clause_edit,
    clause_remove,
    latest_version,
    terms_set,
)
from confiance.emergence.services.common import (
    MAX_POST_LENGTH,
    QUIET_DAYS,
    handle_of,
    opportunity_link,
    participant_of,
)
from confiance.emergence.services.discussion import (
    attachment_dir,
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
from confiance.emergence.services.outcomes import (
    opportunity_convert,
    opportunity_decline,
    partner_create,
    referral_record_received,
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
    "AGREEMENT_PHASES",
    "ALLOWED_ATTACHMENTS",
    "MAX_POST_LENGTH",
    "QUIET_DAYS",
    "InviteResult",
    "acceptance_side",
    "agreed_version",
    "agreement_accept",
    "agreement_start",
    "attachment_dir",
    "clause_add",
    "clause_comment",
    "clause_edit",
    "clause_remove",
    "endorsement_add",
    "handle_of",
    "latest_version",
    "nomination_accept",
    "nomination_create",
    "nomination_withdraw",
    "nominations_settle",
    "opportunity_convert",
    "opportunity_decline",
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
    "partner_create",
    "phase_move",
    "post_create",
    "post_edit",
    "profile_update",
    "referral_record_received",
    "settle_date",
    "slot_propose",
    "terms_set",
    "visit_record",
]
