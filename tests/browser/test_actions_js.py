"""The actions editor's own logic, run in Chromium from the modules the server sends: the
parameters schema check and helper, sample arguments for the Test panel, what the sealed-headers
editor sends (null keeps a stored value, a removed row is left out) and the tool picks' keys."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def page(server, tab):
    tab.goto(f"{server.url}/api-docs.html")
    return tab


def run(page, module: str, body: str, arg=None):
    return page.evaluate(f"async (arg) => {{ const m = await import('/js/pages/{module}'); {body} }}", arg)


def test_schema_check_names_what_is_wrong_in_words(page) -> None:
    texts = ['{"type": "object", "properties": {}}', "", "{oops", "[]", '{"type": "string"}',
             '{"type": "object", "properties": []}', '{"type": "object", "required": "id"}']
    got = run(page, "schema_editor.js", "return arg.map((t) => { const r = m.parseSchema(t); return r.error || 'ok'; });", texts)
    assert got[0] == "ok"
    assert got[1] == 'Parameters must be a schema of "type": "object".'  # empty is {} without a type
    assert got[2].startswith("Parameters are not valid JSON: ")
    assert got[3] == "Parameters must be a JSON object (a JSON Schema)."
    assert got[4] == 'Parameters must be a schema of "type": "object".'
    assert got[5].startswith('"properties" must be an object')
    assert got[6] == '"required" must be a list of parameter names.'


def test_adding_and_removing_parameters_keeps_required_in_step(page) -> None:
    got = run(page, "schema_editor.js", """
      let s = m.EMPTY_SCHEMA;
      s = m.addParameter(s, { name: 'order_id', type: 'string', description: 'The order number', required: true });
      s = m.addParameter(s, { name: 'qty', type: 'integer', description: '', required: false });
      const both = JSON.parse(JSON.stringify(s));
      s = m.addParameter(s, { name: 'qty', type: 'number', description: '', required: true });  // redefined: required now
      const again = JSON.parse(JSON.stringify(s));
      s = m.removeParameter(s, 'order_id');
      return [both, again, s, m.EMPTY_SCHEMA];""")
    both, again, removed, empty = got
    assert both == {"type": "object", "properties": {"order_id": {"type": "string", "description": "The order number"},
                                                     "qty": {"type": "integer"}}, "required": ["order_id"]}
    assert again["properties"]["qty"] == {"type": "number"} and again["required"] == ["order_id", "qty"]
    assert removed == {"type": "object", "properties": {"qty": {"type": "number"}}, "required": ["qty"]}
    assert empty == {"type": "object", "properties": {}, "required": []}  # the helper never changes its input


def test_sample_arguments_follow_the_types(page) -> None:
    schema = {"type": "object", "properties": {"s": {"type": "string"}, "i": {"type": "integer"}, "b": {"type": "boolean"},
                                               "e": {"type": "string", "enum": ["red", "blue"]}, "x": {"type": "string", "example": "A-17"},
                                               "n": {"type": ["number", "null"]}}}
    assert run(page, "schema_editor.js", "return m.sampleArguments(arg);", schema) == {"s": "", "i": 1, "b": True, "e": "red", "x": "A-17", "n": 1}


def test_headers_editor_sends_null_to_keep_a_stored_value_and_drops_removed_ones(page) -> None:
    got = run(page, "headers_editor.js", """
      const ed = m.headersEditor({ stored: [{ name: 'Authorization', set: true }, { name: 'X-Old', set: true }] });
      document.body.append(ed.node);
      const untouched = ed.read();
      ed.node.querySelector('[aria-label="Remove header X-Old"]').click();
      ed.node.querySelector('[aria-label^="New value for Authorization"]').value = 'Bearer new';
      [...ed.node.querySelectorAll('button')].find((b) => b.textContent === 'Add header').click();
      const row = [...ed.node.querySelectorAll('.header-row')].pop();
      row.querySelector('input.header-name').value = 'X-Shop';
      row.querySelector('input.header-value').value = 's3cret';
      const changed = ed.read();
      row.querySelector('input.header-value').value = '';
      const missing = ed.read();
      row.querySelector('input.header-name').value = 'bad name';
      row.querySelector('input.header-value').value = 'v';
      const badName = ed.read();
      return [untouched, changed, missing, badName];""")
    untouched, changed, missing, bad_name = got
    assert untouched == {"headers": {"Authorization": None, "X-Old": None}}
    assert changed == {"headers": {"Authorization": "Bearer new", "X-Shop": "s3cret"}}
    assert missing == {"error": "Header X-Shop needs a value."}
    assert bad_name["error"].startswith("“bad name” is not a header name")


def test_tool_picks_have_one_key_each(page) -> None:
    picks = [{"type": "action", "id": "a1"}, {"type": "mcp", "server_id": "s1", "tool": "echo"}, {"type": "builtin", "name": "handoff"}]
    assert run(page, "bot_tools.js", "return arg.map(m.pickKey);", picks) == ["action:a1", "mcp:s1:echo", "builtin:handoff"]
