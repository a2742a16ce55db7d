"""The platform's roles: one vocabulary for identity (which grants them) and every service (which checks them).

三员分立: the three administrator kinds are separate people — the system administrator
(platform_admin), the security administrator (security_admin) and the audit administrator
(audit_admin); they are platform-wide only. Site roles may be bound to one site or
platform-wide (site = null).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    SECURITY_ADMIN = "security_admin"
    AUDIT_ADMIN = "audit_admin"
    SITE_ADMIN = "site_admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    CITIZEN = "citizen"


# The three administrators of 三员分立, each of whom nobody of another kind may manage.
ADMIN_ROLES: tuple[Role, ...] = (Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
# Roles that may be bound to one site.
SITE_ROLES: tuple[Role, ...] = (Role.SITE_ADMIN, Role.EDITOR, Role.REVIEWER, Role.AUDITOR)
# Anyone who works on a site's non-public material (reads drafts, stored resources, inboxes).
SITE_STAFF_ROLES: tuple[Role, ...] = SITE_ROLES
# Roles a review-chain step may name: people whose work is to review, never the author's kind.
REVIEWER_ROLES: tuple[Role, ...] = (Role.REVIEWER, Role.SITE_ADMIN)
# Every role identity can grant.
GRANTABLE_ROLES: tuple[Role, ...] = (*ADMIN_ROLES, *SITE_ROLES, Role.CITIZEN)
