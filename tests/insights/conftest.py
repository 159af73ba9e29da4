from __future__ import annotations

from tests.chat.test_conversation_filters import knows_opening_hours  # noqa: F401 (fixture: retrieval that knows one thing)
from tests.inbox.conftest import desk, desk_factory  # noqa: F401 (fixtures: a help desk with a widget bot)
