"""Settings of the interaction service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from pydantic import Field

from services.kernel.settings import ServiceSettings


class InteractionSettings(ServiceSettings):
    service_name: str = "interaction"
    # Anonymous letters per client network (an IPv6 /64 or one IPv4 address): a burst, then a rate.
    interaction_anonymous_burst: int = 5
    interaction_anonymous_per_hour: float = 10.0
    # How often the deadline worker looks for reminders and overdue letters.
    interaction_sweep_seconds: float = 60.0
    # Online interviews: the live stream's heartbeat (below the gateway's upstream timeout), how
    # often each process's publisher reads new entries, the replay ring and each reader's queue.
    interview_stream_ping_seconds: float = 10.0
    interview_stream_poll_seconds: float = 0.15
    interview_stream_ring: int = 1000
    interview_stream_queue: int = 1000
    interview_stream_max_readers: int = 20_000
    # A stalled reader's socket write gives up after this long (the reader reconnects).
    interview_stream_send_timeout: float = 30.0
    # Questions per signed-in citizen: a burst, then a rate.
    interview_question_burst: int = 5
    interview_question_per_hour: float = 30.0
    # Subscriptions: the HMAC secret of confirmation and unsubscribe links (unset: the routes
    # answer 503 rather than sign with a guessable key), the public origin those links and the
    # items' links start with, and the sender's pace, retries and backoff.
    subscription_secret: str = ""
    subscription_public_url: str = "https://www.jiyue.example"
    subscription_confirm_max_age_seconds: int = 7 * 24 * 3600
    subscription_send_batch: int = 200
    subscription_idle_seconds: float = 1.0
    subscription_max_attempts: int = 8
    subscription_retry_base_seconds: float = 5.0
    subscription_retry_max_seconds: float = 3600.0
    # Archived interview transcripts become content publications: the site's column for them
    # (matched by code, then by name) when an interview names none, the library genre, and the
    # worker's poll, lease, retries and backoff.
    interview_transcript_column: str = "在线访谈"
    interview_transcript_genre: str = "qita"
    interview_transcript_poll_seconds: float = 5.0
    interview_transcript_lease_seconds: float = 120.0
    interview_transcript_max_attempts: int = 8
    interview_transcript_retry_base_seconds: float = 10.0
    # Digests: sent at this local hour (Asia/Shanghai) after their day (or Monday-to-Sunday week)
    # closed; how often the digest worker looks.
    subscription_digest_hour: int = Field(7, ge=0, le=23)
    subscription_digest_interval_seconds: float = 60.0
    # A claimed delivery is another sender's to retry after this long (a crash mid-send).
    subscription_lease_seconds: float = 300.0
    # Permanent (5xx) refusals in a row before a subscription is suspended.
    subscription_max_bounces: int = 3
    # Messages in flight per sender, and the e-mail channel's rate per replica (0: unlimited).
    subscription_send_concurrency: int = 8
    subscription_email_per_second: float = 50.0
    subscription_email_burst: float = 0.0
