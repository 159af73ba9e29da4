"""The chatbot as the rest of the code sees it: a typed, immutable row."""

from __future__ import annotations

import msgspec

from modelpilot.providers.stream import tool_support


class Bot(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    workspace_id: str
    name: str
    slug: str = ""  # chatbots/slugs.py: unique in the workspace; what /v1 and /mcp call the bot
    system_prompt: str
    model: str
    temperature: float
    max_tokens: int
    greeting: str
    accent_color: str
    position: str
    starter_questions: list[str]
    allowed_origins: list[str]
    published: bool
    top_k: int
    score_threshold: float
    handoff: dict = msgspec.field(default_factory=dict)  # chatbots/handoff_config.py: complete, with defaults
    tools: list[dict] = msgspec.field(default_factory=list)  # [{"type": "action"|"mcp"|"builtin", ...}]
    max_tool_rounds: int = 3
    lead_form: dict = msgspec.field(default_factory=dict)  # chatbots/lead_form_config.py: complete, with defaults
    visitor_context: bool = False  # a verified visitor's claims go to the prompt (chat/prompt.py)
    identity: dict = msgspec.field(default_factory=dict)  # {configured, created_at}; the secret never leaves the repo
    created_at: str
    updated_at: str

    def public(self) -> dict:
        """What the API returns: every field but the workspace (the path already names it)."""
        fields = msgspec.structs.asdict(self)
        del fields["workspace_id"]
        fields["tool_support"] = tool_support(self.model).public()
        return fields
