"""Request shapes for chatbots: bounds live here so bad input is a 400 naming the field."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from modelpilot.chatbots.slugs import SLUG_PATTERN

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Slug = Annotated[str, Meta(pattern=SLUG_PATTERN, description="must be 1-64 lower-case letters, digits or '-'")]
SystemPrompt = Annotated[str, Meta(max_length=20000)]
ModelName = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^\S+$",
                                description="must be one model name without spaces, e.g. openai/gpt-4o-mini")]
Temperature = Annotated[float, Meta(ge=0, le=2)]
MaxTokens = Annotated[int, Meta(ge=1, le=32000, title="Max answer tokens")]
Greeting = Annotated[str, Meta(max_length=1000)]
AccentColor = Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{6}$", title="Accent colour",
                                  description="must be a colour such as #4f46e5")]
Position = Literal["bottom-right", "bottom-left"]
StarterQuestions = Annotated[list[Annotated[str, Meta(min_length=1, max_length=200)]], Meta(max_length=6)]
AllowedOrigins = Annotated[list[Annotated[str, Meta(min_length=1, max_length=300)]], Meta(max_length=50)]
TopK = Annotated[int, Meta(ge=1, le=50, title="Chunks retrieved (top k)")]
ScoreThreshold = Annotated[float, Meta(ge=0, le=1)]


Clock = Annotated[str, Meta(max_length=5)]
Keyword = Annotated[str, Meta(min_length=1, max_length=60)]


class HandoffHours(msgspec.Struct, forbid_unknown_fields=True):
    timezone: Annotated[str, Meta(min_length=1, max_length=64)]
    weekly: dict[str, Annotated[list[Annotated[list[Clock], Meta(max_length=2)]], Meta(max_length=6)]]


class HandoffSettings(msgspec.Struct, forbid_unknown_fields=True):
    """handoff: whether visitors can ask for a person, how, and when someone is there."""
    enabled: bool = False
    button_label: Annotated[str, Meta(max_length=40)] = "Talk to a person"
    keywords: Annotated[list[Keyword], Meta(max_length=30)] = msgspec.field(
        default_factory=lambda: ["human", "agent", "talk to someone", "real person"])
    hours: HandoffHours | None = None
    offline_message: Annotated[str, Meta(max_length=1000)] = (
        "Nobody is available right now. Please leave your question and we will get back to you.")


class ToolRef(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One tool a bot may use: an HTTP action of the bot, a tool of a workspace MCP server, or a built-in."""
    type: Literal["action", "mcp", "builtin"]
    id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    server_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    tool: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    name: Literal["handoff", "collect_lead"] | None = None


Tools = Annotated[list[ToolRef], Meta(max_length=32)]
MaxToolRounds = Annotated[int, Meta(ge=1, le=8)]
class LeadFormField(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=40)]
    label: Annotated[str, Meta(max_length=80)]
    type: Literal["text", "email", "phone", "select"] = "text"
    required: bool = False
    options: Annotated[list[Annotated[str, Meta(max_length=100)]], Meta(max_length=50)] = msgspec.field(
        default_factory=list)


def _default_lead_fields() -> list[LeadFormField]:
    return [LeadFormField(name="email", label="Email", type="email", required=True)]


class LeadFormSettings(msgspec.Struct, forbid_unknown_fields=True):
    """lead_form: which details to ask a visitor for, and when (chatbots/lead_form_config.py)."""
    enabled: bool = False
    when: Literal["before_chat", "after_messages", "on_handoff", "when_unanswered"] = "before_chat"
    after_messages: Annotated[int, Meta(ge=1, le=50)] = 3
    fields: Annotated[list[LeadFormField], Meta(max_length=12)] = msgspec.field(default_factory=_default_lead_fields)
    consent_text: Annotated[str, Meta(max_length=2000)] = ""
    privacy_url: Annotated[str, Meta(max_length=2000)] | None = None


class CreateBotBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    slug: Slug | None = None  # None: derived from the name (chatbots/slugs.py)
    system_prompt: SystemPrompt = "You are a helpful assistant. Answer briefly and truthfully."
    model: ModelName | None = None  # None: the workspace's default (builtin/extractive without a provider)
    temperature: Temperature = 0.3
    max_tokens: MaxTokens = 800
    greeting: Greeting = "Hi! How can I help?"
    accent_color: AccentColor = "#4f46e5"
    position: Position = "bottom-right"
    starter_questions: StarterQuestions = msgspec.field(default_factory=list)
    allowed_origins: AllowedOrigins = msgspec.field(default_factory=list)
    published: bool = False
    top_k: TopK = 5
    score_threshold: ScoreThreshold = 0.0
    handoff: HandoffSettings = msgspec.field(default_factory=HandoffSettings)
    tools: Tools = msgspec.field(default_factory=list)
    max_tool_rounds: MaxToolRounds = 3
    lead_form: LeadFormSettings = msgspec.field(default_factory=LeadFormSettings)
    visitor_context: bool = False


class UpdateBotBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    system_prompt: SystemPrompt | UnsetType = UNSET
    model: ModelName | UnsetType = UNSET
    temperature: Temperature | UnsetType = UNSET
    max_tokens: MaxTokens | UnsetType = UNSET
    greeting: Greeting | UnsetType = UNSET
    accent_color: AccentColor | UnsetType = UNSET
    position: Position | UnsetType = UNSET
    starter_questions: StarterQuestions | UnsetType = UNSET
    allowed_origins: AllowedOrigins | UnsetType = UNSET
    published: bool | UnsetType = UNSET
    top_k: TopK | UnsetType = UNSET
    score_threshold: ScoreThreshold | UnsetType = UNSET
    handoff: HandoffSettings | UnsetType = UNSET
    tools: Tools | UnsetType = UNSET
    max_tool_rounds: MaxToolRounds | UnsetType = UNSET
    lead_form: LeadFormSettings | UnsetType = UNSET
    visitor_context: bool | UnsetType = UNSET
