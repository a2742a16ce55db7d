"""Who may do what in federation: operators manage peers; a peer reads only what it was granted."""

from __future__ import annotations

from services.federation.models import Peer
from services.federation.vocab import SCOPE_TOPICS, PeerScope, PeerStatus
from services.kernel.auth import Principal
from services.kernel.errors import Forbidden
from services.kernel.roles import Role


def require_operator(principal: Principal) -> None:
    if principal.is_internal or principal.has_role(Role.PLATFORM_ADMIN):
        return
    raise Forbidden("互联平台由系统管理员（platform_admin）管理")


def require_reader(principal: Principal) -> None:
    """Peers' registries and links: the system administrator and platform-wide auditors."""
    if principal.is_internal or principal.has_any_role((Role.PLATFORM_ADMIN, Role.AUDITOR)):
        return
    raise Forbidden("需要系统管理员或全平台审计员角色")


def peer_client_id(principal: Principal) -> str | None:
    if principal.kind != "client":
        return None
    return principal.client_id or principal.sub


def peer_topics(principal: Principal, peer: Peer | None) -> list[str]:
    """The topics of our feed this peer's token opens: its client's scopes that the peer still
    holds here (a scope removed from the peer closes at once, whatever the token says)."""
    if peer is None or peer.status != PeerStatus.ACTIVE:
        raise Forbidden("仅限已登记的互联平台读取")
    granted = {PeerScope(s) for s in peer.scopes} & {s for s in PeerScope if principal.has_scope(s.value)}
    topics = sorted({t.value for s in granted for t in SCOPE_TOPICS.get(s, ())})
    if not topics:
        raise Forbidden("该互联平台未被授予读取本平台变更的权限范围")
    return topics


def require_peer_scope(principal: Principal, peer: Peer | None, scope: PeerScope) -> Peer:
    """A registered, active peer whose token carries `scope` and which still holds it here."""
    if peer is None or peer.status != PeerStatus.ACTIVE:
        raise Forbidden("仅限已登记的互联平台")
    if scope.value not in peer.scopes or not principal.has_scope(scope.value):
        raise Forbidden(f"该互联平台未被授予 {scope.value} 权限范围")
    return peer
