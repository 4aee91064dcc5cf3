"""Agents behind one interface: rule agents driven by YAML configs, and trained models."""

from thetagym.policies.base import Policy, PolicyContext, split_masks

__all__ = ["Policy", "PolicyContext", "split_masks"]
