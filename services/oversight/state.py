"""The oversight service's typed state: its outbound clients and its mail sender."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.kernel.client import ServiceDirectory
from services.kernel.mail import MailSender
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow
from services.oversight.service.links import LinkChecker
from services.oversight.settings import OversightSettings


@dataclass
class OversightState:
    settings: OversightSettings
    directory: ServiceDirectory
    mail: MailSender = field(default_factory=MailSender)
    probe: OutboundClient = field(init=False)
    outbound: OutboundClient = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        # Only the probe may reach the gateway's own (usually loopback or private) address.
        self.probe = OutboundClient(
            OutboundPolicy(
                allow=parse_allow(s.oversight_probe_allow),
                deadline_seconds=s.oversight_probe_deadline_seconds,
            )
        )
        self.outbound = OutboundClient(OutboundPolicy(deadline_seconds=s.oversight_link_deadline_seconds))

    @property
    def probe_base(self) -> str:
        return self.settings.oversight_probe_url or self.settings.public_url

    def link_checker(self) -> LinkChecker:
        s = self.settings
        hosts = {h.strip().lower() for h in s.oversight_internal_hosts.split(",") if h.strip()}
        return LinkChecker(
            self.directory,
            self.outbound,
            hosts,
            internal_secret=s.internal_client_secret,
            source=s.oversight_source,
            concurrency=s.oversight_link_concurrency,
            host_interval=s.oversight_link_host_interval_seconds,
        )
