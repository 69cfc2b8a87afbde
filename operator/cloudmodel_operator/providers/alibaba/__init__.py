"""Alibaba Cloud: Hologres AI nodes (`alibaba-hologres`) and AI guardrails (`alibaba-guardrail`)."""
