"""Machine review (机器审查): privacy, spam and tampering, hidden markup, links, references."""

from services.resources.review.engine import Finding, Review, Reviewer, default_reviewer

__all__ = ["Finding", "Review", "Reviewer", "default_reviewer"]
